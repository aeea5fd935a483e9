/**
 * `npm run cluster -- --gallery DIR [--json FILE] [--score-folders]`
 *
 * Imports DIR as a photo library through the real app (headless Chromium,
 * a fresh profile: folder names are ignored, every face of every photo is
 * indexed and grouped into people by the app's own clustering) and writes
 * `{ "faces": [{ "file", "box": [x, y, w, h], "cluster" }], "clusters": N }`,
 * files relative to DIR, faces in path then reading order. With
 * --score-folders it also prints BCubed precision and recall of the people
 * against the photos' folder names (a labelled tree such as lfw-dev; faces
 * not yet grouped count as singletons): over every face, and over the
 * largest face of each photo, the one such a folder names (a bystander's
 * face gets the folder's name too in the first score, wrongly).
 */
import { resolve } from 'node:path';
import { argValue, runCliMain, writeJsonIfAsked } from './browser.ts';
import { openLibrary, relativeToRoot, type LibraryWindow } from './libraryApp.ts';
import { bcubed } from './study/bcubed.ts';

export interface ClusterJson {
  readonly faces: { readonly file: string; readonly box: readonly number[]; readonly cluster: string }[];
  readonly clusters: number;
}

export async function runCluster(dir: string, log: (s: string) => void): Promise<ClusterJson> {
  const app = await openLibrary(dir, log);
  try {
    const faces = await app.page.evaluate(() => (window as unknown as LibraryWindow).__deepfaceEmd.libraryFaces());
    // A face not grouped yet (no threshold for the recognizer) is a person of its own.
    const cluster = (f: (typeof faces)[number]) => f.label || `unplaced:${f.key}`;
    return {
      faces: faces.map((f) => ({ file: relativeToRoot(f.path, app.root), box: [...f.box], cluster: cluster(f) })),
      clusters: new Set(faces.map(cluster)).size,
    };
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dir = argValue(argv, 'gallery');
  if (!dir) throw new Error('give the photo folder: npm run cluster -- --gallery DIR [--json FILE] [--score-folders]');
  const out = await runCluster(resolve(dir), (s) => process.stderr.write(s));
  console.log(`${out.faces.length} faces in ${new Set(out.faces.map((f) => f.file)).size} photos, ${out.clusters} people`);
  if (argv.includes('--score-folders')) {
    const folder = (file: string) => file.split('/').slice(0, -1).join('/');
    const score = (faces: ClusterJson['faces']) =>
      bcubed(
        faces.map((f) => f.cluster),
        faces.map((f) => folder(f.file)),
      );
    const all = score(out.faces);
    // In LFW-style folders the folder names the photo's subject, usually its largest face; other faces are bystanders the name is wrong for.
    const largest = new Map<string, ClusterJson['faces'][number]>();
    for (const f of out.faces) {
      const kept = largest.get(f.file);
      if (!kept || f.box[2] * f.box[3] > kept.box[2] * kept.box[3]) largest.set(f.file, f);
    }
    const subjects = score([...largest.values()]);
    const pct = (x: number) => (100 * x).toFixed(2);
    console.log(`BCubed against folder names, every face: precision ${pct(all.precision)}, recall ${pct(all.recall)}`);
    console.log(`BCubed against folder names, the largest face of each photo (${largest.size} faces): precision ${pct(subjects.precision)}, recall ${pct(subjects.recall)}`);
  }
  writeJsonIfAsked(argv, out);
}

runCliMain('cluster', import.meta.url, main);

/**
 * Does the damage-matched library search (src/app/matchedLibrarySearch.ts)
 * still help when the library's occluders are not the app's own drawings?
 * The group-photo study draws the library's masks and sunglasses with the
 * same generators the search draws on the query, which flatters it. Here the
 * library's damaged faces are the paper authors' own masked and glasses faces
 * (`paper-small`: 5 people, 2 photos each, in both versions, other
 * generators), among clean lfw-dev strangers; each clean paper-small photo
 * is the query, and the target is the person's other photo as masked (then
 * as in glasses), with the query photo's own versions and the other
 * photo's other version left out of that query's library.
 *
 *   npx tsx bench/study/matchedForeign.ts [--strangers 500]
 *
 * Prints, per query and target, the target's rank in the plain and in the
 * matched search (stage 1, the app's default settings, CPU), and how often
 * it is first.
 */
import { readFileSync } from 'node:fs';
import { matchedLibrarySearch } from '../../src/app/matchedLibrarySearch.ts';
import { AppError } from '../../src/core/errors.ts';
import { DEFAULT_SETTINGS, type OodTransform } from '../../src/core/types.ts';
import { parseDamageDetector } from '../../src/engine/damageDetector.ts';
import { SearchEngine } from '../../src/engine/searchEngine.ts';
import { embedderFor } from '../../src/face/embedderFor.ts';
import { extractFace } from '../../src/face/extractFace.ts';
import { FaceDetector } from '../../src/face/detector.ts';
import { LandmarkModel } from '../../src/face/landmarks.ts';
import { FacePipeline } from '../../src/face/pipeline.ts';
import type { LoadedModel } from '../../src/models/loadModels.ts';
import { DEFAULT_RECOGNIZER_ID } from '../../src/models/pipelines.ts';
import { resolveRecognizer } from '../../src/models/recognizers.ts';
import { listIdentityImages } from '../../tests/unit/face/helpers/data.ts';
import { decodeImageNode } from '../../tests/unit/face/helpers/decodeNode.ts';
import { loadSession, modelEntry, readManifest } from '../../tests/unit/face/helpers/models.ts';
import { argValue } from '../browser.ts';
import { shippedMatchedNap } from './shared.ts';

async function main(): Promise<void> {
  const nap = shippedMatchedNap();
  const strangers = Number(argValue(process.argv.slice(2), 'strangers') ?? 500);
  const byId = new Map<string, LoadedModel>();
  for (const id of ['mobilefacenet-arcface', 'faceres']) {
    const entry = modelEntry(id);
    byId.set(id, { entry, session: await loadSession(entry), backend: 'wasm', loadMs: 0 });
  }
  const pipeline = new FacePipeline({
    detector: new FaceDetector(await loadSession(modelEntry('ultraface-detector'))),
    landmarks: new LandmarkModel(await loadSession(modelEntry('pfld-landmarks68'))),
    recognizer: embedderFor(DEFAULT_RECOGNIZER_ID, byId),
  });
  const face = (im: { path: string; name: string }, purpose: 'gallery' | 'query', ood: OodTransform = 'none') =>
    extractFace(pipeline, decodeImageNode(new Uint8Array(readFileSync(im.path)), im.name), im.name, { purpose, ood, seed: 7 }).catch((e: unknown) => {
      if (e instanceof AppError) return null;
      throw e;
    });
  const model = parseDamageDetector(readFileSync(new URL('../../src/models/damage/faceres-damage.bin', import.meta.url)), 'faceres-damage.bin');
  const engine = new SearchEngine({ accelerator: null, damageDetector: { model }, fusedCosine: resolveRecognizer(readManifest(), DEFAULT_RECOGNIZER_ID).fusedCosine });
  const people = new Set(listIdentityImages('paper-small/lfw-align-128').map((im) => im.identity));
  const settings = { ...DEFAULT_SETTINGS, backend: 'cpu' as const };
  let added = 0;
  for (const folder of ['lfw-align-128-masked', 'lfw-align-128-glass'])
    for (const im of listIdentityImages(`paper-small/${folder}`)) {
      const f = await face(im, 'gallery');
      if (!f) continue;
      engine.add([{ id: `${folder}:${im.name}`, label: im.identity, features: f.features }]);
      added++;
    }
  const damagedAdded = added;
  for (const im of listIdentityImages('lfw-dev')) {
    if (added - damagedAdded >= strangers) break;
    if (people.has(im.identity)) continue;
    const f = await face(im, 'gallery');
    if (!f) continue;
    engine.add([{ id: `dev:${im.name}`, label: im.identity, features: f.features }]);
    added++;
    process.stderr.write(`\r${added} faces   `);
  }
  process.stderr.write('\n');
  const damageKinds = engine.galleryDamage(engine.ids().filter((id) => !id.startsWith('dev:')));
  console.log(
    `library: ${damagedAdded} of the authors' damaged faces (the detector read: ${JSON.stringify(Array.isArray(damageKinds) ? countOf(damageKinds) : damageKinds)}), ${added - damagedAdded} clean lfw-dev strangers`,
  );
  // The rank of `target` once the `left out` faces are taken out of the list (the others keep their order: each face's
  // score, and its level in the matched search, does not depend on which other faces are in the library).
  const rankOf = (list: readonly { id: string }[], target: string, leftOut: (id: string) => boolean) => {
    const i = list.filter((h) => !leftOut(h.id)).findIndex((h) => h.id === target);
    return i < 0 ? Infinity : i + 1;
  };
  const firsts = { plain: 0, matched: 0 };
  let n = 0;
  for (const im of listIdentityImages('paper-small/lfw-align-128')) {
    const q = await face(im, 'query');
    if (!q) continue;
    const plain = await engine.search(q.features, settings, { stage1Length: 200 });
    const matched = await matchedLibrarySearch(
      engine,
      q.features,
      { ...settings, k: 200 },
      async (kind) => {
        const d = await face(im, 'query', kind);
        if (!d) throw new Error(`${im.name}: no face when drawn with ${kind}`);
        return d.features;
      },
      nap,
    );
    const other = listIdentityImages('paper-small/lfw-align-128').find((o) => o.identity === im.identity && o.name !== im.name);
    if (!other) continue;
    for (const [folder, otherFolder] of [
      ['lfw-align-128-masked', 'lfw-align-128-glass'],
      ['lfw-align-128-glass', 'lfw-align-128-masked'],
    ]) {
      // The query photo's own versions, and the other photo's other version, are not in this query's library.
      const leftOut = (id: string) => id.endsWith(`:${im.name}`) || id === `${otherFolder}:${other.name}`;
      const target = `${folder}:${other.name}`;
      const rp = rankOf(plain.stage1, target, leftOut);
      const rm = rankOf(matched.stage1, target, leftOut);
      n++;
      firsts.plain += rp === 1 ? 1 : 0;
      firsts.matched += rm === 1 ? 1 : 0;
      console.log(`${im.name} → ${folder}/${other.name}: rank ${rp} plain, ${rm} matched`);
    }
  }
  console.log(`rank 1: plain ${firsts.plain}/${n}, matched ${firsts.matched}/${n}`);
}

function countOf(xs: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[x] = (out[x] ?? 0) + 1;
  return out;
}

await main();

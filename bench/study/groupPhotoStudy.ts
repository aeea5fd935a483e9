/**
 * Issue 17's group-photo targets, measured with the app's own code in Node
 * (the default pipeline: FaceRes alignment, fused MobileFaceNet + FaceRes
 * embedding, FaceRes patches; libraryFaces for every face of a photo; the
 * SearchEngine with the default settings).
 *
 * `npx tsx bench/study/groupPhotoStudy.ts [--photos 150] [--seed 29] [--damaged 0.4] [--alpha A] [--queries none,mask] [--unmatched] [--dump FILE [--dump-drawn] [--dump-mirrored]]`
 * composes group photos from lfw-dev (2-4 identities that have at least two
 * photos, each identity's first photo, 0.6-1.2x, the outer photos sometimes
 * cut by the edge; with --damaged f, a share f of the placed faces wear the
 * mask or the sunglasses generator, half each, drawn on the source photo
 * from its own 68 landmarks before composing), finds every face, and prints:
 * - how many placed faces were found (a found box holds the placed face's centre);
 * - for each placed identity, queried with its second photo (its largest
 *   face, clean and with the mask and sunglasses generators), whether the
 *   first result after stage 1 and after stage 2 is a face in a photo that
 *   shows that identity.
 * The search is the app's library search (src/app/matchedLibrarySearch.ts):
 * a clean query is also compared through its drawings with a mask and with
 * sunglasses, each library face against the version that wears what it
 * wears; the plain search's numbers are printed beside it (--unmatched: only
 * those). The query's generators are drawn on the query; the placed faces' (with
 * --damaged) on the library's photos. The photos and the queries are the same
 * for a seed whatever --damaged is (the damage draws its own random numbers).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { serialize } from 'node:v8';
import { matchedLibrarySearch } from '../../src/app/matchedLibrarySearch.ts';
import { AppError } from '../../src/core/errors.ts';
import { seededRandom } from '../../src/core/random.ts';
import { DEFAULT_SETTINGS, type FaceFeatures, type OodTransform } from '../../src/core/types.ts';
import { detectDamage, parseDamageDetector } from '../../src/engine/damageDetector.ts';
import { blendScore } from '../../src/engine/rerank.ts';
import { SearchEngine } from '../../src/engine/searchEngine.ts';
import { embedderFor } from '../../src/face/embedderFor.ts';
import { extractFace } from '../../src/face/extractFace.ts';
import { FaceDetector } from '../../src/face/detector.ts';
import { LandmarkModel } from '../../src/face/landmarks.ts';
import { FacePipeline } from '../../src/face/pipeline.ts';
import { applyOod, drawMask, drawSunglasses } from '../../src/face/ood.ts';
import { libraryFaces } from '../../src/library/libraryFaces.ts';
import type { LoadedModel } from '../../src/models/loadModels.ts';
import { DEFAULT_RECOGNIZER_ID } from '../../src/models/pipelines.ts';
import { resolveRecognizer } from '../../src/models/recognizers.ts';
import { listIdentityImages } from '../../tests/unit/face/helpers/data.ts';
import { decodeImageNode } from '../../tests/unit/face/helpers/decodeNode.ts';
import { loadSession, modelEntry, readManifest } from '../../tests/unit/face/helpers/models.ts';
import { mirror } from '../../tests/unit/face/helpers/imageOps.ts';
import { composeGroupPhoto, type SourcePhoto } from '../../tests/unit/library/helpers/groupPhoto.ts';
import { argValue } from '../browser.ts';
import { shippedMatchedNap } from './shared.ts';

const MAX_CUT = 0.34;

async function defaultPipeline(): Promise<FacePipeline> {
  const byId = new Map<string, LoadedModel>();
  for (const id of ['mobilefacenet-arcface', 'faceres']) {
    const entry = modelEntry(id);
    byId.set(id, { entry, session: await loadSession(entry), backend: 'wasm', loadMs: 0 });
  }
  return new FacePipeline({
    detector: new FaceDetector(await loadSession(modelEntry('ultraface-detector'))),
    landmarks: new LandmarkModel(await loadSession(modelEntry('pfld-landmarks68'))),
    recognizer: embedderFor(DEFAULT_RECOGNIZER_ID, byId),
  });
}

async function main(): Promise<void> {
  const nap = shippedMatchedNap();
  const argv = process.argv.slice(2);
  const photos = Number(argValue(argv, 'photos') ?? 150);
  const seed = Number(argValue(argv, 'seed') ?? 29);
  const random = seededRandom(seed);
  const damaged = Number(argValue(argv, 'damaged') ?? 0);
  const damageRandom = seededRandom(seed + 1);
  // --alpha a: stage 2 at a fixed alpha for every query instead of the default's per-query rule.
  const fixedAlpha = argValue(argv, 'alpha');
  const settings = { ...DEFAULT_SETTINGS, backend: 'cpu' as const, ...(fixedAlpha === undefined ? {} : { alpha: Number(fixedAlpha), adaptiveAlpha: null }) };
  const queryKinds = (argValue(argv, 'queries') ?? 'none,mask,sunglasses').split(',') as OodTransform[];
  const foundBy = new Map<OodTransform, { placed: number; found: number }>();
  /** What each placed identity wears in the library. */
  const wearOf = new Map<string, OodTransform>();
  const pipeline = await defaultPipeline();
  const byId = new Map<string, { path: string; name: string }[]>();
  for (const im of listIdentityImages('lfw-dev')) byId.set(im.identity, [...(byId.get(im.identity) ?? []), im]);
  const people = [...byId].filter(([, ims]) => ims.length >= 2).map(([id]) => id);
  const alone = async (identity: string, n: number, ood: OodTransform = 'none', mirrored = false) => {
    const im = (byId.get(identity) ?? [])[n];
    const image = decodeImageNode(new Uint8Array(readFileSync(im.path)), im.name);
    return extractFace(pipeline, mirrored ? mirror(image) : image, im.name, { purpose: 'query', ood, seed: 7 }).catch((e: unknown) => {
      if (e instanceof AppError) return null;
      throw e;
    });
  };
  // The app's engine as the worker builds it, with the shipped damage detector behind the default's alpha rule.
  const detectorFile = new URL('../../src/models/damage/faceres-damage.bin', import.meta.url);
  const damageModel = parseDamageDetector(readFileSync(detectorFile), 'faceres-damage.bin');
  const engine = new SearchEngine({ accelerator: null, damageDetector: { model: damageModel }, fusedCosine: resolveRecognizer(readManifest(), DEFAULT_RECOGNIZER_ID).fusedCosine });
  // --candidate-alpha: also score each pair at the alpha of the candidate's damage when the query reads clean (not in the app).
  const candidateAlpha = argv.includes('--candidate-alpha');
  // The app's library search compares a clean query through its drawings with a mask and sunglasses; --unmatched measures the plain search alone.
  const matched = !argv.includes('--unmatched');
  // --dump FILE: the library's faces and the clean queries with their drawings (v8 serialised) for groupPhotoReplay.ts;
  // --dump-drawn: also every library face drawn with each occluder on its aligned crop (two more recognizer passes a face);
  // --dump-mirrored: also each query version made from the query photo mirrored ('none~mirrored', ...).
  const dumpFile = argValue(argv, 'dump');
  const dumpDrawn = argv.includes('--dump-drawn');
  const dumpMirrored = argv.includes('--dump-mirrored');
  const dumpLibrary: { id: string; features: FaceFeatures; drawn?: Partial<Record<OodTransform, FaceFeatures>> }[] = [];
  const dumpQueries: { identity: string; versions: Record<string, FaceFeatures> }[] = [];
  const candidateKind = new Map<string, OodTransform>();
  const photoPeople = new Map<number, Set<string>>();
  const used = new Set<string>();
  let placed = 0;
  let found = 0;
  const t0 = Date.now();
  for (let g = 0; g < photos; g++) {
    const n = 2 + Math.floor(random() * 3);
    const sources: SourcePhoto[] = [];
    const ids: string[] = [];
    const wears: OodTransform[] = [];
    while (sources.length < n) {
      const id = people[Math.floor(random() * people.length)];
      if (used.has(id) || ids.includes(id)) continue;
      const a = await alone(id, 0);
      if (!a) continue;
      const im = (byId.get(id) ?? [])[0];
      const { x, y, width, height } = a.faces[a.chosenIndex];
      let image = decodeImageNode(new Uint8Array(readFileSync(im.path)), im.name);
      const r = damageRandom();
      const wear: OodTransform = r < damaged / 2 ? 'mask' : r < damaged ? 'sunglasses' : 'none';
      if (wear !== 'none') {
        // The chosen face's own landmarks in the photo (the same detector and landmark model as the app).
        const face = (await pipeline.findFaces(image)).faces.find((f) => f.box.x1 === x && f.box.y1 === y && f.box.x2 - f.box.x1 === width && f.box.y2 - f.box.y1 === height);
        if (!face) throw new Error(`${im.name}: the chosen face is not among the faces found again`);
        image = wear === 'mask' ? drawMask(image, face.landmarks68) : drawSunglasses(image, face.landmarks68);
      }
      sources.push({ name: im.name, image, face: { x, y, width, height } });
      wears.push(wear);
      ids.push(id);
      wearOf.set(id, wear);
    }
    for (const id of ids) used.add(id);
    const scales = sources.map(() => 0.6 + 0.6 * random());
    const cutLeft = random() < 0.5 ? random() * MAX_CUT : 0;
    const cutRight = random() < 0.5 ? random() * MAX_CUT : 0;
    const group = composeGroupPhoto(sources, { scales, cutLeft, cutRight, gap: Math.floor(random() * 20) }, random);
    const faces = await libraryFaces(pipeline, group.image);
    faces.forEach((f, i) => engine.add([{ id: `${g}#${i}`, label: `photo ${g}`, features: f.features }]));
    for (const [i, f] of dumpFile ? faces.entries() : []) {
      if (!dumpDrawn) {
        dumpLibrary.push({ id: `${g}#${i}`, features: f.features });
        continue;
      }
      // Drawn on the face's own aligned crop, as the query's drawings are.
      const [mask] = await pipeline.embed([applyOod('mask', f.alignment, 7)]);
      const [sunglasses] = await pipeline.embed([applyOod('sunglasses', f.alignment, 7)]);
      dumpLibrary.push({ id: `${g}#${i}`, features: f.features, drawn: { mask, sunglasses } });
    }
    if (candidateAlpha) faces.forEach((f, i) => candidateKind.set(`${g}#${i}`, detectDamage(damageModel, f.features.patches).kind));
    photoPeople.set(g, new Set());
    group.placements.forEach((p, i) => {
      placed++;
      const tally = foundBy.get(wears[i]) ?? { placed: 0, found: 0 };
      foundBy.set(wears[i], tally);
      tally.placed++;
      const cx = p.face.x + p.face.width / 2;
      const cy = p.face.y + p.face.height / 2;
      if (faces.some((f) => cx >= f.box.x && cx <= f.box.x + f.box.width && cy >= f.box.y && cy <= f.box.y + f.box.height)) {
        found++;
        tally.found++;
        photoPeople.get(g)?.add(ids[i]);
      }
    });
    process.stderr.write(`\r${g + 1}/${photos} photos, ${found}/${placed} faces found, ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
  }
  process.stderr.write('\n');
  console.log(`placed faces found: ${found}/${placed} (${((100 * found) / placed).toFixed(2)}%), library of ${engine.size} faces in ${photos} photos`);
  for (const [wear, t] of foundBy) console.log(`  wearing ${wear}: ${t.found}/${t.placed} found`);
  const photoOf = (id: string) => Number(id.split('#')[0]);
  for (const ood of queryKinds) {
    let n = 0;
    let s1 = 0;
    let s2 = 0;
    /** The same, split by what the person wears in the library. */
    const byWear = new Map<OodTransform, { n: number; s1: number; s2: number; sp: number; m1: number; m2: number }>();
    /** What the damage detector read in the queries, and the alpha each got. */
    const reads = new Map<string, number>();
    let sPair = 0;
    /** Which version of the query the matched search's top-1 was compared with. */
    const vias = new Map<OodTransform, number>();
    for (const id of used) {
      const q = await alone(id, 1, ood);
      if (!q) continue;
      n++;
      const versions: Record<string, FaceFeatures> = { none: q.features };
      if (dumpFile && ood === 'none') dumpQueries.push({ identity: id, versions });
      const r = await engine.search(q.features, settings);
      const read = `${r.damage && 'kind' in r.damage ? r.damage.kind : 'unread'} (alpha ${String(r.alpha)})`;
      let hitPair = 0;
      if (candidateAlpha) {
        const byDamage = DEFAULT_SETTINGS.adaptiveAlpha?.byDamage;
        if (!byDamage) throw new Error('the default has no alpha by damage');
        const queryKind = r.damage && 'kind' in r.damage ? r.damage.kind : 'none';
        const pairAlpha = (id: string) => (queryKind === 'none' ? byDamage[candidateKind.get(id) ?? 'none'] : r.alpha);
        const best = r.stage2.reduce((a, b) => (blendScore(b.sEmd, b.sCos, pairAlpha(b.id)) > blendScore(a.sEmd, a.sCos, pairAlpha(a.id)) ? b : a));
        hitPair = photoPeople.get(photoOf(best.id))?.has(id) ? 1 : 0;
        sPair += hitPair;
      }
      // The app's library search: a clean query is also compared through its drawings (src/app/matchedLibrarySearch.ts).
      let matchedHits: [number, number] = [0, 0];
      if (matched) {
        const mr = await matchedLibrarySearch(
          engine,
          q.features,
          settings,
          async (kind) => {
            const drawn = await alone(id, 1, kind);
            if (!drawn) throw new Error(`${id}: the query's face was not found again`);
            versions[kind] = drawn.features;
            return drawn.features;
          },
          nap,
        );
        matchedHits = [photoPeople.get(photoOf(mr.stage1[0].id))?.has(id) ? 1 : 0, photoPeople.get(photoOf(mr.stage2[0].id))?.has(id) ? 1 : 0];
        for (const h of mr.stage2.slice(0, 1)) vias.set(h.via, (vias.get(h.via) ?? 0) + 1);
      }
      if (dumpFile && dumpMirrored && ood === 'none')
        for (const kind of Object.keys(versions) as OodTransform[]) {
          const m = await alone(id, 1, kind, true);
          if (m) versions[`${kind}~mirrored`] = m.features;
        }
      reads.set(read, (reads.get(read) ?? 0) + 1);
      const hit1 = photoPeople.get(photoOf(r.stage1[0].id))?.has(id) ? 1 : 0;
      const hit2 = photoPeople.get(photoOf(r.stage2[0].id))?.has(id) ? 1 : 0;
      s1 += hit1;
      s2 += hit2;
      const w = byWear.get(wearOf.get(id) ?? 'none') ?? { n: 0, s1: 0, s2: 0, sp: 0, m1: 0, m2: 0 };
      byWear.set(wearOf.get(id) ?? 'none', { n: w.n + 1, s1: w.s1 + hit1, s2: w.s2 + hit2, sp: w.sp + hitPair, m1: w.m1 + matchedHits[0], m2: w.m2 + matchedHits[1] });
    }
    const pct = (x: number, of: number) => `${((100 * x) / of).toFixed(2)}%`;
    const m1 = [...byWear.values()].reduce((a, t) => a + t.m1, 0);
    const m2 = [...byWear.values()].reduce((a, t) => a + t.m2, 0);
    if (matched)
      console.log(
        `${ood}: ${n} queries, a photo showing the person at rank 1 (the app's search): stage 1 ${pct(m1, n)}, stage 2 ${pct(m2, n)}; top-1 compared via ${[...vias].map(([k, c]) => `${k} ${c}`).join(', ')}`,
      );
    console.log(`${ood}: ${n} queries, a photo showing the person at rank 1${matched ? ' (plain search, no drawn versions)' : ''}: stage 1 ${pct(s1, n)}, stage 2 ${pct(s2, n)}`);
    console.log(`  the detector read: ${[...reads].map(([k, c]) => `${k} ${c}`).join(', ')}`);
    if (candidateAlpha) console.log(`  with the candidate's alpha for clean queries: ${((100 * sPair) / n).toFixed(2)}%`);
    if (damaged > 0)
      for (const [w, t] of byWear)
        console.log(
          `  person wearing ${w} in the library: ${t.n} queries,${matched ? ` the app's search ${pct(t.m1, t.n)} → ${pct(t.m2, t.n)}; plain` : ''} stage 1 ${pct(t.s1, t.n)}, stage 2 ${pct(t.s2, t.n)}${candidateAlpha ? `, candidate's alpha ${pct(t.sp, t.n)}` : ''}`,
        );
  }
  if (dumpFile) {
    const photoPeopleOut = Object.fromEntries([...photoPeople].map(([g, s]) => [g, [...s]]));
    writeFileSync(dumpFile, serialize({ library: dumpLibrary, queries: dumpQueries, photoPeople: photoPeopleOut, wearOf: Object.fromEntries(wearOf) }));
    console.log(`dumped ${dumpLibrary.length} library faces and ${dumpQueries.length} queries to ${dumpFile}`);
  }
}

if (process.argv[1]?.endsWith('groupPhotoStudy.ts')) await main();

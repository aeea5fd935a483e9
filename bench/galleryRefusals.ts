/**
 * `npx tsx bench/galleryRefusals.ts [--report FILE] [--sample-every N] [--refs N] [--recognizer ID] [--json FILE]`
 *
 * What the gallery rule (src/face/extractFace.ts selectFace: drop detections
 * that are not whole faces, then the only / largest / clearly central face)
 * does to the lfw-dev images the app refused, and that it leaves the
 * accepted ones alone. Runs the app's face pipeline in Node (single-threaded
 * WASM, one set of sessions), sequentially.
 *
 * - Refused set: the 'several-faces' failures of an evaluation report
 *   (default .cache/reports/default-none.json, written by `npm run eval`).
 *   For each: today's rule (refuse when a second face is > 0.7 x the largest)
 *   and the new outcome. Node decodes JPEG with jpeg-js, not the browser's
 *   decoder, so a few images get other detections than in the app; both
 *   counts are printed.
 * - Is the indexed face the labelled person? Each newly indexed face is
 *   embedded with the default recognizer, as is every other whole face of
 *   the photo and up to --refs other images of the same identity (evenly
 *   spaced, their own gallery face). Verified when (a) its nearest neighbour
 *   among those references and the accepted sample's faces of other
 *   identities is an image of its identity, and (b) it is closer to the
 *   identity's images (best cosine) than every other face of the photo is.
 *   Identities with no other image cannot be checked and are counted apart.
 * - Accepted sample: every --sample-every'th lfw-dev image not in the
 *   refused set; the face indexed must be the same as today's (same box),
 *   with no notice.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import type { FaceFeatures, RgbaImage } from '../src/core/types.ts';
import { AppError } from '../src/core/errors.ts';
import { boxArea, type FaceBox } from '../src/face/detector.ts';
import { selectFace, type FaceSelection } from '../src/face/extractFace.ts';
import { FusedRecognizer } from '../src/face/fusedRecognizer.ts';
import { FacePipeline, type FaceAnalysis } from '../src/face/pipeline.ts';
import { faceShapeMeasures, implausibleFaceReason, type FaceShapeMeasures } from '../src/face/plausibleFaces.ts';
import { Recognizer } from '../src/face/recognizer.ts';
import { DEFAULT_RECOGNIZER_ID, fusedPipeline } from '../src/models/pipelines.ts';
import { referenceCosine } from '../tests/support/vectors.ts';
import { DATA_DIR, listIdentityImages, REPO_ROOT } from '../tests/unit/face/helpers/data.ts';
import { decodeImageNode } from '../tests/unit/face/helpers/decodeNode.ts';
import { createPipeline, loadSession, modelEntry } from '../tests/unit/face/helpers/models.ts';

const { values: args } = parseArgs({
  options: {
    report: { type: 'string', default: join(REPO_ROOT, '.cache/reports/default-none.json') },
    'sample-every': { type: 'string', default: '16' },
    refs: { type: 'string', default: '10' },
    recognizer: { type: 'string', default: DEFAULT_RECOGNIZER_ID },
    json: { type: 'string', default: join(REPO_ROOT, '.cache/reports/gallery-refusals.json') },
  },
});
const sampleEvery = Number(args['sample-every']);
const refsPerIdentity = Number(args.refs);

async function pipelineFor(recognizerId: string): Promise<FacePipeline> {
  const fused = fusedPipeline(recognizerId);
  if (!fused) return (await createPipeline(recognizerId)).pipeline;
  const primary = await createPipeline(fused.primary);
  const secondaryEntry = modelEntry(fused.secondary);
  const secondary = new Recognizer(await loadSession(secondaryEntry), secondaryEntry);
  const recognizer = new FusedRecognizer(primary.recognizer, secondary, { secondaryWeight: fused.secondaryWeight });
  return new FacePipeline({ detector: primary.detector, landmarks: primary.landmarks, recognizer });
}

/** The rule the app used before: refuse when a second face is larger than 0.7 x the largest, else the largest. */
function todaysChoice(a: FaceAnalysis): number | 'refused' {
  const areas = a.faces.map((f) => boxArea(f.box)).sort((x, y) => y - x);
  return areas.length > 1 && areas[1] > 0.7 * areas[0] ? 'refused' : a.chosenIndex;
}

type Outcome = 'indexed' | 'indexed-with-notice' | 'refused' | 'no-face';

interface Examined {
  readonly image: RgbaImage;
  readonly analysed: FaceAnalysis;
  readonly today: number | 'refused';
  readonly outcome: Outcome;
  readonly selection?: FaceSelection;
  /** Reasons for the detections dropped as not whole faces. */
  readonly dropped: readonly string[];
}

interface Row {
  readonly name: string;
  readonly set: 'refused' | 'sample';
  readonly detections: number;
  /** The indexed face's box (edge coordinates), when indexed. */
  readonly chosenBox?: FaceBox;
  readonly dropped: readonly string[];
  readonly today: 'indexed' | 'refused' | 'no-face';
  readonly outcome: Outcome;
  readonly sameFaceAsToday?: boolean;
  readonly check?: {
    readonly verdict: 'verified' | 'not-verified' | 'no-other-image';
    readonly nearestIsLabelled?: boolean;
    readonly beatsOtherFaces?: boolean;
    readonly bestSame?: number;
    readonly bestOtherFace?: number;
    readonly refs: number;
  };
}

const pipeline = await pipelineFor(args.recognizer);
const all = listIdentityImages('lfw-dev');
const byName = new Map(all.map((im) => [im.name, im]));
const report = JSON.parse(readFileSync(args.report, 'utf8')) as { failed_images?: { file: string; code: string }[] };
const refusedNames = (report.failed_images ?? []).filter((f) => f.code === 'several-faces').map((f) => f.file.replace(/^lfw-dev\//, ''));
const refusedSet = new Set(refusedNames);
const sample = all.filter((im, i) => i % sampleEvery === 0 && !refusedSet.has(im.name));

async function examine(name: string): Promise<Examined | null> {
  const im = byName.get(name);
  if (!im) throw new Error(`${name} is not in ${join(DATA_DIR, 'lfw-dev')}`);
  const image = decodeImageNode(new Uint8Array(readFileSync(im.path)), name);
  let analysed: FaceAnalysis;
  try {
    analysed = await pipeline.analyse(image, name);
  } catch (e) {
    if (e instanceof AppError && e.code === 'no-face') return null;
    throw e;
  }
  // selectFace keeps every detection when none is a whole face, so only then are the reasons drops.
  const reasons = analysed.faces.map(implausibleFaceReason);
  const dropped = reasons.includes(null) ? reasons.flatMap((r) => r ?? []) : [];
  const today = todaysChoice(analysed);
  try {
    const selection = selectFace(pipeline, image, analysed, { purpose: 'gallery' });
    return { image, analysed, today, selection, dropped, outcome: selection.notice ? 'indexed-with-notice' : 'indexed' };
  } catch (e) {
    if (e instanceof AppError && e.code === 'several-faces') return { image, analysed, today, dropped, outcome: 'refused' };
    throw e;
  }
}

const embeddings = new Map<string, Float32Array | null>();
/** The gallery face's embedding of one image, or null when it is not indexed. */
async function galleryEmbedding(name: string): Promise<Float32Array | null> {
  const known = embeddings.get(name);
  if (known !== undefined) return known;
  const ex = await examine(name);
  const features = ex?.selection ? (await pipeline.embed([ex.selection.analysis]))[0] : null;
  const e = features ? features.embedding : null;
  embeddings.set(name, e);
  return e;
}

function evenlySpaced<T>(items: readonly T[], n: number): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, k) => items[Math.floor((k * items.length) / n)]);
}

const t0 = performance.now();
const rows: Row[] = [];
const distractors: { identity: string; embedding: Float32Array }[] = [];
/** The rules' measures of the sample's lone detections: whole faces, so the thresholds must sit beyond their extremes. */
const loneFaces: FaceShapeMeasures[] = [];
const chosenBoxOf = (ex: Examined) => ex.selection?.analysis.faces[ex.selection.analysis.chosenIndex].box;

for (const im of sample) {
  const ex = await examine(im.name);
  if (!ex) {
    rows.push({ name: im.name, set: 'sample', detections: 0, dropped: [], today: 'no-face', outcome: 'no-face' });
    continue;
  }
  if (ex.analysed.faces.length === 1) loneFaces.push(faceShapeMeasures(ex.analysed.faces[0]));
  const todayFace = ex.today === 'refused' ? undefined : ex.analysed.faces[ex.today];
  const nowFace = ex.selection?.analysis.faces[ex.selection.analysis.chosenIndex];
  rows.push({
    name: im.name,
    set: 'sample',
    detections: ex.analysed.faces.length,
    chosenBox: chosenBoxOf(ex),
    dropped: ex.dropped,
    today: ex.today === 'refused' ? 'refused' : 'indexed',
    outcome: ex.outcome,
    sameFaceAsToday: todayFace !== undefined && todayFace === nowFace,
  });
  if (ex.selection) {
    const [f] = await pipeline.embed([ex.selection.analysis]);
    embeddings.set(im.name, f.embedding);
    distractors.push({ identity: im.identity, embedding: f.embedding });
  }
}

for (const name of refusedNames) {
  const identity = name.split('/')[0];
  const ex = await examine(name);
  if (!ex) {
    rows.push({ name, set: 'refused', detections: 0, dropped: [], today: 'no-face', outcome: 'no-face' });
    continue;
  }
  const base = {
    name,
    set: 'refused' as const,
    detections: ex.analysed.faces.length,
    chosenBox: chosenBoxOf(ex),
    dropped: ex.dropped,
    today: ex.today === 'refused' ? ('refused' as const) : ('indexed' as const),
    outcome: ex.outcome,
  };
  if (!ex.selection) {
    rows.push(base);
    continue;
  }
  const { analysis } = ex.selection;
  // Every whole face of the photo, the indexed one first.
  const others = analysis.faces.map((_, j) => j).filter((j) => j !== analysis.chosenIndex);
  const faces: FaceFeatures[] = await pipeline.embed([analysis, ...others.map((j) => pipeline.realign(ex.image, analysis, j))]);
  const [chosen, ...otherFaces] = faces.map((f) => f.embedding);
  const refNames = evenlySpaced(
    all.filter((o) => o.identity === identity && o.name !== name).map((o) => o.name),
    refsPerIdentity,
  );
  const refs: Float32Array[] = [];
  for (const r of refNames) {
    const e = await galleryEmbedding(r);
    if (e) refs.push(e);
  }
  if (refs.length === 0) {
    rows.push({ ...base, check: { verdict: 'no-other-image', refs: 0 } });
    continue;
  }
  const best = (e: Float32Array) => Math.max(...refs.map((r) => referenceCosine(e, r)));
  const bestSame = best(chosen);
  const bestDistractor = Math.max(...distractors.filter((d) => d.identity !== identity).map((d) => referenceCosine(chosen, d.embedding)));
  const bestOtherFace = otherFaces.length > 0 ? Math.max(...otherFaces.map(best)) : undefined;
  const nearestIsLabelled = bestSame > bestDistractor;
  const beatsOtherFaces = bestOtherFace === undefined || bestSame > bestOtherFace;
  rows.push({ ...base, check: { verdict: nearestIsLabelled && beatsOtherFaces ? 'verified' : 'not-verified', nearestIsLabelled, beatsOtherFaces, bestSame, bestOtherFace, refs: refs.length } });
}

const count = (pred: (r: Row) => boolean, set: 'refused' | 'sample') => rows.filter((r) => r.set === set && pred(r)).length;
const refusedRows = rows.filter((r) => r.set === 'refused');
const indexedNow = (r: Row) => r.outcome === 'indexed' || r.outcome === 'indexed-with-notice';
const checked = refusedRows.filter((r) => indexedNow(r) && r.check);
const lines = [
  `gallery refusals on lfw-dev, recognizer ${args.recognizer}, ${((performance.now() - t0) / 1000).toFixed(0)} s`,
  `refused by the app's last import: ${refusedRows.length} (${args.report})`,
  `  today's rule in Node: refused ${count((r) => r.today === 'refused', 'refused')}, indexed ${count((r) => r.today === 'indexed', 'refused')} (other decoder), no face ${count((r) => r.today === 'no-face', 'refused')}`,
  `  now: indexed ${count(indexedNow, 'refused')} (silently ${count((r) => r.outcome === 'indexed', 'refused')}: false positives dropped, one face left or one clearly largest; with the notice 'several faces; indexed the central one' ${count((r) => r.outcome === 'indexed-with-notice', 'refused')}), still refused ${count((r) => r.outcome === 'refused', 'refused')}`,
  `  detections dropped as not whole faces: ${refusedRows.reduce((s, r) => s + r.dropped.length, 0)} in ${refusedRows.filter((r) => r.dropped.length > 0).length} images`,
  `  indexed now and checked against the identity's other images: ${checked.filter((r) => r.check?.verdict === 'verified').length} verified, ${checked.filter((r) => r.check?.verdict === 'not-verified').length} not verified, ${checked.filter((r) => r.check?.verdict === 'no-other-image').length} with no other image of the identity`,
  `accepted sample (every ${sampleEvery}th lfw-dev image): ${sample.length}`,
  `  same face as today: ${count((r) => r.sameFaceAsToday === true, 'sample')}; other face: ${count((r) => r.today === 'indexed' && indexedNow(r) && r.sameFaceAsToday === false, 'sample')}; now refused: ${count((r) => r.today === 'indexed' && r.outcome === 'refused', 'sample')}; with a notice: ${count((r) => r.outcome === 'indexed-with-notice', 'sample')}; refused today (Node): ${count((r) => r.today === 'refused', 'sample')}`,
  `  detections dropped as not whole faces: ${rows.filter((r) => r.set === 'sample').reduce((s, r) => s + r.dropped.length, 0)}`,
  `  lone detections (whole faces, ${loneFaces.length}): aspect >= ${Math.min(...loneFaces.map((m) => m.aspect)).toFixed(3)}, eye distance / width <= ${Math.max(...loneFaces.map((m) => m.eyeDistanceToWidth)).toFixed(3)}, landmarks inside >= ${Math.min(...loneFaces.map((m) => m.landmarksInside)).toFixed(3)}`,
  `dropped by reason: ${JSON.stringify(Object.fromEntries(['sliver', 'landmarks-wider-than-box', 'landmarks-outside-box'].map((k) => [k, rows.reduce((n, r) => n + r.dropped.filter((d) => d === k).length, 0)])))}`,
];
for (const r of refusedRows.filter((x) => x.outcome === 'refused')) lines.push(`still refused: ${r.name} (${r.detections} detections)`);
for (const r of checked.filter((x) => x.check?.verdict === 'not-verified')) lines.push(`not verified: ${r.name} ${JSON.stringify(r.check)}`);
for (const r of rows.filter((x) => x.set === 'sample' && x.today === 'indexed' && x.sameFaceAsToday !== true)) lines.push(`sample changed: ${r.name} -> ${r.outcome}`);
console.log(lines.join('\n'));
mkdirSync(dirname(args.json), { recursive: true });
writeFileSync(args.json, JSON.stringify({ recognizer: args.recognizer, report: args.report, sampleEvery, refsPerIdentity, summary: lines, rows }, null, 1));
console.log(`rows written to ${args.json}`);

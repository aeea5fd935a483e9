/**
 * Does the compact gallery cost accuracy (issue 16)? On lfw-dev, the default
 * pipeline (mfn-faceres: fused MobileFaceNet + FaceRes stage-1 vector, EMD of
 * FaceRes's 7x7x1024 map, DEFAULT_SETTINGS on the CPU) runs the app's
 * leave-one-out evaluation twice on the same cached features
 * (.cache/study, bench/study/dump.ts):
 *
 *  - float32: SearchEngine({ stage1: 'float32' }) with the float32 fused
 *    vectors and FaceRes maps (the reference);
 *  - compact: the gallery's stage-1 vectors encoded with encodeStage1Row and
 *    loaded with addRows into SearchEngine({ stage1: 'int8' })
 *    (Int8CosineIndex), its FaceRes maps through encodePatchMap ->
 *    decodePatchMap into the engine's detail source, which also keeps each
 *    face's 16-bit stage-1 row (quant/int16Rows.ts, as the app's records do
 *    since 2026-12-05) for stage 2 to re-score stage 1's top k: the app's
 *    path for a stored gallery. Queries stay float32 (the app never stores
 *    them).
 *
 * Queries follow src/app/evaluationRunner.ts: every gallery image whose
 * identity has another one (sorted by file name; --limit takes evenly spaced
 * ones), searched with k + 1 and a stage-1 list of max(k, R_max) + 1, the
 * query's own image dropped; metrics and the adaptive alpha come from
 * src/app/evaluation.ts. Stage 1 runs for every query; stage 2 (the costly
 * part, ~60 ms a query per format) for all of them, or for --stage2-limit
 * evenly spaced ones (stage-1-only queries run the engine with k = 1, so the
 * compact gallery re-scores only their top 2: run without the limit to
 * measure stage 1 as the app ranks it).
 *
 * `npx tsx bench/study/quantisation.ts [--variants none,crop,mask,sunglasses]
 *   [--limit N] [--stage2-limit N] [--json FILE]`; results default to
 * .cache/reports/quantisation.json (rewritten after every variant).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_SETTINGS, type FaceFeatures, type RerankSettings } from '../../src/core/types.ts';
import { leaveOneOutCounts, stage2Labels, summarise, type EvalQueryScores } from '../../src/app/evaluation.ts';
import { evenlySpaced } from '../../src/app/evaluationRunner.ts';
import { MemoryFaceDetails } from '../../src/engine/faceDetails.ts';
import { encodeStage1Row, stage1RowBytes } from '../../src/engine/quant/int8Rows.ts';
import { fineRowBytes } from '../../src/engine/quant/int16Rows.ts';
import { decodePatchMap, encodePatchMap } from '../../src/engine/quant/patchCodec.ts';
import { SearchEngine, type GalleryItem } from '../../src/engine/searchEngine.ts';
import { fuseEmbeddings } from '../../src/face/fusedRecognizer.ts';
import { FUSED_PIPELINES } from '../../src/models/pipelines.ts';
import { studySetup } from './setup.ts';
import { DIMS, RECORD_FLOATS, STUDY_DIR, VARIANTS, type Variant } from './shared.ts';
import { REPO_ROOT } from '../../tests/unit/face/helpers/data.ts';

const CROP_SIZE = 224;
const GRID = 7;
const FR_C = 1024;
const FUSED_DIM = DIMS.mfEmb + DIMS.frEmb;
const SETTINGS: RerankSettings = { ...DEFAULT_SETTINGS, backend: 'cpu' };
/** Issue 16's bounds: metric differences in percentage points, and the share of unchanged top-1s. */
const MAX_METRIC_DIFF = 0.1;
const MIN_SAME_TOP1 = 0.995;

const FORMATS = ['float32', 'compact'] as const;
type Format = (typeof FORMATS)[number];

function pipelineWeight(): number {
  const p = FUSED_PIPELINES.find((f) => f.id === 'mfn-faceres');
  if (!p || p.primary !== 'faceres' || p.secondary !== 'mobilefacenet-arcface') throw new Error('the default pipeline changed shape: update this script');
  return p.secondaryWeight;
}
const W_MF = pipelineWeight();

/** The default pipeline's features of one dump row: the fused stage-1 vector and FaceRes's raw map. */
function readFeatures(fd: number, row: number, rec: Float32Array): FaceFeatures {
  readSync(fd, new Uint8Array(rec.buffer), 0, rec.byteLength, row * RECORD_FLOATS * 4);
  const mfEmb = rec.subarray(0, DIMS.mfEmb);
  const frAt = DIMS.mfEmb + DIMS.mfPatch;
  const frEmb = rec.subarray(frAt, frAt + DIMS.frEmb);
  const data = rec.slice(frAt + DIMS.frEmb, frAt + DIMS.frEmb + DIMS.frPatch);
  return {
    embedding: fuseEmbeddings(mfEmb, frEmb, Math.sqrt(W_MF), Math.sqrt(1 - W_MF)),
    patches: { h: GRID, w: GRID, c: FR_C, data },
    landmarks68: undefined,
    cropSize: CROP_SIZE,
  };
}

interface Galleries {
  readonly engines: Record<Format, SearchEngine>;
  readonly bytes: { stage1Row: number; stage1FineRow: number; patchMapMean: number; patchMapMin: number; patchMapMax: number; float32Stage1: number; float32PatchMap: number };
}

function buildGalleries(ids: readonly string[], labels: readonly string[], rows: readonly number[]): Galleries {
  const float = new SearchEngine({ accelerator: null, stage1: 'float32' });
  const details = new MemoryFaceDetails({ keepFineStage1: true });
  const compact = new SearchEngine({ accelerator: null, stage1: 'int8', details });
  const rowBytes = stage1RowBytes(FUSED_DIM);
  const encodedRows = new Uint8Array(rows.length * rowBytes);
  const fd = openSync(join(STUDY_DIR, 'none.f32'), 'r');
  const rec = new Float32Array(RECORD_FLOATS);
  let batch: GalleryItem[] = [];
  let mapBytes = 0;
  let mapMin = Infinity;
  let mapMax = 0;
  rows.forEach((row, i) => {
    const f = readFeatures(fd, row, rec);
    batch.push({ id: ids[i], label: labels[i], features: f, name: ids[i] });
    if (batch.length === 256) {
      float.add(batch);
      batch = [];
    }
    const encodedRow = encodeStage1Row(f.embedding);
    if (encodedRow.length !== rowBytes) throw new Error(`stage-1 row of ${encodedRow.length} bytes, expected ${rowBytes}`);
    encodedRows.set(encodedRow, i * rowBytes);
    const encodedMap = encodePatchMap(f.patches);
    mapBytes += encodedMap.length;
    mapMin = Math.min(mapMin, encodedMap.length);
    mapMax = Math.max(mapMax, encodedMap.length);
    details.add(ids[i], { patches: decodePatchMap(encodedMap), landmarks68: undefined, cropSize: CROP_SIZE, embedding: f.embedding });
    if (i % 1000 === 999) console.error(`gallery: ${i + 1}/${rows.length}`);
  });
  float.add(batch);
  closeSync(fd);
  compact.addRows({ ids, labels }, [encodedRows], { h: GRID, w: GRID, c: FR_C, dim: FUSED_DIM });
  return {
    engines: { float32: float, compact },
    bytes: {
      stage1Row: rowBytes,
      stage1FineRow: fineRowBytes(FUSED_DIM),
      patchMapMean: mapBytes / rows.length,
      patchMapMin: mapMin,
      patchMapMax: mapMax,
      float32Stage1: FUSED_DIM * 4,
      float32PatchMap: DIMS.frPatch * 4,
    },
  };
}

interface Scored {
  readonly scores: EvalQueryScores;
  /** Gallery ids in stage-1 order, the query dropped. */
  readonly stage1Ids: string[];
  readonly stage2: boolean;
  readonly ms: number;
}

/** One query as EvaluationRunner.scoreQuery does it: k + 1 candidates, the query's own image dropped. */
async function scoreQuery(engine: SearchEngine, key: string, label: string, features: FaceFeatures, listLength: number, withStage2: boolean): Promise<Scored> {
  const settings = withStage2 ? SETTINGS : { ...SETTINGS, k: 1 };
  const t0 = performance.now();
  const r = await engine.search(features, { ...settings, k: settings.k + 1 }, { stage1Length: listLength });
  const ms = performance.now() - t0;
  const byStage1 = [...r.stage2]
    .sort((a, b) => a.rankBefore - b.rankBefore)
    .filter((e) => e.id !== key)
    .slice(0, settings.k);
  const stage1 = r.stage1.filter((h) => h.id !== key);
  return {
    scores: { queryKey: key, label, stage1Labels: stage1.map((h) => h.label), sCos: byStage1.map((e) => e.sCos), sEmd: byStage1.map((e) => e.sEmd) },
    stage1Ids: stage1.map((h) => h.id),
    stage2: withStage2,
    ms,
  };
}

/** Ids in the final order (stage2Labels permutes its list; given ids it orders ids). */
function stage2Ids(s: Scored): string[] {
  return stage2Labels({ ...s.scores, stage1Labels: s.stage1Ids }, SETTINGS.alpha, SETTINGS.adaptiveAlpha);
}

interface Metrics {
  readonly p1: number;
  readonly mapr: number;
}

interface FormatResult {
  readonly stage1: Metrics;
  /** Stage 1 over the stage-2 queries only (equal to stage1 without --stage2-limit). */
  readonly stage1OnStage2Queries: Metrics;
  readonly stage2: Metrics;
  readonly msPerStage2Query: number;
}

interface VariantResult {
  readonly variant: Variant;
  readonly queries: number;
  readonly stage2Queries: number;
  readonly float32: FormatResult;
  readonly compact: FormatResult;
  readonly diff: { stage1: Metrics; stage2: Metrics };
  readonly sameTop1: { stage1: number; stage2: number };
  readonly differingTop1: { stage1: string[]; stage2: string[] };
  readonly pass: boolean;
}

function formatResult(all: readonly Scored[], counts: ReadonlyMap<string, number>): FormatResult {
  const s2 = all.filter((s) => s.stage2);
  const m1 = summarise(
    all.map((s) => s.scores),
    counts,
    SETTINGS.k,
    SETTINGS.alpha,
    SETTINGS.adaptiveAlpha,
  );
  const m2 = summarise(
    s2.map((s) => s.scores),
    counts,
    SETTINGS.k,
    SETTINGS.alpha,
    SETTINGS.adaptiveAlpha,
  );
  return {
    stage1: { p1: m1.stage1.p1, mapr: m1.stage1.mapAtR },
    stage1OnStage2Queries: { p1: m2.stage1.p1, mapr: m2.stage1.mapAtR },
    stage2: { p1: m2.stage2.p1, mapr: m2.stage2.mapAtR },
    msPerStage2Query: s2.reduce((t, s) => t + s.ms, 0) / Math.max(1, s2.length),
  };
}

async function runVariant(
  variant: Variant,
  g: Galleries,
  setup: { ids: string[]; labels: string[]; rows: number[] },
  queryPositions: readonly number[],
  stage2Set: ReadonlySet<number>,
  listLength: number,
): Promise<VariantResult> {
  const counts = leaveOneOutCounts(setup.labels);
  const fd = openSync(join(STUDY_DIR, `${variant}.f32`), 'r');
  const rec = new Float32Array(RECORD_FLOATS);
  const out: Record<Format, Scored[]> = { float32: [], compact: [] };
  const t0 = performance.now();
  for (const [qi, p] of queryPositions.entries()) {
    const features = readFeatures(fd, setup.rows[p], rec);
    for (const fmt of FORMATS) out[fmt].push(await scoreQuery(g.engines[fmt], setup.ids[p], setup.labels[p], features, listLength, stage2Set.has(p)));
    if (qi % 200 === 199) console.error(`${variant}: ${qi + 1}/${queryPositions.length} queries, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
  }
  closeSync(fd);
  const f = formatResult(out.float32, counts);
  const c = formatResult(out.compact, counts);
  const differ1: string[] = [];
  const differ2: string[] = [];
  out.float32.forEach((a, i) => {
    const b = out.compact[i];
    if (a.stage1Ids[0] !== b.stage1Ids[0]) differ1.push(a.scores.queryKey);
    if (a.stage2 && stage2Ids(a)[0] !== stage2Ids(b)[0]) differ2.push(a.scores.queryKey);
  });
  const n2 = out.float32.filter((s) => s.stage2).length;
  const d = (x: Metrics, y: Metrics): Metrics => ({ p1: y.p1 - x.p1, mapr: y.mapr - x.mapr });
  const diff = { stage1: d(f.stage1, c.stage1), stage2: d(f.stage2, c.stage2) };
  const sameTop1 = { stage1: 1 - differ1.length / Math.max(1, queryPositions.length), stage2: 1 - differ2.length / Math.max(1, n2) };
  const pass =
    [diff.stage1.p1, diff.stage1.mapr, diff.stage2.p1, diff.stage2.mapr].every((x) => Math.abs(x) <= MAX_METRIC_DIFF + 1e-9) && sameTop1.stage1 >= MIN_SAME_TOP1 && sameTop1.stage2 >= MIN_SAME_TOP1;
  return { variant, queries: queryPositions.length, stage2Queries: n2, float32: f, compact: c, diff, sameTop1, differingTop1: { stage1: differ1, stage2: differ2 }, pass };
}

/** The commit and any uncommitted changes to the code measured, so a result can be tied to the codec it ran. */
function sourceState(): { commit: string; uncommitted: string[] } {
  const git = (...args: string[]) => execFileSync('git', args, { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
  try {
    return {
      commit: git('rev-parse', 'HEAD'),
      uncommitted: git('status', '--porcelain', '--', 'src/engine', 'src/face', 'src/app', 'src/core')
        .split('\n')
        .filter((l) => l.length > 0),
    };
  } catch {
    return { commit: 'unknown', uncommitted: [] };
  }
}

function table(results: readonly VariantResult[]): string {
  const n = (x: number) => x.toFixed(2);
  const s = (x: number) => (x >= 0 ? '+' : '') + x.toFixed(2);
  const pct = (x: number) => (100 * x).toFixed(2) + '%';
  const lines = [
    '| variant | queries (stage 2) | stage-1 P@1 f32 / int8 (diff) | stage-1 MAP@R f32 / int8 (diff) | stage-2 P@1 f32 / compact (diff) | stage-2 MAP@R f32 / compact (diff) | same top-1 s1 / s2 | pass |',
    '|---|---|---|---|---|---|---|---|',
  ];
  for (const r of results) {
    lines.push(
      `| ${r.variant} | ${r.queries} (${r.stage2Queries}) | ${n(r.float32.stage1.p1)} / ${n(r.compact.stage1.p1)} (${s(r.diff.stage1.p1)}) | ${n(r.float32.stage1.mapr)} / ${n(r.compact.stage1.mapr)} (${s(r.diff.stage1.mapr)}) | ${n(r.float32.stage2.p1)} / ${n(r.compact.stage2.p1)} (${s(r.diff.stage2.p1)}) | ${n(r.float32.stage2.mapr)} / ${n(r.compact.stage2.mapr)} (${s(r.diff.stage2.mapr)}) | ${pct(r.sameTop1.stage1)} / ${pct(r.sameTop1.stage2)} | ${r.pass ? 'yes' : 'NO'} |`,
    );
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      variants: { type: 'string', default: VARIANTS.join(',') },
      limit: { type: 'string' },
      'stage2-limit': { type: 'string' },
      json: { type: 'string', default: join(REPO_ROOT, '.cache/reports/quantisation.json') },
    },
  });
  const variants = values.variants.split(',').map((v) => {
    const found = VARIANTS.find((x) => x === v);
    if (!found) throw new Error(`unknown variant ${v}; use ${VARIANTS.join(', ')}`);
    return found;
  });
  const intArg = (v: string | undefined, name: string): number | undefined => {
    if (v === undefined) return undefined;
    const x = Number(v);
    if (!Number.isInteger(x) || x < 1) throw new Error(`--${name} must be a positive integer, got ${v}`);
    return x;
  };
  const limit = intArg(values.limit, 'limit');
  const stage2Limit = intArg(values['stage2-limit'], 'stage2-limit');

  const s = studySetup();
  const ids = s.names;
  const setup = { ids, labels: s.labels, rows: s.galleryRows };
  const counts = leaveOneOutCounts(s.labels);
  // EvaluationRunner's queries: identities with another gallery image, sorted by file name, evenly spaced under a limit.
  const sorted = [...s.queryPositions].sort((a, b) => ids[a].localeCompare(ids[b]));
  const queryPositions = evenlySpaced(sorted, limit);
  const stage2Set = new Set(evenlySpaced(queryPositions, stage2Limit));
  const listLength = Math.max(SETTINGS.k, ...counts.values()) + 1;
  console.error(`gallery ${ids.length} faces, ${queryPositions.length} queries (${stage2Set.size} with stage 2), stage-1 list ${listLength}`);

  const t0 = performance.now();
  const g = buildGalleries(ids, s.labels, s.galleryRows);
  console.error(
    `galleries built in ${((performance.now() - t0) / 1000).toFixed(0)} s; engine bytes: float32 ${JSON.stringify(g.engines.float32.byteLength)}, compact ${JSON.stringify(g.engines.compact.byteLength)}`,
  );

  const results: VariantResult[] = [];
  const source = sourceState();
  const write = () => {
    mkdirSync(dirname(values.json), { recursive: true });
    const report = {
      pipeline: 'mfn-faceres',
      source,
      settings: SETTINGS,
      gallery: ids.length,
      queryLimit: limit ?? null,
      stage2Limit: stage2Limit ?? null,
      bounds: { maxMetricDiff: MAX_METRIC_DIFF, minSameTop1: MIN_SAME_TOP1 },
      bytesPerFace: {
        ...g.bytes,
        compactTotal: g.bytes.stage1Row + g.bytes.stage1FineRow + g.bytes.patchMapMean,
        float32Total: g.bytes.float32Stage1 + g.bytes.float32PatchMap,
      },
      results,
    };
    writeFileSync(values.json, JSON.stringify(report, null, 1));
  };
  for (const v of variants) {
    const r = await runVariant(v, g, setup, queryPositions, stage2Set, listLength);
    results.push(r);
    write();
    console.error(`${v} done: ${r.pass ? 'pass' : 'FAIL'}; ms per stage-2 query float32 ${r.float32.msPerStage2Query.toFixed(1)}, compact ${r.compact.msPerStage2Query.toFixed(1)}`);
  }
  write();
  console.log(table(results));
  const b = g.bytes;
  console.log(
    `\nBytes per face over lfw-dev (${ids.length} gallery faces): stage-1 row ${b.stage1Row} and its 16-bit copy ${b.stage1FineRow} (float32 ${b.float32Stage1}); FaceRes map mean ${b.patchMapMean.toFixed(0)} (min ${b.patchMapMin}, max ${b.patchMapMax}; float32 ${b.float32PatchMap}); total ${(b.stage1Row + b.stage1FineRow + b.patchMapMean).toFixed(0)} vs ${b.float32Stage1 + b.float32PatchMap} float32.`,
  );
  console.log(`Results: ${values.json}`);
}

await main();

/**
 * Issue 13's first direction, measured: MobileFaceNet's patches projected
 * through its own head, so that they live in the embedding's space.
 *
 * The head after tensor 507 is linear: a 7x7 depthwise conv (batch norm
 * folded in) gives each position p its own channel weights d_p, then a 1x1
 * conv W (batch norm folded in). So embedding = sum_p W (d_p * x_p) + const,
 * and the projected patch W (d_p * x_p) is patch p's share of the embedding.
 *
 * `npx tsx bench/study/projectedScores.ts --variant mask [--part 0/2]` reads
 * the candidate lists of .cache/study/emd-{variant}-{part}.json (scores.ts)
 * and writes the same candidates' s_emd with projected MobileFaceNet patches
 * in the `mf` field of emdp-{variant}-{part}.json (APC weights on the unit
 * projected patches) and emdq-... (weights = each projected patch's own
 * contribution to the cosine, <W d_p x_p, other unit embedding>, so the
 * head's position weighting survives normalisation). FaceRes's s_emd is
 * copied, so `STUDY_EMD=emdp npx tsx bench/study/analyse.ts` prints the tables
 * with beta 0 = projected MobileFaceNet alone, 0.5 = half and half.
 */
import { closeSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import onnxProto from 'onnx-proto';
import { DEFAULT_SETTINGS } from '../../src/core/types.ts';
import { CpuStage2Scorer } from '../../src/engine/stage2Batch.ts';
import { normaliseWeights, patchWeightsApc } from '../../src/engine/weights.ts';
import { REPO_ROOT } from '../../tests/unit/face/helpers/data.ts';
import { studySetup } from './setup.ts';
import { DIMS, RECORD_FLOATS, STUDY_DIR, type Variant } from './shared.ts';

const C = 512;
const N = 49;

export interface MobileFaceNetHead {
  /** [ch * 49 + p]: depthwise weight of channel ch at position p. */
  readonly depthwise: Float32Array;
  readonly depthwiseBias: Float32Array;
  /** [out * 512 + in]. */
  readonly linear: Float32Array;
  readonly linearBias: Float32Array;
}

function required<T>(x: T | null | undefined, what: string): T {
  if (x === null || x === undefined) throw new Error(`the MobileFaceNet model has no ${what}; is this the project's model (npm run models)?`);
  return x;
}

export function readMobileFaceNetHead(path = join(REPO_ROOT, 'public/models/mobilefacenet-arcface.onnx')): MobileFaceNetHead {
  const graph = required(onnxProto.onnx.ModelProto.decode(readFileSync(path)).graph, 'graph');
  const nodes = required(graph.node, 'nodes');
  const inputs = (n: (typeof nodes)[number]) => required(n.input, `inputs of ${n.name ?? n.opType}`);
  const dw = required(
    nodes.find((n) => n.opType === 'Conv' && inputs(n)[0] === '507'),
    'Conv reading tensor 507',
  );
  const dwOut = required(dw.output, 'depthwise output')[0];
  const lin = required(
    nodes.find((n) => n.opType === 'Conv' && inputs(n)[0] === dwOut),
    '1x1 Conv after the depthwise head',
  );
  const tensor = (name: string, length: number): Float32Array => {
    const t = required(
      required(graph.initializer, 'initializers').find((i) => i.name === name),
      `initializer ${name}`,
    );
    const raw = t.rawData && t.rawData.length ? new Float32Array(new Uint8Array(t.rawData).buffer) : Float32Array.from(t.floatData ?? []);
    if (raw.length !== length) throw new Error(`${path}: ${name} has ${raw.length} values, expected ${length}`);
    return raw;
  };
  return {
    depthwise: tensor(inputs(dw)[1], C * N),
    depthwiseBias: tensor(inputs(dw)[2], C),
    linear: tensor(inputs(lin)[1], C * C),
    linearBias: tensor(inputs(lin)[2], C),
  };
}

/** Projected patches (patch-major, 49 x 512) of one raw patch-major 7x7x512 map. */
export function projectPatches(head: MobileFaceNetHead, map: Float32Array): Float32Array {
  const out = new Float32Array(N * C);
  const scaled = new Float32Array(C);
  for (let p = 0; p < N; p++) {
    for (let ch = 0; ch < C; ch++) scaled[ch] = head.depthwise[ch * N + p] * map[p * C + ch];
    for (let o = 0; o < C; o++) {
      let s = 0;
      const row = o * C;
      for (let ch = 0; ch < C; ch++) s += head.linear[row + ch] * scaled[ch];
      out[p * C + o] = s;
    }
  }
  return out;
}

interface Projected {
  /** Unit projected patches, rows x 49 x 512. */
  readonly unit: Float32Array;
  /** Raw projected patches. */
  readonly raw: Float32Array;
  /** Unit average of the projected patches. */
  readonly avg: Float32Array;
  /** Unit final embedding (from the dump). */
  readonly emb: Float32Array;
}

function unitise(v: Float32Array): Float32Array {
  let s = 0;
  for (const x of v) s += x * x;
  const inv = 1 / Math.sqrt(s || 1);
  return v.map((x) => x * inv);
}

function readProjected(head: MobileFaceNetHead, variant: Variant, rows: readonly number[]): Projected {
  const fd = openSync(join(STUDY_DIR, `${variant}.f32`), 'r');
  const rec = new Float32Array(DIMS.mfEmb + DIMS.mfPatch);
  const unit = new Float32Array(rows.length * N * C);
  const raw = new Float32Array(rows.length * N * C);
  const avg = new Float32Array(rows.length * C);
  const emb = new Float32Array(rows.length * C);
  rows.forEach((row, i) => {
    readSync(fd, new Uint8Array(rec.buffer), 0, rec.byteLength, row * RECORD_FLOATS * 4);
    emb.set(unitise(rec.slice(0, C)), i * C);
    const proj = projectPatches(head, rec.subarray(C, C + DIMS.mfPatch));
    raw.set(proj, i * N * C);
    const sum = new Float32Array(C);
    for (let p = 0; p < N; p++) {
      const patch = proj.subarray(p * C, (p + 1) * C);
      unit.set(unitise(patch), (i * N + p) * C);
      for (let c = 0; c < C; c++) sum[c] += patch[c];
    }
    avg.set(unitise(sum), i * C);
  });
  closeSync(fd);
  return { unit, raw, avg, emb };
}

/** Each raw projected patch's share of the cosine with the other face: <W d_p x_p, other unit embedding>. */
function contributionWeights(raw: Float32Array, otherUnitEmbedding: Float32Array): Float64Array {
  const w = new Float64Array(N);
  for (let p = 0; p < N; p++) {
    let s = 0;
    for (let c = 0; c < C; c++) s += raw[p * C + c] * otherUnitEmbedding[c];
    w[p] = s;
  }
  return normaliseWeights(w);
}

function main(): void {
  const arg = (n: string) => {
    const i = process.argv.indexOf(`--${n}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const variant = (arg('variant') ?? 'none') as Variant;
  const part = (arg('part') ?? '0/1').split('/').map(Number)[0];
  const t0 = Date.now();
  const head = readMobileFaceNetHead();
  const s = studySetup();
  const cached = JSON.parse(readFileSync(join(STUDY_DIR, `emd-${variant}-${part}.json`), 'utf8')) as { q: number; cand: number[]; fr: number[]; mf: number[] }[];
  const gal = readProjected(head, 'none', s.galleryRows);
  const qs =
    variant === 'none'
      ? null
      : readProjected(
          head,
          variant,
          cached.map((r) => s.galleryRows[r.q]),
        );
  process.stderr.write(`projected in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  const scorer = new CpuStage2Scorer();
  const sinkhorn = { ...DEFAULT_SETTINGS.sinkhorn };
  const pick = (f: Projected, i: number) => ({
    unit: f.unit.subarray(i * N * C, (i + 1) * N * C),
    raw: f.raw.subarray(i * N * C, (i + 1) * N * C),
    avg: f.avg.subarray(i * C, (i + 1) * C),
    emb: f.emb.subarray(i * C, (i + 1) * C),
  });
  const apc: typeof cached = [];
  const contrib: typeof cached = [];
  cached.forEach((r, qi) => {
    const q = qs ? pick(qs, qi) : pick(gal, r.q);
    const m = r.cand.length;
    const u1 = new Float32Array(m * N);
    const v1 = new Float32Array(m * N);
    const u2 = new Float32Array(m * N);
    const v2 = new Float32Array(m * N);
    const candidates = r.cand.map((g, j) => {
      const gs = pick(gal, g);
      u1.set(patchWeightsApc(q.unit, N, C, gs.avg), j * N);
      v1.set(patchWeightsApc(gs.unit, N, C, q.avg), j * N);
      u2.set(contributionWeights(q.raw, gs.emb), j * N);
      v2.set(contributionWeights(gs.raw, q.emb), j * N);
      return gs.unit;
    });
    const score = (u: Float32Array, v: Float32Array) => Array.from(scorer.scoreBatch({ n: N, c: C, query: q.unit, candidates, weights: { kind: 'given', u, v }, sinkhorn }).similarity);
    apc.push({ q: r.q, cand: r.cand, fr: r.fr, mf: score(u1, v1) });
    contrib.push({ q: r.q, cand: r.cand, fr: r.fr, mf: score(u2, v2) });
    if (qi % 100 === 0) process.stderr.write(`\r${variant} part ${part}: ${qi}/${cached.length} ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
  });
  writeFileSync(join(STUDY_DIR, `emdp-${variant}-${part}.json`), JSON.stringify(apc));
  writeFileSync(join(STUDY_DIR, `emdq-${variant}-${part}.json`), JSON.stringify(contrib));
  process.stderr.write(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}

if (process.argv[1]?.endsWith('projectedScores.ts')) main();

/**
 * Browser-side helpers for the GPU specs, imported into the harness page
 * (served by Vite) with `await import('/tests/gpu/pageHelpers.ts')`.
 * Every comparison runs the same batch through the WebGPU scorer and the CPU
 * scorer (float64 Sinkhorn, computed in the page).
 */
import { seededRandom } from '../../src/core/random.ts';
import type { Weighting } from '../../src/core/types.ts';
import { unitAveragePatch, unitPatchGrid } from '../../src/engine/patchGrid.ts';
import { CpuStage2Scorer, type Stage2Batch, type Stage2Weights } from '../../src/engine/stage2Batch.ts';
import { patchWeightsApc } from '../../src/engine/weights.ts';
import { GpuStage2 } from '../../src/gpu/gpuStage2.ts';
import { EncodedStage2Scorer, RecordChunkPool, type EncodedStage2Chunk, type EncodedStage2Query } from '../../src/engine/stage2Helper.ts';
import { decodeNamedFaceDetail, encodeDetail } from '../../src/storage/faceRecordCodec.ts';
import { startStage2Helper } from '../../workers/stage2HelperClient.ts';

export interface Comparison {
  readonly label: string;
  readonly pairs: number;
  readonly maxDelta: number;
  readonly gpuIterations: number[];
  readonly cpuIterations: number[];
  readonly gpuMaxMarginalError: number;
  readonly cpuMaxMarginalError: number;
  readonly gpuMs: number;
}

let shared: GpuStage2 | null = null;

export async function gpuScorer(): Promise<GpuStage2> {
  shared ??= new GpuStage2();
  const reason = await shared.ready();
  if (reason) throw new Error(`no WebGPU in this page: ${reason}`);
  return shared;
}

export function decodeF32(base64: string): Float32Array {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  return new Float32Array(bytes.buffer);
}

export async function compare(label: string, batch: Stage2Batch): Promise<Comparison> {
  const gpu = await gpuScorer();
  const cpu = new CpuStage2Scorer().scoreBatch(batch);
  const t = performance.now();
  const g = await gpu.scoreBatch(batch);
  const gpuMs = performance.now() - t;
  let maxDelta = 0;
  for (let p = 0; p < cpu.similarity.length; p++) maxDelta = Math.max(maxDelta, Math.abs(g.similarity[p] - cpu.similarity[p]));
  return {
    label,
    pairs: cpu.similarity.length,
    maxDelta,
    gpuIterations: Array.from(new Set(g.iterations)).sort((a, b) => a - b),
    cpuIterations: Array.from(new Set(cpu.iterations)).sort((a, b) => a - b),
    gpuMaxMarginalError: Math.max(...g.marginalError),
    cpuMaxMarginalError: Math.max(...cpu.marginalError),
    gpuMs,
  };
}

/** compare() over several batches (one per query face), reported as one comparison of all their pairs. */
export async function compareAll(label: string, batches: readonly Stage2Batch[]): Promise<Comparison> {
  const parts: Comparison[] = [];
  for (const b of batches) parts.push(await compare(label, b));
  const union = (lists: number[][]) => Array.from(new Set(lists.flat())).sort((a, b) => a - b);
  return {
    label,
    pairs: parts.reduce((s, r) => s + r.pairs, 0),
    maxDelta: Math.max(...parts.map((r) => r.maxDelta)),
    gpuIterations: union(parts.map((r) => r.gpuIterations)),
    cpuIterations: union(parts.map((r) => r.cpuIterations)),
    gpuMaxMarginalError: Math.max(...parts.map((r) => r.gpuMaxMarginalError)),
    cpuMaxMarginalError: Math.max(...parts.map((r) => r.cpuMaxMarginalError)),
    gpuMs: parts.reduce((s, r) => s + r.gpuMs, 0),
  };
}

/** n unit patches of c channels: signed Gaussian (cosines near 0) or rectified (cosines high, like real maps). */
function randomUnitPatches(rand: () => number, n: number, c: number, rectified: boolean): Float32Array {
  const out = new Float32Array(n * c);
  for (let p = 0; p < n; p++) {
    let s = 0;
    for (let t = 0; t < c; t++) {
      let x = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
      if (rectified) x = Math.max(0, x);
      out[p * c + t] = x;
      s += x * x;
    }
    for (let t = 0; t < c; t++) out[p * c + t] /= Math.sqrt(s) || 1;
  }
  return out;
}

export interface RandomBatchSpec {
  readonly seed: number;
  readonly grid: number;
  readonly c: number;
  readonly pairs: number;
  readonly rectified: boolean;
  readonly weights: 'random' | 'sc' | 'sc-sim';
  readonly mode: 'reference' | 'converged';
  readonly eps: number;
  readonly maxIter: number;
}

export function randomBatch(s: RandomBatchSpec): Stage2Batch {
  const rand = seededRandom(s.seed);
  const n = s.grid * s.grid;
  const query = randomUnitPatches(rand, n, s.c, s.rectified);
  const candidates = Array.from({ length: s.pairs }, () => randomUnitPatches(rand, n, s.c, s.rectified));
  let weights: Stage2Weights;
  if (s.weights === 'random') {
    const norm = (a: Float32Array) => {
      for (let p = 0; p < s.pairs; p++) {
        let sum = 0;
        for (let i = 0; i < n; i++) sum += a[p * n + i];
        for (let i = 0; i < n; i++) a[p * n + i] /= sum + 1e-7;
      }
      return a;
    };
    // Some zero weights, as APC's clamp gives.
    const draw = () => norm(Float32Array.from({ length: s.pairs * n }, () => (rand() < 0.05 ? 0 : rand())));
    weights = { kind: 'given', u: draw(), v: draw() };
  } else {
    weights = { kind: s.weights };
  }
  return { n, c: s.c, query, candidates, weights, sinkhorn: { mode: s.mode, eps: s.eps, maxIter: s.maxIter } };
}

/** A batch from real features: image `queryImage` against `pairs` other images, APC weights (or another kind). */
export function realBatch(
  patches: Float32Array,
  h: number,
  w: number,
  c: number,
  queryImage: number,
  pairs: number,
  grid: number,
  weighting: Extract<Weighting, 'apc' | 'sc' | 'sc-sim' | 'uniform'>,
  sinkhorn: Stage2Batch['sinkhorn'],
): Stage2Batch {
  const images = patches.length / (h * w * c);
  const map = (i: number) => ({ h, w, c, data: patches.subarray(i * h * w * c, (i + 1) * h * w * c) });
  const n = grid * grid;
  const query = unitPatchGrid(map(queryImage), grid);
  const candidates: Float32Array[] = [];
  const uAll: number[] = [];
  const vAll: number[] = [];
  for (let g = 0; candidates.length < pairs; g = (g + 1) % images) {
    if (g === queryImage) continue;
    const grid_ = unitPatchGrid(map(g), grid);
    candidates.push(grid_);
    if (weighting === 'apc') {
      uAll.push(...patchWeightsApc(query, n, c, unitAveragePatch(map(g))));
      vAll.push(...patchWeightsApc(grid_, n, c, unitAveragePatch(map(queryImage))));
    } else if (weighting === 'uniform') {
      for (let i = 0; i < n; i++) (uAll.push(1 / n), vAll.push(1 / n));
    }
  }
  const weights: Stage2Weights = weighting === 'apc' || weighting === 'uniform' ? { kind: 'given', u: Float32Array.from(uAll), v: Float32Array.from(vAll) } : { kind: weighting };
  return { n, c, query, candidates, weights, sinkhorn };
}

export interface HelperWorkerCheck {
  readonly pairs: number;
  /** Every s_emd from the helper worker equals the in-page scorer's (===). */
  readonly identical: boolean;
  readonly firstSimilarity: number;
  /** The records' buffer was transferred to the worker (detached here), not copied. */
  readonly transferred: boolean;
  /** The answer brought the same records back (for the engine to fill again). */
  readonly handedBack: boolean;
  /** The query went transferred (detached here) and came back with the same values. */
  readonly queryHandedBack: boolean;
}

/**
 * Stage 2's helper through its real transport: a job of `pairs` compact records of random ReLU-sparse 7x7 maps, sent
 * to the helper worker (comlink, transfer) and scored in the page by the same EncodedStage2Scorer.
 */
export async function helperWorkerVsPage(seed: number, grid: number, pairs: number): Promise<HelperWorkerCheck> {
  const rand = seededRandom(seed);
  const c = 64;
  const map = () => ({ h: 7, w: 7, c, data: Float32Array.from({ length: 49 * c }, () => Math.max(0, rand() - 0.7) * 4) });
  const face = map();
  const records = Array.from({ length: pairs }, () => ({ format: 'compact', bytes: encodeDetail('compact', { patches: map(), landmarks68: null, cropSize: 112 }) }));
  const query: EncodedStage2Query = {
    id: 1,
    mapH: 7,
    mapW: 7,
    grid,
    c,
    query: unitPatchGrid(face, grid),
    queryAverage: unitAveragePatch(face),
    sinkhorn: { mode: 'reference', eps: 0.05, maxIter: 100 },
  };
  const chunk: EncodedStage2Chunk = { queryId: 1, ...new RecordChunkPool().pack(records.length, (i) => records[i]) };
  const page = new EncodedStage2Scorer(decodeNamedFaceDetail);
  await page.beginQuery(query);
  const inPage = await page.scoreEncoded({ ...chunk, records: chunk.records.slice() });
  const helper = startStage2Helper();
  if (!helper) throw new Error('this browser reports fewer than two cores: no helper worker');
  const querySent = query.query.slice();
  const { returnedQuery } = await helper.beginQuery(query);
  const sent = chunk.records.slice();
  const fromWorker = await helper.scoreEncoded(chunk);
  const back = fromWorker.returnedRecords;
  return {
    pairs: fromWorker.similarity.length,
    identical: fromWorker.similarity.length === pairs && fromWorker.similarity.every((x, i) => x === inPage.similarity[i]),
    firstSimilarity: fromWorker.similarity[0],
    transferred: chunk.records.byteLength === 0,
    handedBack: back.length === sent.length && back.every((x, i) => x === sent[i]),
    queryHandedBack: query.query.length === 0 && returnedQuery.length === querySent.length && returnedQuery.every((x, i) => x === querySent[i]),
  };
}

/** A helper whose worker script does not exist: the call must fail with the client's message, not hang. */
export async function brokenHelperWorker(): Promise<string> {
  const helper = startStage2Helper(new URL('/tests/gpu/no-such-stage2.worker.ts', location.href));
  if (!helper) throw new Error('this browser reports fewer than two cores: no helper worker');
  try {
    await helper.beginQuery({ id: 1, mapH: 1, mapW: 1, grid: 1, c: 4, query: new Float32Array(4), queryAverage: new Float32Array(4), sinkhorn: { mode: 'reference', eps: 0.05, maxIter: 100 } });
    return 'resolved';
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
}

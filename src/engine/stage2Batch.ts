/**
 * One stage-2 batch: one query against k candidates on one grid, the unit of
 * work both backends take. The CPU scorer is here; the WebGPU one (src/gpu) takes
 * the same batch and must agree within 1e-4 on every similarity.
 */
import { AppError } from '../core/errors.ts';
import type { SinkhornMode } from '../core/types.ts';
import { DotWorkspace } from './simd/dotWorkspace.ts';
import { SinkhornWorkspace, sinkhornEmd, validateSinkhornOptions } from './sinkhornCpu.ts';
import { patchWeightsSc, patchWeightsScSim } from './weights.ts';

/**
 * Weights known before the costs (uniform, apc, cc, lmk), or derived from each pair's costs (sc, sc-sim).
 * u weighs the QUERY patches, v the GALLERY (candidate) patches (the authors' emd.py names them the other way round).
 */
export type Stage2Weights =
  { readonly kind: 'given'; /** pairs x n, query side */ readonly u: Float32Array; /** pairs x n, gallery side */ readonly v: Float32Array } | { readonly kind: 'sc' | 'sc-sim' };

export interface Stage2Batch {
  /** Patches per face (grid^2); both faces of a pair have the same grid. */
  readonly n: number;
  /** Channels per patch. */
  readonly c: number;
  /** Unit query patches, n x c. */
  readonly query: Float32Array;
  /** Unit candidate patches, one n x c block per pair. */
  readonly candidates: readonly Float32Array[];
  readonly weights: Stage2Weights;
  readonly sinkhorn: {
    readonly mode: SinkhornMode;
    readonly eps: number;
    readonly maxIter: number;
    /** Converged mode's marginal tolerance (default 1e-6). */
    readonly tol?: number;
  };
}

export interface Stage2BatchResult {
  /** s_emd per pair. */
  readonly similarity: Float64Array;
  readonly iterations: Int32Array;
  readonly marginalError: Float64Array;
}

/** Something that can score a batch off the CPU (WebGPU). Errors are AppErrors; the engine falls back to the CPU on any. */
export interface Stage2Accelerator {
  readonly name: 'webgpu';
  /** Resolves with null when usable, else a reason the UI can show. */
  ready(): Promise<string | null>;
  /** True when the adapter is a software fallback (e.g. SwiftShader): far slower than the CPU path. */
  readonly isSoftwareAdapter?: boolean;
  scoreBatch(batch: Stage2Batch): Promise<Stage2BatchResult>;
}

export function validateStage2Batch(batch: Stage2Batch): void {
  const { n, c, query, candidates } = batch;
  const fail = (what: string) => {
    throw new AppError('invalid-argument', `stage-2 batch: ${what}`, 'This is a bug in the caller; report it.');
  };
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(c) || c < 1) fail(`bad shape n=${n}, c=${c}`);
  if (query.length !== n * c) fail(`the query has ${query.length} values, expected ${n * c}`);
  for (const g of candidates) if (g.length !== n * c) fail(`a candidate has ${g.length} values, expected ${n * c}`);
  const pairs = candidates.length;
  if (batch.weights.kind === 'given' && (batch.weights.u.length !== pairs * n || batch.weights.v.length !== pairs * n)) fail('weights are not pairs x n');
  validateSinkhornOptions(batch.sinkhorn);
}

/** Scores batches on the CPU: SIMD cosine matrices, then float64 Sinkhorn per pair. */
export class CpuStage2Scorer {
  private readonly ws: DotWorkspace;
  private readonly sinkhorn = new SinkhornWorkspace();

  constructor(options: { forceJs?: boolean } = {}) {
    this.ws = new DotWorkspace(options);
  }

  scoreBatch(batch: Stage2Batch): Stage2BatchResult {
    validateStage2Batch(batch);
    const { n, c, query, candidates } = batch;
    const pairs = candidates.length;
    const block = n * c;
    // Layout: query | one candidate | its n x n cosine matrix. One candidate at a time keeps the working set in cache.
    const candidateAt = block;
    const costAt = candidateAt + block;
    this.ws.reserve(costAt + n * n);
    const data = this.ws.data;
    data.set(query, 0);
    const similarity = new Float64Array(pairs);
    const iterations = new Int32Array(pairs);
    const marginalError = new Float64Array(pairs);
    const u = new Float64Array(n);
    const v = new Float64Array(n);
    for (let p = 0; p < pairs; p++) {
      data.set(candidates[p], candidateAt);
      this.ws.dots(0, n, candidateAt, n, c, costAt, n);
      for (let x = costAt; x < costAt + n * n; x++) data[x] = 1 - data[x];
      const w = pairWeightsFromBatch(batch, p, data, costAt, u, v);
      // Cost rows = query patches, columns = candidate patches; the reference mode iterates in the authors' orientation inside.
      const r = sinkhornEmd(data, n, n, w.u, w.v, batch.sinkhorn, costAt, this.sinkhorn);
      similarity[p] = r.similarity;
      iterations[p] = r.iterations;
      marginalError[p] = r.marginalError;
    }
    return { similarity, iterations, marginalError };
  }
}

function pairWeightsFromBatch(batch: Stage2Batch, p: number, cost: Float32Array, costAt: number, u: Float64Array, v: Float64Array): { u: Float64Array; v: Float64Array } {
  const n = batch.n;
  const w = batch.weights;
  if (w.kind === 'given') {
    for (let i = 0; i < n; i++) {
      u[i] = w.u[p * n + i];
      v[i] = w.v[p * n + i];
    }
    return { u, v };
  }
  return w.kind === 'sc' ? patchWeightsSc(cost, n, n, costAt) : patchWeightsScSim(cost, n, n, costAt);
}

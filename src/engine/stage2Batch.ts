/**
 * One stage-2 batch: one query against k candidates on one grid, the unit of
 * work both backends take. The CPU scorer is here; the WebGPU one (src/gpu) takes
 * the same batch and must agree within 1e-4 on every similarity.
 */
import { AppError } from '../core/errors.ts';
import type { SinkhornMode } from '../core/types.ts';
import { rawMapOf } from './faceDetails.ts';
import { adaptivePoolBins, unitPatchGrid } from './patchGrid.ts';
import { decodePatchMapUnit, encodedMapLayout, unitAverageOfSums, type EncodedMapLayout, type UnitPatchMap } from './quant/patchCodec.ts';
import { DotWorkspace } from './simd/dotWorkspace.ts';
import { type SinkhornResult, SinkhornWorkspace, sinkhornEmd, validateSinkhornOptions } from './sinkhornCpu.ts';
import { l2NormaliseRows } from './vectors.ts';
import { normaliseWeights, patchWeightsSc, patchWeightsScSim } from './weights.ts';

/**
 * Weights known before the costs (uniform, cc, lmk), APC's partner vectors (its weights are dot products the scorer
 * computes beside the cost matrix), or derived from each pair's costs (sc, sc-sim).
 * u weighs the QUERY patches, v the GALLERY (candidate) patches (the authors' emd.py names them the other way round).
 */
export type Stage2Weights =
  | { readonly kind: 'given'; /** pairs x n, query side */ readonly u: Float32Array; /** pairs x n, gallery side */ readonly v: Float32Array }
  | {
      readonly kind: 'apc';
      /** The query's L2-normalised average patch (c floats): the gallery side's partner. */
      readonly queryAverage: Float32Array;
      /** Each candidate's L2-normalised average patch (c floats): the query side's partner. */
      readonly candidateAverages: readonly Float32Array[];
    }
  | { readonly kind: 'sc' | 'sc-sim' };

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

/**
 * A batch of APC-weighted candidates given as their stored patch maps (src/engine/quant/patchCodec.ts): stage 2 of a
 * gallery kept on disk, which reads its k candidates' records every query. Scored by CpuStage2Scorer.scoreEncodedMaps
 * with the same results, bit for bit, as scoreBatch on the decoded maps (pooled to the grid as the gallery pools them).
 */
export interface EncodedMapBatch {
  /** Stage 2's grid side: the maps' own, or coarser (adaptive average pooling). */
  readonly grid: number;
  readonly c: number;
  /** Unit query patches on that grid, grid^2 x c. */
  readonly query: Float32Array;
  /** The query's L2-normalised average patch (c floats). */
  readonly queryAverage: Float32Array;
  readonly count: number;
  /** Candidate i's stored map. It may be lent: the scorer is done with it before it asks for the next. */
  readonly mapOf: (i: number) => Uint8Array;
  readonly sinkhorn: Stage2Batch['sinkhorn'];
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
  const w = batch.weights;
  if (w.kind === 'given' && (w.u.length !== pairs * n || w.v.length !== pairs * n)) fail('weights are not pairs x n');
  if (w.kind === 'apc' && (w.queryAverage.length !== c || w.candidateAverages.length !== pairs || w.candidateAverages.some((a) => a.length !== c)))
    fail('APC needs one average patch of c values for the query and for each candidate');
  validateSinkhornOptions(batch.sinkhorn);
}

/** One pair scored with its plan, for the flow and heatmap views. */
export interface Stage2PairDetail {
  readonly result: SinkhornResult;
  /** n x n distances 1 - cos, row = query patch. */
  readonly cost: Float32Array;
  /** The weights the transport used, rounded to float32 as every batch's are. */
  readonly u: Float32Array;
  readonly v: Float32Array;
}

/**
 * Scores batches on the CPU: SIMD cosine matrices, then float64 Sinkhorn per pair.
 *
 * APC's weights are dot products of each face's unit patches with the other face's unit average patch, 2 x n x c
 * multiply-adds per pair: in JS that was 16 ms of a k = 100 query on FaceRes's 7x7x1024 maps, as much as all the
 * cost matrices in SIMD. Here they come from the same SIMD kernel while the candidate is in the kernel's memory.
 */
export class CpuStage2Scorer {
  private readonly ws: DotWorkspace;
  private readonly sinkhorn: SinkhornWorkspace;
  /** One pair's weights (query side, gallery side), reused pair to pair. */
  private pairU = new Float64Array(0);
  private pairV = new Float64Array(0);
  /** scoreEncodedMaps's per-candidate scratch: a stored map's per-channel sums and unit average, or its decoded form. */
  private candidateSums = new Float64Array(0);
  private averageScratch = new Float32Array(0);
  private decoded: UnitPatchMap | null = null;
  /** Pooling without SIMD: the decoded raw map and its pooled rows, reused. */
  private raw: Float32Array = new Float32Array(0);
  private pooledRow: Float32Array = new Float32Array(0);
  /** Cell tables of the coarser grids asked for, by map shape and grid. */
  private readonly poolings = new Map<string, Pooling>();

  constructor(options: { forceJs?: boolean } = {}) {
    this.ws = new DotWorkspace(options);
    this.sinkhorn = new SinkhornWorkspace(options);
  }

  scoreBatch(batch: Stage2Batch): Stage2BatchResult {
    validateStage2Batch(batch);
    const pairs = batch.candidates.length;
    const similarity = new Float64Array(pairs);
    const iterations = new Int32Array(pairs);
    const marginalError = new Float64Array(pairs);
    const layout = this.load(batch, true);
    for (let p = 0; p < pairs; p++) {
      const r = this.scorePair(batch, layout, p, false);
      similarity[p] = r.similarity;
      iterations[p] = r.iterations;
      marginalError[p] = r.marginalError;
    }
    return { similarity, iterations, marginalError };
  }

  /**
   * Scores candidates given as stored maps. With SIMD, each map's codes go straight into the costs: on the maps' own
   * grid, with a sparse query (FaceRes's maps), listed into the sparse costs (costsEncoded in
   * src/engine/simd/dotKernel.wat); on a coarser grid added into the pooling sums (poolEncoded). A decoded candidate was
   * 200 kB of floats written, copied twice and scanned, against its ~12 kB of codes. Otherwise each is decoded
   * (decodePatchMapUnit, pooled by rawMapOf and unitPatchGrid as the gallery does) and scored as scoreBatch would.
   * Either way the results are scoreBatch's on the decoded (and pooled) maps, bit for bit.
   */
  scoreEncodedMaps(batch: EncodedMapBatch): Stage2BatchResult {
    const { grid, c, count } = batch;
    const n = grid * grid;
    const shape: Stage2Batch = { n, c, query: batch.query, candidates: [], weights: { kind: 'apc', queryAverage: batch.queryAverage, candidateAverages: [] }, sinkhorn: batch.sinkhorn };
    validateStage2Batch(shape);
    const similarity = new Float64Array(count);
    const iterations = new Int32Array(count);
    const marginalError = new Float64Array(count);
    const layout = this.load(shape, true);
    if (this.candidateSums.length !== c) this.candidateSums = new Float64Array(c);
    for (let p = 0; p < count; p++) {
      const bytes = batch.mapOf(p);
      const map = encodedMapLayout(bytes);
      if (map.c !== c || map.h < grid || map.w < grid)
        throw new AppError(
          'invalid-argument',
          `stage-2 batch: candidate ${p}'s stored map is ${map.h}x${map.w}x${map.c}, the batch needs ${grid}x${grid} patches of ${c}`,
          'Rebuild the gallery with the active recognizer.',
        );
      const native = map.h === grid && map.w === grid;
      if (native && layout.sparse && this.ws.simd) {
        this.ws.costsEncoded(bytes, map, layout.queryTAt, layout.lda, layout.rows, layout.costAt, n, layout.scratchAt, this.candidateSums);
        this.ws.data.set(unitAverageOfSums(this.candidateSums, map.h * map.w, this.candidateAverage(c)), layout.averageAt);
      } else {
        if (native) this.decodeInto(bytes, layout);
        else this.poolInto(bytes, map, grid, layout);
        this.candidateCosts(layout, n, c);
      }
      this.pairWeights(shape, layout, p);
      const r = sinkhornEmd(this.ws.data, n, n, this.pairU, this.pairV, { ...batch.sinkhorn, wantPlan: false }, layout.costAt, this.sinkhorn);
      similarity[p] = r.similarity;
      iterations[p] = r.iterations;
      marginalError[p] = r.marginalError;
    }
    return { similarity, iterations, marginalError };
  }

  /** A stored map decoded into kernel memory: its unit rows at candidateAt, its unit average at averageAt. */
  private decodeInto(bytes: Uint8Array, layout: Layout): void {
    const unit = (this.decoded = decodePatchMapUnit(bytes, this.decoded ?? undefined));
    const data = this.ws.data;
    data.set(unit.unitPatches, layout.candidateAt);
    data.set(unit.unitAverage, layout.averageAt);
  }

  /**
   * A stored map pooled to `grid` in kernel memory, the floats GalleryStore.unitGrid gives (rawMapOf, then
   * unitPatchGrid): unit pooled rows at candidateAt, the map's unit average at averageAt.
   */
  private poolInto(bytes: Uint8Array, map: EncodedMapLayout, grid: number, layout: Layout): void {
    const { h, w, c } = map;
    const cells = grid * grid;
    const pooling = this.poolingOf(h, w, grid);
    if (this.ws.simd) {
      const sums = this.ws.poolEncoded(bytes, map, pooling.cellsOf, cells, layout.scratchAt, this.candidateSums);
      const data = this.ws.data;
      for (let cell = 0; cell < cells; cell++) {
        const inv = pooling.inverseCounts[cell];
        const at = layout.candidateAt + cell * c;
        for (let t = 0; t < c; t++) data[at + t] = sums[cell * c + t] * inv;
      }
      l2NormaliseRows(data, layout.candidateAt, cells, c, data, layout.candidateAt);
      data.set(unitAverageOfSums(this.candidateSums, h * w, this.candidateAverage(c)), layout.averageAt);
      return;
    }
    const unit = decodePatchMapUnit(bytes, this.decoded ?? undefined);
    this.decoded = unit;
    this.raw = rawMapOf(unit, h, w, c, this.raw).data;
    if (this.pooledRow.length !== cells * c) this.pooledRow = new Float32Array(cells * c);
    const data = this.ws.data;
    data.set(unitPatchGrid({ h, w, c, data: this.raw }, grid, this.pooledRow), layout.candidateAt);
    data.set(unit.unitAverage, layout.averageAt);
  }

  /** Which cells of a grid x grid pooling each patch of an h x w map falls in (4 slots, -1 for none), and 1 / cell size. */
  private poolingOf(h: number, w: number, grid: number): Pooling {
    const key = `${h}x${w}:${grid}`;
    let pooling = this.poolings.get(key);
    if (pooling) return pooling;
    const binsY = adaptivePoolBins(h, grid);
    const binsX = adaptivePoolBins(w, grid);
    const cellsOf = new Int32Array(4 * h * w).fill(-1);
    const used = new Int32Array(h * w);
    const inverseCounts = new Float64Array(grid * grid);
    for (let gy = 0; gy < grid; gy++) {
      for (let gx = 0; gx < grid; gx++) {
        const by = binsY[gy];
        const bx = binsX[gx];
        inverseCounts[gy * grid + gx] = 1 / ((by.end - by.start) * (bx.end - bx.start));
        for (let y = by.start; y < by.end; y++) {
          for (let x = bx.start; x < bx.end; x++) {
            const p = y * w + x;
            if (used[p] === 4) throw new AppError('internal', `pooling ${h}x${w} to ${grid}x${grid}: patch ${p} is in over 4 cells`, 'Report this as a bug.');
            cellsOf[4 * p + used[p]++] = gy * grid + gx;
          }
        }
      }
    }
    pooling = { cellsOf, inverseCounts };
    this.poolings.set(key, pooling);
    return pooling;
  }

  /** Pair `p` of a batch with its plan, cost matrix and weights (the values scoreBatch gives that pair). */
  pairDetail(batch: Stage2Batch, p: number): Stage2PairDetail {
    validateStage2Batch(batch);
    if (!(Number.isInteger(p) && p >= 0 && p < batch.candidates.length)) throw new AppError('invalid-argument', `stage-2 batch: no pair ${p}`, 'This is a bug in the caller; report it.');
    const layout = this.load(batch, true);
    const result = this.scorePair(batch, layout, p, true);
    const { n } = batch;
    const cost = Float32Array.from(this.ws.data.subarray(layout.costAt, layout.costAt + n * n));
    return { result, cost, u: Float32Array.from(this.pairU.subarray(0, n)), v: Float32Array.from(this.pairV.subarray(0, n)) };
  }

  /**
   * Kernel memory: query (n x c) | query average (c) | one candidate (n x c) | its average (c) | its n x n cosines
   * then distances | raw APC weights, gallery side (n) then query side (n) | the query transposed (c x lda, for
   * sparse costs) | the sparse kernel's list (2c) | scratch (costsEncoded's). One candidate at a time keeps the
   * working set in cache.
   *
   * With sparse costs and APC, lane n of the transposed query holds the query's average patch: the sparse kernel
   * then gives the gallery side's raw APC weights as row n of its output, which lands right after the n x n cosines,
   * and a candidate given as a stored map (scoreEncodedMaps) needs no decoded rows for them.
   */
  private load(batch: Stage2Batch, forCosts: boolean): Layout {
    const { n, c, query } = batch;
    const block = n * c;
    const apc = batch.weights.kind === 'apc';
    // The query's density decides the kernel for the whole batch (candidates come from the same recognizer), so a
    // pair always gets the same bits whichever batch or worker scores it. Weights alone (forCosts false) need neither.
    let nonzero = 0;
    if (forCosts) for (let x = 0; x < block; x++) if (query[x] !== 0) nonzero++;
    const sparse = forCosts && nonzero <= SPARSE_MAX_FRACTION * block;
    const rows = sparse && apc ? n + 1 : n;
    const candidateAt = block + c;
    const averageAt = candidateAt + block;
    const costAt = averageAt + c;
    const rawGalleryAt = costAt + n * n;
    const rawQueryAt = rawGalleryAt + n;
    const lda = (rows + 3) & ~3;
    const queryTAt = rawQueryAt + n;
    const listAt = queryTAt + c * lda;
    const scratchAt = listAt + 2 * c;
    this.ws.reserve(scratchAt);
    const data = this.ws.data;
    data.set(query, 0);
    if (sparse) {
      data.fill(0, queryTAt, listAt);
      for (let i = 0; i < n; i++) for (let t = 0; t < c; t++) data[queryTAt + t * lda + i] = query[i * c + t];
    }
    if (batch.weights.kind === 'apc') {
      const average = batch.weights.queryAverage;
      data.set(average, block);
      if (sparse) for (let t = 0; t < c; t++) data[queryTAt + t * lda + n] = average[t];
    }
    if (this.pairU.length < n) {
      this.pairU = new Float64Array(n);
      this.pairV = new Float64Array(n);
    }
    return { candidateAt, averageAt, costAt, rawGalleryAt, rawQueryAt, sparse, rows, queryTAt, lda, listAt, scratchAt };
  }

  /** The candidate in kernel memory against the query: cosines at costAt (and, sparse with APC, the gallery side's raw APC weights after them). */
  private candidateCosts(at: Layout, n: number, c: number): void {
    if (at.sparse) this.ws.dotsSparse(at.queryTAt, at.lda, at.rows, at.candidateAt, n, c, at.costAt, n, at.listAt);
    else this.ws.dots(0, n, at.candidateAt, n, c, at.costAt, n);
  }

  private scorePair(batch: Stage2Batch, at: Layout, p: number, wantPlan: boolean): SinkhornResult {
    const { n, c } = batch;
    this.ws.data.set(batch.candidates[p], at.candidateAt);
    this.candidateCosts(at, n, c);
    if (batch.weights.kind === 'apc') this.ws.data.set(batch.weights.candidateAverages[p], at.averageAt);
    this.pairWeights(batch, at, p);
    // Cost rows = query patches, columns = candidate patches; the reference mode iterates in the authors' orientation inside.
    return sinkhornEmd(this.ws.data, n, n, this.pairU, this.pairV, { ...batch.sinkhorn, wantPlan }, at.costAt, this.sinkhorn);
  }

  /** Cosines to distances, then pair p's weights into pairU / pairV; the candidate, its average (APC) and its cosines are in kernel memory. */
  private pairWeights(batch: Stage2Batch, at: Layout, p: number): void {
    const { n } = batch;
    const data = this.ws.data;
    for (let x = at.costAt; x < at.costAt + n * n; x++) data[x] = 1 - data[x];
    const w = batch.weights;
    const u = this.pairU;
    const v = this.pairV;
    if (w.kind === 'given') {
      for (let i = 0; i < n; i++) {
        u[i] = w.u[p * n + i];
        v[i] = w.v[p * n + i];
      }
    } else if (w.kind === 'apc') {
      this.apcWeights(batch, at);
    } else {
      const sc = w.kind === 'sc' ? patchWeightsSc(data, n, n, at.costAt) : patchWeightsScSim(data, n, n, at.costAt);
      u.set(sc.u);
      v.set(sc.v);
    }
  }

  /**
   * The batch with APC's weights computed (the same values scoreBatch uses), as given weights: for a backend
   * that takes only given or cost-derived weights (the WebGPU one). Other batches come back as they are.
   */
  withGivenWeights(batch: Stage2Batch): Stage2Batch {
    if (batch.weights.kind !== 'apc') return batch;
    validateStage2Batch(batch);
    const { n, c } = batch;
    const pairs = batch.candidates.length;
    const u = new Float32Array(pairs * n);
    const v = new Float32Array(pairs * n);
    // Costs too: with a sparse query the gallery side's weights come out of the sparse costs (see load).
    const at = this.load(batch, true);
    for (let p = 0; p < pairs; p++) {
      this.ws.data.set(batch.candidates[p], at.candidateAt);
      if (at.sparse) this.candidateCosts(at, n, c);
      this.ws.data.set(batch.weights.candidateAverages[p], at.averageAt);
      this.apcWeights(batch, at);
      u.set(this.pairU.subarray(0, n), p * n);
      v.set(this.pairV.subarray(0, n), p * n);
    }
    return { ...batch, weights: { kind: 'given', u, v } };
  }

  /**
   * APC for the candidate in kernel memory (its average at averageAt): each side's patches against the OTHER face's
   * average. With sparse costs the gallery side's raw weights are already there (row n of the costs).
   */
  private apcWeights(batch: Stage2Batch, at: Layout): void {
    const { n, c } = batch;
    const data = this.ws.data;
    this.ws.dots(at.averageAt, 1, 0, n, c, at.rawQueryAt, n);
    if (!at.sparse) this.ws.dots(n * c, 1, at.candidateAt, n, c, at.rawGalleryAt, n);
    roundedWeights(data.subarray(at.rawQueryAt, at.rawQueryAt + n), this.pairU);
    roundedWeights(data.subarray(at.rawGalleryAt, at.rawGalleryAt + n), this.pairV);
  }

  /** scoreEncodedMaps's array for a candidate's unit average, reused candidate to candidate. */
  private candidateAverage(c: number): Float32Array {
    if (this.averageScratch.length !== c) this.averageScratch = new Float32Array(c);
    return this.averageScratch;
  }
}

/**
 * The largest share of nonzero query values at which the costs skip the candidates' zeros. Per 49 x 49 pair in Node
 * on this machine (c = 1024): the dense kernel 118-121 us at any density; the sparse one 50 us at 10% nonzero
 * (FaceRes's maps), 101 at 30%, 152 at 50%, 282 at 100% (MobileFaceNet's maps are dense). Break-even is ~35%.
 */
const SPARSE_MAX_FRACTION = 0.25;

interface Pooling {
  /** Per patch of the map, the (up to 4) cells of the grid whose bins hold it; -1 pads. */
  readonly cellsOf: Int32Array;
  /** 1 / the number of patches in each cell, as adaptiveAvgPool divides. */
  readonly inverseCounts: Float64Array;
}

/** Where load() put each region, as float indices into the kernel memory. */
interface Layout {
  readonly candidateAt: number;
  readonly averageAt: number;
  readonly costAt: number;
  /** Raw APC weights of the candidate's patches (costAt + n x n: row n of the sparse costs). */
  readonly rawGalleryAt: number;
  readonly rawQueryAt: number;
  /** Costs by dotsSparse (skipping the candidates' zeros) rather than the dense kernel. */
  readonly sparse: boolean;
  /** Rows of the transposed query the sparse kernel stores: n, and with APC the query's average as row n. */
  readonly rows: number;
  /** The query transposed: c rows of lda floats (n rounded up to a multiple of 4, zeros past n). */
  readonly queryTAt: number;
  readonly lda: number;
  /** Scratch for the sparse kernel's list of a candidate patch's nonzeros. */
  readonly listAt: number;
  /** Free memory from here on (costsEncoded's). */
  readonly scratchAt: number;
}

/** normaliseWeights, then rounded to float32: the precision every batch's weights have (and the GPU reads). */
function roundedWeights(raw: Float32Array, into: Float64Array): void {
  const w = normaliseWeights(raw);
  for (let i = 0; i < w.length; i++) into[i] = Math.fround(w[i]);
}

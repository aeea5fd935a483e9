/**
 * The search engine: a plain object (Node tests use it directly; the app
 * hosts it in a Worker). Holds the gallery, runs stage 1 (cosine top-k) and
 * stage 2 (EMD re-ranking of the top k on WebGPU or the CPU), caches the last
 * query's s_emd and s_cos so a new alpha only re-blends.
 */
import { autoDeclinesAdapter } from '../core/autoBackend.ts';
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, FusedCosineLayout, OodTransform, RerankSettings, VisibleDamage, Weighting } from '../core/types.ts';
import type { FaceDetailSource } from './faceDetails.ts';
import { GalleryStore, type GalleryItem, type GalleryRowList, type GalleryShape, type Stage1Holding } from './galleryStore.ts';
import { requireValidGrid, unitAveragePatch, unitPatchGrid } from './patchGrid.ts';
import { type DamageDetectorModel, detectDamage } from './damageDetector.ts';
import {
  type Alpha,
  alphaForQuery,
  type QueryAlpha,
  type QueryDamage,
  rerankTopK,
  reweighFusedCosine,
  secondaryCosine,
  visibleDamageFor,
  validateAdaptiveAlpha,
  validateAlpha,
  validateFusedCosineLayout,
} from './rerank.ts';
import { validateSinkhornOptions } from './sinkhornCpu.ts';
import { CpuStage2Scorer, type Stage2Accelerator, type Stage2Batch, type Stage2BatchResult, type Stage2Weights } from './stage2Batch.ts';
import {
  epochNow,
  HELPER_CHUNK_CANDIDATES,
  helperElapsedMs,
  helperShare,
  INITIAL_HELPER_FRACTION,
  nextHelperFraction,
  RecordChunkPool,
  type EncodedStage2Result,
  type Stage2Helper,
} from './stage2Helper.ts';
import { rescoreTopK } from './stage1Rescore.ts';
import { unitEmbedding } from './vectors.ts';
import { pairWeights, type PairWeightInputs } from './weights.ts';

export type { GalleryItem, GalleryRowList, GalleryShape, Stage1Holding } from './galleryStore.ts';

export interface Stage1Hit {
  readonly id: string;
  readonly label: string;
  readonly score: number;
  /** 1-based. */
  readonly rank: number;
}

export interface Stage2Hit {
  readonly id: string;
  readonly label: string;
  /** The blended score the list is sorted by. */
  readonly score: number;
  readonly sEmd: number;
  /** The cosine stage 2 blended: the stage-1 score, or a fused pipeline's re-weighted cosine where the rule asked (see alphaReason). */
  readonly sCos: number;
  /** A fused pipeline's second recognizer's own cosine. */
  readonly sCosSecondary?: number;
  /** The cosine of the two faces' visible-part embeddings, where the rule compares them for the query's kind of damage (issue 13). */
  readonly sVisible?: number;
  readonly rankBefore: number;
  readonly rankAfter: number;
}

export interface SearchResult {
  /** Stage-1 ranking, at least the top k. */
  readonly stage1: readonly Stage1Hit[];
  /** The re-ranked top k, in final order. */
  readonly stage2: readonly Stage2Hit[];
  readonly timings: { readonly stage1Ms: number; readonly stage2Ms: number; readonly totalMs: number };
  readonly backendUsed: 'webgpu' | 'cpu';
  /** Why stage 2 ran on the CPU although WebGPU was allowed. */
  readonly fallbackReason?: string;
  /** Workers that scored stage 2 on the CPU: 2 when the helper took a share (src/engine/stage2Helper.ts); 1 on the GPU too. */
  readonly stage2Workers: number;
  /** The alpha this query's stage 2 used. */
  readonly alpha: Alpha;
  /** Why, when an adaptive rule chose it (empty for a fixed alpha). */
  readonly alphaReason: string;
  /** What the damage detector read in the query, when the rule asked for it. */
  readonly damage?: QueryDamage;
  /** Why the visible part could not be compared, where the rule asked for it (the hits then carry no sVisible). */
  readonly visibleMissing?: string;
}

export interface PairDetail {
  readonly grid: number;
  /** n x n plan, row = query patch, n = grid^2. */
  readonly plan: Float32Array;
  readonly u: Float32Array;
  readonly v: Float32Array;
  /** n x n distances 1 - cos. */
  readonly cost: Float32Array;
  readonly sEmd: number;
  readonly iterations: number;
  readonly marginalError: number;
}

export interface SearchOptions {
  /** Return this many stage-1 hits (at least k): evaluation needs ranks beyond k. */
  readonly stage1Length?: number;
}

export interface SearchEngineOptions {
  /**
   * The WebGPU scorer. Left out: created on first use where `navigator.gpu`
   * exists (from src/gpu, loaded lazily); null: CPU only.
   */
  readonly accelerator?: Stage2Accelerator | null;
  /** Use the JS loops instead of WebAssembly SIMD (tests). */
  readonly forceJs?: boolean;
  /** Stage-1 vectors as float32 (exact; the default), int8 with a per-vector scale, or int4 rows over int8 ones read from the details. */
  readonly stage1?: Stage1Holding;
  /** For int8-to-int4: the gallery size from which stage-1 rows are held as 4 bits (tests lower it). */
  readonly int4FromFaces?: number;
  /** Where stage 2 reads candidates' patch maps; left out, the engine keeps them in memory. */
  readonly details?: FaceDetailSource;
  /** Reads a query's kind of damage for a `byDamage` alpha rule; or why none could be loaded. */
  readonly damageDetector?: DamageDetectorSource;
  /** The stage-1 vectors are a fused pipeline's (two recognizers): stage 2 may re-weigh their cosines per query. */
  readonly fusedCosine?: FusedCosineLayout;
  /** A second core for stage 2's CPU path (src/engine/stage2Helper.ts); left out or null, stage 2 runs here alone. */
  readonly stage2Helper?: Stage2Helper | null;
}

export type DamageDetectorSource = { readonly model: DamageDetectorModel } | { readonly unavailable: string };

interface PreparedQuery {
  readonly unitEmbedding: Float32Array;
  readonly unitAverage: Float32Array;
  readonly grid: Float32Array;
  readonly features: FaceFeatures;
}

interface CachedSearch {
  readonly stage1: readonly Stage1Hit[];
  readonly sEmd: Float64Array;
  /** The second recognizer's own cosine of each top-k candidate (fused pipelines). */
  readonly sCosSecondary: Float64Array | null;
  readonly stage1Ms: number;
  readonly stage2Ms: number;
  readonly backendUsed: 'webgpu' | 'cpu';
  readonly fallbackReason?: string;
  readonly stage2Workers: number;
  readonly damage: QueryDamage | null;
  /** The visible-part cosines of the top k, or why there are none, where the rule compares them. */
  readonly visible: { readonly sVisible: Float64Array } | { readonly missing: string } | null;
}

export class SearchEngine {
  private readonly gallery: GalleryStore;
  private readonly cpu: CpuStage2Scorer;
  private accelerator: Stage2Accelerator | null | undefined;
  private acceleratorLoading: Promise<Stage2Accelerator | null> | null = null;
  private last: CachedSearch | null = null;
  /** The candidates' unit patches of the batch being scored, k x n x c, reused query to query (fresh large arrays are slow to fault in). */
  private batchPatches = new Float32Array(0);
  /** The candidates' unit average patches (APC's partners), k x c, reused likewise. */
  private batchAverages = new Float32Array(0);
  /** Stage 2 of one search at a time: a batch's patches live in batchPatches until it is scored (the GPU path awaits). */
  private stage2Queue: Promise<unknown> = Promise.resolve();
  private readonly damageDetector: DamageDetectorSource | undefined;
  /** What the detector read in each gallery face asked about so far (damage-matched library search); a face's map never changes. */
  private readonly damageByFace = new Map<string, OodTransform>();
  private readonly fusedCosine: FusedCosineLayout | null;
  private stage2Helper: Stage2Helper | null;
  /** The helper's share of the candidates, balanced query by query (nextHelperFraction). */
  private helperFraction = INITIAL_HELPER_FRACTION;
  /** Queries handed to the helper so far (their ids). */
  private helperQueries = 0;
  /** Buffers the helper's chunks travel in, back and forth. */
  private readonly chunkPool = new RecordChunkPool();
  /** The buffer the last query went to the helper in, handed back (null while one is out). */
  private spareQuery: Float32Array | null = null;

  constructor(options: SearchEngineOptions = {}) {
    this.stage2Helper = options.stage2Helper ?? null;
    if (options.fusedCosine) validateFusedCosineLayout(options.fusedCosine);
    this.fusedCosine = options.fusedCosine ?? null;
    this.damageDetector = options.damageDetector;
    this.accelerator = options.accelerator;
    this.gallery = new GalleryStore({ stage1: options.stage1, int4FromFaces: options.int4FromFaces, details: options.details, forceJs: options.forceJs });
    this.cpu = new CpuStage2Scorer({ forceJs: options.forceJs });
  }

  get size(): number {
    return this.gallery.size;
  }

  /** The fused pipeline's embedding layout, when the vectors are fused. */
  get fusedCosineLayout(): FusedCosineLayout | null {
    return this.fusedCosine;
  }

  ids(): string[] {
    return [...this.gallery.ids];
  }

  labels(): string[] {
    return [...this.gallery.labels];
  }

  add(items: readonly GalleryItem[]): void {
    this.gallery.add(items);
  }

  /** Adds stored faces by their encoded stage-1 rows (chunks of whole rows); their details come from the engine's detail source. */
  addRows(list: GalleryRowList, rows: Iterable<Uint8Array>, shape: GalleryShape): void {
    this.gallery.addRows(list, rows, shape);
  }

  has(id: string): boolean {
    return this.gallery.has(id);
  }

  /** A face's label, or undefined when it is not in the gallery. */
  labelOf(id: string): string | undefined {
    return this.gallery.labelOf(id);
  }

  /** Every face's id and label, in position order: the engine's own arrays (no copy), read-only, valid until the next change. */
  faces(): { readonly ids: readonly string[]; readonly labels: readonly string[] } {
    return { ids: this.gallery.ids, labels: this.gallery.labels };
  }

  /** Bytes held for stage 1, and for details when they are kept in memory. */
  get byteLength(): { stage1: number; detailsInMemory: number } {
    return this.gallery.byteLength;
  }

  /** Throws what add() would throw for this face's shape, without adding it (callers check before writing to disk). */
  requireCompatible(features: FaceFeatures, what: string): void {
    this.gallery.requireCompatible(features, what);
  }

  remove(ids: readonly string[]): void {
    this.gallery.remove(ids);
    for (const id of ids) this.damageByFace.delete(id);
    this.last = null;
  }

  /** New labels for these faces; the last search's cached results keep the labels they were found with. */
  relabel(ids: readonly string[], label: string): void {
    this.gallery.relabel(ids, label);
  }

  /** The stage-1 unit vectors of these faces (as stored: int8 rows come back dequantised), one row each. */
  unitEmbeddings(ids: readonly string[]): Float32Array {
    if (ids.length === 0) return new Float32Array(0);
    const dim = this.gallery.stage1.dim;
    const out = new Float32Array(ids.length * dim);
    ids.forEach((id, i) => out.set(this.gallery.unitEmbedding(this.gallery.position(id)), i * dim));
    return out;
  }

  clear(): void {
    this.gallery.clear();
    this.damageByFace.clear();
    this.last = null;
  }

  async search(query: FaceFeatures, settings: RerankSettings, options: SearchOptions = {}): Promise<SearchResult> {
    validateSettings(settings);
    if (this.gallery.size === 0) throw new AppError('empty-gallery', 'the gallery is empty', 'Drop a folder of labelled faces first.');
    const t0 = performance.now();
    const q = this.prepareQuery(query, settings.grid);
    const listLength = Math.max(settings.k, options.stage1Length ?? 0);
    const top = this.gallery.stage1.topK(q.unitEmbedding, listLength);
    let stage1 = this.stage1Hits(top);
    const t1 = performance.now();
    const kk = Math.min(settings.k, top.length);
    let positions = top.slice(0, kk).map((t) => t.index);
    const scored = this.stage2Queue.then(() => this.scoreWithBackend(q, positions, settings));
    // The next search waits for this one's stage 2 either way; this one's caller gets its error through `scored`.
    this.stage2Queue = scored.then(
      () => undefined,
      () => undefined,
    );
    const { result, backendUsed, fallbackReason, workers } = await scored;
    let sEmd = result.similarity;
    const fine = this.fineCosines(q.unitEmbedding, positions);
    let fineSecondary: (number | null)[] | null = null;
    if (fine) {
      const { order, scores } = rescoreTopK(
        stage1.slice(0, kk).map((h) => h.score),
        fine.fused,
      );
      positions = order.map((i) => positions[i]);
      sEmd = Float64Array.from(order, (i) => result.similarity[i]);
      fineSecondary = order.map((i) => fine.secondary[i]);
      stage1 = [...order.map((i, r) => ({ ...stage1[i], score: scores[r], rank: r + 1 })), ...stage1.slice(kk)];
    }
    const damage = settings.adaptiveAlpha?.byDamage ? this.readDamage(query) : null;
    const sCosSecondary = this.secondaryCosines(q.unitEmbedding, positions, fineSecondary);
    const visibleKind = visibleDamageFor(settings.adaptiveAlpha, damage, this.fusedCosine);
    const visible = visibleKind ? this.visibleCosines(query, visibleKind, positions) : null;
    const t3 = performance.now();
    const last: CachedSearch = { stage1, sEmd, sCosSecondary, stage1Ms: t1 - t0, stage2Ms: t3 - t1, backendUsed, fallbackReason, stage2Workers: workers, damage, visible };
    this.last = last;
    const visibleState = visible ? ('sVisible' in visible ? ({ ready: true } as const) : { missing: visible.missing }) : undefined;
    return this.assemble(last, alphaForQuery(settings.alpha, settings.adaptiveAlpha, stage1[0]?.score ?? 0, damage, this.fusedCosine, visibleState), t3 - t0);
  }

  /**
   * The cosine of the query's and each candidate's visible-part embedding of one kind (unit vectors as stored), or
   * why it cannot be compared: a query or a face indexed without it (before 2026-12-04, or by a recognizer without one).
   */
  private visibleCosines(query: FaceFeatures, kind: VisibleDamage, positions: readonly number[]): { sVisible: Float64Array } | { missing: string } {
    const own = query.visibleEmbeddings?.[kind];
    if (!own) return { missing: `the query has no ${kind} visible-part embedding (its recognizer gives none)` };
    const q = unitEmbedding(own, `the query's ${kind} visible-part embedding`);
    const sVisible = new Float64Array(positions.length);
    let missing = 0;
    positions.forEach((p, i) => {
      const g = this.gallery.visibleEmbedding(p, kind);
      if (!g || g.length !== q.length) {
        missing++;
        return;
      }
      let d = 0;
      for (let j = 0; j < q.length; j++) d += q[j] * g[j];
      sVisible[i] = d;
    });
    if (missing > 0) return { missing: `${missing} of the ${positions.length} candidates were indexed without it (before 2026-12-04); import their photos again to compare it` };
    return { sVisible };
  }

  /**
   * The candidates' cosines from their stored 16-bit stage-1 rows (src/engine/stage1Rescore.ts), the whole vector's
   * and, for a fused pipeline, the second recognizer's part; null where a candidate has no such row, and null in all
   * where none has (float32 galleries, faces stored before 2026-12-05). Each row is lent, so it is used as it is read.
   */
  private fineCosines(query: Float32Array, positions: readonly number[]): { fused: (number | null)[]; secondary: (number | null)[] } | null {
    const fused: (number | null)[] = [];
    const secondary: (number | null)[] = [];
    const layout = this.fusedCosine;
    let found = false;
    for (const p of positions) {
      const row = this.gallery.fineStage1(p);
      if (!row) {
        fused.push(null);
        secondary.push(null);
        continue;
      }
      if (row.length !== query.length)
        throw new AppError('storage-failed', `a stored 16-bit stage-1 row has ${row.length} values, the gallery ${query.length}`, 'Clear the gallery and import the photos again.');
      found = true;
      let d = 0;
      for (let j = 0; j < row.length; j++) d += query[j] * row[j];
      fused.push(d);
      secondary.push(layout ? secondaryCosine(query, row, layout) : null);
    }
    return found ? { fused, secondary } : null;
  }

  /** The second recognizer's cosine of each candidate, read from the fused rows (stage 1 only had their sum), or from the 16-bit rows where given. */
  private secondaryCosines(query: Float32Array, positions: readonly number[], fine: readonly (number | null)[] | null): Float64Array | null {
    const layout = this.fusedCosine;
    if (!layout) return null;
    if (layout.secondaryDims >= this.gallery.stage1.dim)
      throw new AppError(
        'invalid-argument',
        `the fused layout puts ${layout.secondaryDims} of the ${this.gallery.stage1.dim} embedding dimensions on the second recognizer, leaving none for the first`,
        'Rebuild the gallery with the active fused pipeline.',
      );
    return Float64Array.from(positions, (p, i) => fine?.[i] ?? secondaryCosine(query, this.gallery.stage1.row(p), layout));
  }

  /**
   * Stage 1 alone: the cosine top `length`. The damage-matched library search compares its drawn queries at alpha 0,
   * where stage 2 would only repeat this order and these scores.
   */
  searchStage1(query: FaceFeatures, length: number): Stage1Hit[] {
    if (this.gallery.size === 0) throw new AppError('empty-gallery', 'the gallery is empty', 'Drop a folder of labelled faces first.');
    this.gallery.requireCompatible(query, 'the query');
    return this.stage1Hits(this.gallery.stage1.topK(unitEmbedding(query.embedding, 'the query embedding'), length));
  }

  private stage1Hits(top: readonly { index: number; score: number }[]): Stage1Hit[] {
    return top.map((t, r) => ({ id: this.gallery.ids[t.index], label: this.gallery.labels[t.index], score: t.score, rank: r + 1 }));
  }

  /** The detector's reading of the query's own (unpooled) map, or why it cannot read it. */
  readDamage(query: FaceFeatures): QueryDamage {
    const d = this.damageDetector;
    if (!d) return { unavailable: 'no damage detector is loaded' };
    if ('unavailable' in d) return d;
    const map = query.patches;
    if (map.h * map.w !== d.model.positions || map.c !== d.model.channels)
      return { unavailable: `the damage detector reads ${d.model.positions} patches of ${d.model.channels} channels, this recognizer gives ${map.h}x${map.w}x${map.c}` };
    const verdict = detectDamage(d.model, map);
    return { kind: verdict.kind, probability: verdict.probabilities[verdict.kind] };
  }

  /**
   * What the damage detector reads in these gallery faces' own maps (one read and decode per face, then cached), or
   * why it cannot read them: the damage-matched library search compares each face with the query drawn the same way.
   */
  galleryDamage(ids: readonly string[]): OodTransform[] | { unavailable: string } {
    const d = this.damageDetector;
    if (!d) return { unavailable: 'no damage detector is loaded' };
    if ('unavailable' in d) return d;
    const shape = this.gallery.mapShape;
    if (!shape) return [];
    if (shape.h * shape.w !== d.model.positions || shape.c !== d.model.channels)
      return { unavailable: `the damage detector reads ${d.model.positions} patches of ${d.model.channels} channels, this gallery has ${shape.h}x${shape.w}x${shape.c}` };
    return ids.map((id) => {
      const known = this.damageByFace.get(id);
      if (known) return known;
      const kind = detectDamage(d.model, this.gallery.rawMap(this.gallery.position(id))).kind;
      this.damageByFace.set(id, kind);
      return kind;
    });
  }

  /** Re-blends the last query's cached scores with a new (fixed) alpha; no Sinkhorn runs. */
  reblend(alpha: Alpha): SearchResult {
    validateAlpha(alpha);
    if (!this.last) throw new AppError('invalid-argument', 'no search to re-blend yet (or the gallery changed since)', 'Run a search first.');
    return this.assemble(this.last, { alpha, reason: '' }, 0);
  }

  /** The transport plan and weights of one pair, for the flow and heatmap views (CPU, float64). */
  async pairDetail(query: FaceFeatures, galleryId: string, settings: RerankSettings): Promise<PairDetail> {
    validateSettings(settings);
    const pos = this.gallery.position(galleryId);
    const q = this.prepareQuery(query, settings.grid);
    // The pair as a batch of one through the CPU scorer: the same costs, weights and float32 rounding as search's batches, so s_emd here equals the listed one.
    // Its own arrays, not the batch buffers: a search's batch may still be on its way to the GPU.
    const candidate = Float32Array.from(this.gallery.unitGrid(pos, settings.grid));
    const weights: Stage2Weights =
      settings.weighting === 'apc'
        ? { kind: 'apc', queryAverage: q.unitAverage, candidateAverages: [Float32Array.from(this.gallery.unitAverage(pos))] }
        : this.batchWeights(settings.weighting, q, [pos], settings.grid);
    const n = settings.grid * settings.grid;
    const d = this.cpu.pairDetail({ n, c: this.gallery.channels, query: q.grid, candidates: [candidate], weights, sinkhorn: settings.sinkhorn }, 0);
    const r = d.result;
    if (!r.plan) throw new AppError('internal', 'the Sinkhorn solver returned no transport plan', 'Report this as a bug; the ranking itself is unaffected.');
    return {
      grid: settings.grid,
      plan: Float32Array.from(r.plan),
      u: d.u,
      v: d.v,
      cost: d.cost,
      sEmd: r.similarity,
      iterations: r.iterations,
      marginalError: r.marginalError,
    };
  }

  private assemble(last: CachedSearch, { alpha, reason, secondaryCosineWeight, visibleWeight }: QueryAlpha, totalMs: number): SearchResult {
    const secondary = last.sCosSecondary;
    const layout = this.fusedCosine;
    const cosine = (i: number) =>
      secondary && layout && secondaryCosineWeight !== undefined ? reweighFusedCosine(last.stage1[i].score, secondary[i], layout, secondaryCosineWeight) : last.stage1[i].score;
    const sVisible = last.visible && 'sVisible' in last.visible ? last.visible.sVisible : null;
    const topK = Array.from(last.sEmd, (sEmd, i) => ({ sEmd, sCos: cosine(i), ...(sVisible ? { sVisible: sVisible[i] } : {}) }));
    const stage2: Stage2Hit[] = rerankTopK(topK, alpha, visibleWeight ?? 0).map((e) => {
      const hit = last.stage1[e.stage1Index];
      const own = secondary ? { sCosSecondary: secondary[e.stage1Index] } : {};
      const vis = e.sVisible !== undefined ? { sVisible: e.sVisible } : {};
      return { id: hit.id, label: hit.label, score: e.score, sEmd: e.sEmd, sCos: e.sCos, ...own, ...vis, rankBefore: e.rankBefore, rankAfter: e.rankAfter };
    });
    return {
      stage1: last.stage1,
      stage2,
      timings: { stage1Ms: last.stage1Ms, stage2Ms: last.stage2Ms, totalMs },
      backendUsed: last.backendUsed,
      ...(last.fallbackReason ? { fallbackReason: last.fallbackReason } : {}),
      stage2Workers: last.stage2Workers,
      alpha,
      alphaReason: reason,
      ...(last.damage ? { damage: last.damage } : {}),
      ...(last.visible && 'missing' in last.visible ? { visibleMissing: last.visible.missing } : {}),
    };
  }

  private prepareQuery(features: FaceFeatures, grid: number): PreparedQuery {
    this.gallery.requireCompatible(features, 'the query');
    requireValidGrid(features.patches, grid);
    return {
      unitEmbedding: unitEmbedding(features.embedding, 'the query embedding'),
      unitAverage: unitAveragePatch(features.patches),
      grid: unitPatchGrid(features.patches, grid),
      features,
    };
  }

  /** Inputs of the weightings computed per pair in JS (uniform, CC, LMK): never SC's costs or APC's dot products. */
  private pairWeightInputs(q: PreparedQuery, pos: number, grid: number): PairWeightInputs {
    return {
      grid,
      c: this.gallery.channels,
      queryPatches: q.grid,
      galleryPatches: this.gallery.unitGrid(pos, grid),
      queryUnitAverage: q.unitAverage,
      galleryUnitAverage: this.gallery.unitAverage(pos),
      queryUnitEmbedding: q.unitEmbedding,
      galleryUnitEmbedding: this.gallery.unitEmbedding(pos),
      cost: [],
      queryLandmarks: q.features.landmarks68,
      galleryLandmarks: this.gallery.landmarksOf(pos),
      queryCropSize: q.features.cropSize,
      galleryCropSize: this.gallery.cropSizeOf(pos),
    };
  }

  private buildBatch(q: PreparedQuery, positions: readonly number[], settings: RerankSettings): Stage2Batch {
    const grid = settings.grid;
    const n = grid * grid;
    const c = this.gallery.channels;
    const block = n * c;
    const apc = settings.weighting === 'apc';
    if (this.batchPatches.length < positions.length * block) this.batchPatches = new Float32Array(positions.length * block);
    if (apc && this.batchAverages.length < positions.length * c) this.batchAverages = new Float32Array(positions.length * c);
    // Copied as read: a detail source may reuse a face's arrays once it has been asked for another face.
    const candidateAverages: Float32Array[] = [];
    const candidates = positions.map((p, i) => {
      const slot = this.batchPatches.subarray(i * block, (i + 1) * block);
      slot.set(this.gallery.unitGrid(p, grid));
      if (apc) {
        const average = this.batchAverages.subarray(i * c, (i + 1) * c);
        average.set(this.gallery.unitAverage(p));
        candidateAverages.push(average);
      }
      return slot;
    });
    return {
      n,
      c,
      query: q.grid,
      candidates,
      weights: apc ? { kind: 'apc', queryAverage: q.unitAverage, candidateAverages } : this.batchWeights(settings.weighting, q, positions, grid),
      sinkhorn: settings.sinkhorn,
    };
  }

  /** Weights other than APC (which the scorer computes beside the costs): per pair in JS, or from the costs. */
  private batchWeights(weighting: Weighting, q: PreparedQuery, positions: readonly number[], grid: number): Stage2Weights {
    if (weighting === 'sc' || weighting === 'sc-sim') return { kind: weighting };
    const n = grid * grid;
    const u = new Float32Array(positions.length * n);
    const v = new Float32Array(positions.length * n);
    positions.forEach((pos, p) => {
      const w = pairWeights(weighting, this.pairWeightInputs(q, pos, grid));
      u.set(w.u, p * n);
      v.set(w.v, p * n);
    });
    return { kind: 'given', u, v };
  }

  private async scoreWithBackend(
    q: PreparedQuery,
    positions: readonly number[],
    settings: RerankSettings,
  ): Promise<{ result: Stage2BatchResult; backendUsed: 'webgpu' | 'cpu'; fallbackReason?: string; workers: number }> {
    const onCpu = async (reason?: string | null) => {
      const cpu = await this.scoreOnCpu(q, positions, settings);
      const why = [reason, cpu.helperFailure].filter((r): r is string => Boolean(r)).join('; ');
      return { result: cpu.result, backendUsed: 'cpu' as const, workers: cpu.workers, ...(why ? { fallbackReason: why } : {}) };
    };
    if (settings.backend === 'cpu' || positions.length === 0) return onCpu();
    let reason: string | null;
    const accelerator = await this.loadAccelerator();
    if (!accelerator) {
      reason = 'WebGPU is not available here (no navigator.gpu)';
    } else {
      try {
        reason = await accelerator.ready();
        const declined =
          !reason && settings.backend === 'auto' ? autoDeclinesAdapter({ isFallbackAdapter: accelerator.isSoftwareAdapter ?? false, description: 'the WebGPU adapter' }, 'the CPU') : null;
        if (declined) return onCpu(declined);
        if (!reason) return { result: await accelerator.scoreBatch(this.buildBatch(q, positions, settings)), backendUsed: 'webgpu', workers: 1 };
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
      }
    }
    return onCpu(reason);
  }

  /**
   * The CPU path: with a helper, the later part of the candidates goes to it as stored bytes while this worker scores
   * the rest; a helper that fails is dropped for good, its share scored here, and the failure reported.
   */
  private async scoreOnCpu(q: PreparedQuery, positions: readonly number[], settings: RerankSettings): Promise<{ result: Stage2BatchResult; workers: number; helperFailure?: string }> {
    const helper = this.stage2Helper;
    const share = helper && settings.weighting === 'apc' && this.gallery.readsEncoded ? helperShare(positions.length, this.helperFraction) : 0;
    if (!helper || share === 0) return { result: this.scoreHere(q, positions, settings), workers: 1 };
    const cut = positions.length - share;
    const t0 = performance.now();
    const startedAt = epochNow();
    const theirs = positions.slice(cut);
    const map = this.gallery.nativeGrid;
    const queryId = ++this.helperQueries;
    // The query goes in one reused buffer, patches then average patch, which the helper hands back.
    const blockLength = q.grid.length;
    const sent = this.spareQuery && this.spareQuery.length >= blockLength + q.unitAverage.length ? this.spareQuery : new Float32Array(blockLength + q.unitAverage.length);
    this.spareQuery = null;
    sent.set(q.grid);
    sent.set(q.unitAverage, blockLength);
    const begun = settled(
      helper.beginQuery({
        id: queryId,
        mapH: map.h,
        mapW: map.w,
        grid: settings.grid,
        c: this.gallery.channels,
        query: sent.subarray(0, blockLength),
        queryAverage: sent.subarray(blockLength, blockLength + q.unitAverage.length),
        sinkhorn: settings.sinkhorn,
      }),
    );
    // The helper's share is read and posted a chunk at a time, before this worker's own: the helper starts after the
    // first chunk's reads while the engine reads the rest.
    const chunks: Promise<Settled<EncodedStage2Result>>[] = [];
    for (let i = 0; i < theirs.length; i += HELPER_CHUNK_CANDIDATES) {
      const records = this.chunkPool.pack(Math.min(HELPER_CHUNK_CANDIDATES, theirs.length - i), (j) => this.gallery.encodedDetail(theirs[i + j]));
      chunks.push(settled(helper.scoreEncoded({ queryId, ...records })));
    }
    const mine = this.scoreHere(q, positions.slice(0, cut), settings);
    const engineMs = performance.now() - t0;
    const start = await begun;
    const parts = await Promise.all(chunks);
    const answered = helperAnswers(start, parts, share);
    let other: Stage2BatchResult;
    let helperFailure: string | undefined;
    if ('answers' in answered) {
      const { answers, returnedQuery } = answered;
      for (const a of answers) this.chunkPool.giveBack(a.returnedRecords);
      if (returnedQuery.buffer instanceof ArrayBuffer) this.spareQuery = new Float32Array(returnedQuery.buffer);
      other = concatResults(...answers);
      const helperMs = helperElapsedMs(answers, startedAt);
      this.helperFraction = nextHelperFraction(this.helperFraction, { engineMs, engineCandidates: cut, helperMs, helperCandidates: share });
    } else {
      this.stage2Helper = null;
      helperFailure = `stage 2's second worker failed (${answered.failure}); stage 2 now runs on one core`;
      other = this.scoreHere(q, theirs, settings);
    }
    return { result: concatResults(mine, other), workers: helperFailure ? 1 : 2, ...(helperFailure ? { helperFailure } : {}) };
  }

  /**
   * Candidates scored on this worker's CPU. A gallery whose store hands out maps in the patch codec (the app's, on
   * disk), with APC weights (the default), is scored from the stored maps as read (CpuStage2Scorer.scoreEncodedMaps:
   * no decoded rows, any grid); other weightings and stores through decoded candidates. Same results.
   */
  private scoreHere(q: PreparedQuery, positions: readonly number[], settings: RerankSettings): Stage2BatchResult {
    if (settings.weighting !== 'apc' || !this.gallery.readsPatchCodec) return this.cpu.scoreBatch(this.buildBatch(q, positions, settings));
    const mapOf = (i: number): Uint8Array => {
      const map = this.gallery.patchCodecMap(positions[i]);
      if (!map) throw new AppError('internal', 'a gallery that reads stored maps returned none', 'Report this as a bug.');
      return map;
    };
    return this.cpu.scoreEncodedMaps({ grid: settings.grid, c: this.gallery.channels, query: q.grid, queryAverage: q.unitAverage, count: positions.length, mapOf, sinkhorn: settings.sinkhorn });
  }

  private loadAccelerator(): Promise<Stage2Accelerator | null> {
    if (this.accelerator !== undefined) return Promise.resolve(this.accelerator);
    const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
    if (!nav?.gpu) return Promise.resolve((this.accelerator = null));
    this.acceleratorLoading ??= import('../gpu/gpuStage2.ts').then(
      (m) => (this.accelerator = new m.GpuStage2()),
      () => (this.accelerator = null),
    );
    return this.acceleratorLoading;
  }
}

function validateSettings(s: RerankSettings): void {
  if (!Number.isInteger(s.k) || s.k < 1) throw new AppError('invalid-argument', `k must be a positive integer, got ${s.k}`, 'The paper uses k = 100.');
  validateAlpha(s.alpha);
  if (s.adaptiveAlpha) validateAdaptiveAlpha(s.adaptiveAlpha);
  validateSinkhornOptions(s.sinkhorn);
  if (!['auto', 'webgpu', 'cpu'].includes(s.backend)) throw new AppError('invalid-argument', `unknown backend ${String(s.backend)}`, "Use 'auto', 'webgpu' or 'cpu'.");
}

type Settled<T> = { ok: T } | { failed: string };

function settled<T>(p: Promise<T>): Promise<Settled<T>> {
  return p.then(
    (ok) => ({ ok }),
    (e: unknown) => ({ failed: e instanceof Error ? e.message : String(e) }),
  );
}

/** The helper's answers for a query's chunks, or why they cannot be used. */
function helperAnswers(
  start: Settled<{ readonly returnedQuery: Float32Array }>,
  parts: readonly Settled<EncodedStage2Result>[],
  share: number,
): { answers: EncodedStage2Result[]; returnedQuery: Float32Array } | { failure: string } {
  if ('failed' in start) return { failure: start.failed };
  const answers: EncodedStage2Result[] = [];
  for (const p of parts) {
    if ('failed' in p) return { failure: p.failed };
    answers.push(p.ok);
  }
  const scores = answers.reduce((n, a) => n + a.similarity.length, 0);
  return scores === share ? { answers, returnedQuery: start.ok.returnedQuery } : { failure: `it returned ${scores} scores for ${share} candidates` };
}

/** Batches' results end to end, in the order given. */
function concatResults(...parts: readonly Stage2BatchResult[]): Stage2BatchResult {
  const join = <T extends Float64Array | Int32Array>(pick: (r: Stage2BatchResult) => T, make: (n: number) => T): T => {
    const out = make(parts.reduce((n, r) => n + pick(r).length, 0));
    let at = 0;
    for (const r of parts) {
      out.set(pick(r), at);
      at += pick(r).length;
    }
    return out;
  };
  return {
    similarity: join(
      (r) => r.similarity,
      (n) => new Float64Array(n),
    ),
    iterations: join(
      (r) => r.iterations,
      (n) => new Int32Array(n),
    ),
    marginalError: join(
      (r) => r.marginalError,
      (n) => new Float64Array(n),
    ),
  };
}

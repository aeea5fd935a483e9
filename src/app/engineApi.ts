/**
 * The one interface the UI talks to (EngineApi) and the values that cross
 * it. The object (src/app/appEngine.ts) runs in a Worker behind comlink or,
 * in Node tests, in-process. Only small, structured-cloneable values cross;
 * big arrays stay in the worker or move as transferables.
 */
import type { PlainNotice } from '../core/errors.ts';
import type { AdaptiveAlpha, FusedCosineLayout, OodTransform, RerankSettings } from '../core/types.ts';
import type { Alpha } from '../engine/rerank.ts';
import type { ExecutionBackend } from '../models/loadModels.ts';
import type { UnknownPersonVerdict } from '../models/unknownPerson.ts';
import type { StorageFormat } from '../storage/storageFormat.ts';
import type { LibraryFaceView, LibraryInfo, LibraryPhotoView, LibrarySearchView } from './libraryService.ts';
import type { StoredPhoto } from '../storage/photoStore.ts';
import type { ExtractFaultRule } from './ports.ts';
import type { ImportEntry } from './zipEntries.ts';

export interface InitOptions {
  readonly ortBackend: OrtBackendChoice;
  readonly recognizerId?: string;
  /** Extraction workers (default: one per core, at most 4). */
  readonly workers?: number;
  /** Another database than the app's own (tests and benches keep theirs apart): names the legacy IndexedDB and the OPFS folder. */
  readonly dbName?: string;
  /** How faces are stored: 'compact' (the app's: int8 stage 1, 8-bit sparse patch maps, JPEG thumbnails) or 'float32' (exact; evaluation's reference). */
  readonly storageFormat?: StorageFormat;
  /** Accept injectExtractFaults (the page passes it only with ?testHooks=1 in its address). */
  readonly testHooks?: boolean;
}

/** Start-up work the page can show: moving a gallery from IndexedDB into the record store. */
export interface StartupProgress {
  readonly phase: 'migrating';
  readonly done: number;
  readonly total: number;
}

export interface EngineApi {
  /** `onStartup` hears how far moving an IndexedDB gallery of an earlier version has got (only when there is one). */
  init(opts: InitOptions, onStartup?: (p: StartupProgress) => void): Promise<ModelsStatus>;
  galleryInfo(): GalleryInfo;
  galleryItems(label?: string): GalleryItemView[];
  thumbnail(key: string): Promise<Blob | undefined>;
  /** Extraction workers replaced after a crash or a hang since the engine started. */
  workerRestarts(): number;
  /** Test hook: the next matching gallery extract jobs crash or hang their worker; `jobTimeoutMs` shortens the per-image limit. */
  injectExtractFaults(rules: readonly ExtractFaultRule[], jobTimeoutMs?: number): void;
  /** Files to import, sent in small batches; `reset` starts a new list. */
  stageImportEntries(entries: readonly ImportEntry[], reset: boolean): number;
  importStaged(onProgress: (p: ImportProgress) => void): Promise<ImportProgress>;
  importFiles(entries: readonly ImportEntry[], onProgress: (p: ImportProgress) => void): Promise<ImportProgress>;
  cancelImport(): void;
  /** An import the last page left unfinished, reported once. */
  takeInterruptedImport(): Promise<InterruptedImport | null>;
  exportGallery(): Promise<Blob>;
  importGalleryFile(fileName: string, file: Blob): Promise<{ added: number; skipped: number }>;
  removeItems(keys: readonly string[]): Promise<void>;
  removeIdentity(label: string): Promise<number>;
  clearGallery(): Promise<void>;
  setQuery(fileName: string, file: Blob, ood: OodTransform, faceIndex?: number, seed?: number): Promise<QueryView>;
  setQueryFromGallery(key: string): Promise<QueryView>;
  runSearch(settings: RerankSettings): Promise<SearchView>;
  /** Alpha only re-blends the last search's cached scores: no Sinkhorn runs. */
  reblend(alpha: Alpha): SearchView;
  pairDetail(key: string, settings: RerankSettings): Promise<PairView>;
  /** Imports the staged files as a photo library (every face of every photo; folder names are not labels), then groups new faces into people. */
  importStagedLibrary(onProgress: (p: ImportProgress) => void): Promise<ImportProgress>;
  libraryInfo(): LibraryInfo;
  /** One person's faces (by label), or every face of the library. */
  libraryFaces(label?: string): LibraryFaceView[];
  /** A library photo with every face boxed (null: no such photo in the library). */
  libraryPhoto(photoHash: string): Promise<LibraryPhotoView | null>;
  /** Only a library photo's stored size and preview (what a result's thumbnail draws), without its faces. */
  libraryPhotoPreview(photoHash: string): Promise<StoredPhoto | null>;
  /** Names a person (a name already taken merges the two); returns the name. */
  namePerson(label: string, name: string): Promise<string>;
  mergePeople(from: string, into: string): Promise<void>;
  /** Takes a face out of its person into a new unnamed one; returns its label. */
  moveFaceOut(key: string): Promise<string>;
  /** The current query against the photo library. */
  searchLibrary(settings: RerankSettings): Promise<LibrarySearchView>;
  evaluate(opts: EvalOptions, onProgress?: (p: EvalProgress) => void): Promise<EvalReport>;
  cancelEvaluation(): void;
}

export type OrtBackendChoice = 'auto' | ExecutionBackend;

export interface ModelStatus {
  readonly id: string;
  readonly title: string;
  readonly role: string;
  readonly backend: ExecutionBackend;
  readonly loadMs: number;
}

export interface WebGpuInfo {
  readonly available: boolean;
  /** True for a software adapter such as SwiftShader. */
  readonly isFallbackAdapter: boolean;
  readonly description: string;
}

export interface ModelsStatus {
  readonly backend: ExecutionBackend;
  readonly models: readonly ModelStatus[];
  readonly webgpu: WebGpuInfo;
  /** Why the backend differs from the one asked for, when it does. */
  readonly backendNote?: string;
  readonly totalMs: number;
  /** The active recognizer's native patch grid and embedding size. */
  readonly patchGrid: { readonly h: number; readonly w: number; readonly c: number };
  readonly embeddingDim: number;
  /** The recognizer (or fused pipeline) features come from. */
  readonly active: { readonly id: string; readonly title: string; readonly fusedCosine?: FusedCosineLayout };
  /** Every recognizer and pipeline, for the model picker. */
  readonly recognizers: readonly { readonly id: string; readonly title: string }[];
}

export interface ImportProblem {
  readonly file: string;
  readonly code: string;
  readonly message: string;
  readonly hint: string;
}

/** The problems of one kind (one code) in an import. */
export interface ImportProblemGroup {
  readonly code: string;
  readonly count: number;
  /** The first problem's hint: within one kind the fix does not depend on the file. */
  readonly hint: string;
  /** The first few problems of this kind, so files can be named while the import runs. */
  readonly examples: readonly ImportProblem[];
}

export interface ImportProgress {
  readonly done: number;
  readonly total: number;
  readonly added: number;
  readonly skippedDuplicates: number;
  /**
   * Every problem, on the finished report only; [] while running. A report
   * crosses to the page every 150 ms, and 5,000 problems cloned and drawn
   * each time froze it: while running the page gets problemGroups.
   */
  readonly problems: readonly ImportProblem[];
  /** Problems by kind, in the order each kind first occurred, on every report. */
  readonly problemGroups: readonly ImportProblemGroup[];
  readonly problemCount: number;
  readonly imagesPerSecond: number;
  readonly etaSeconds: number;
  readonly finished: boolean;
  readonly cancelled: boolean;
  /** Mean ms per image per pipeline step, over this import. */
  readonly stepMs: Readonly<Record<string, number>>;
  /** A photo library's import, once every photo is read: its new faces are being grouped into people. */
  readonly phase?: 'grouping';
}

export interface InterruptedImport {
  /** Images finished before the page went away. */
  readonly done: number;
  readonly total: number;
}

export interface IdentityCount {
  readonly label: string;
  readonly count: number;
}

export interface GalleryInfo {
  readonly modelKey: string;
  readonly count: number;
  readonly identities: readonly IdentityCount[];
}

export interface GalleryItemView {
  readonly key: string;
  readonly label: string;
  readonly fileName: string;
}

/** One entry of a ranked list as the UI shows it. */
export interface RankedView {
  readonly key: string;
  readonly label: string;
  readonly fileName: string;
  readonly score: number;
  readonly sCos: number;
  readonly sEmd?: number;
  /** 1-based ranks before and after re-ranking. */
  readonly rankBefore: number;
  readonly rankAfter: number;
}

export interface QueryView {
  readonly fileName: string;
  readonly faces: readonly { x: number; y: number; width: number; height: number; score: number }[];
  readonly chosenIndex: number;
  readonly aligned: Blob;
  readonly knownIdentity?: string;
  /** Something the extraction noted while it still gave a face (e.g. a model moved from WebGPU to WASM on it). */
  readonly notice?: PlainNotice;
}

export interface SearchView {
  readonly stage1: readonly RankedView[];
  readonly stage2: readonly RankedView[];
  readonly stage1Ms: number;
  readonly stage2Ms: number;
  readonly sinkhornBackend: 'webgpu' | 'cpu';
  readonly fallbackReason?: string;
  /** CPU workers that scored stage 2 (2 when its helper took a share). */
  readonly stage2Workers: number;
  readonly galleryCount: number;
  readonly k: number;
  /** The alpha this query got, and why when an adaptive rule chose it. */
  readonly alpha: number | 'sum';
  readonly alphaReason: string;
  /**
   * Whether the top-1 should be presented as the answer, judged on the stage-1
   * top-1 cosine against thresholds chosen on lfw-dev (src/models/unknownPerson.ts);
   * null when the recognizer has none.
   */
  readonly unknownPerson: UnknownPersonVerdict | null;
}

export interface PairView {
  readonly key: string;
  readonly grid: number;
  /** N x N transport plan, row = query patch. */
  readonly plan: Float32Array;
  readonly u: Float32Array;
  readonly v: Float32Array;
  readonly sEmd: number;
  readonly iterations: number;
  readonly marginalError: number;
  readonly galleryAligned: Blob;
  /** 'none': the query as it is; else the pair was scored with the query drawn with this occluder (damage-matched library search). */
  readonly via: OodTransform;
}

export interface EvalOptions {
  readonly ood: OodTransform;
  readonly settings: RerankSettings;
  /** Evaluate at most this many queries (an evenly spaced subset, deterministic). */
  readonly limit?: number;
  readonly seed: number;
  /** Include every query's ranked labels (for independent re-computation of the metrics). */
  readonly withRankings?: boolean;
  /** More settings evaluated on the same queries (their features computed once); reported in `variants`. */
  readonly extraSettings?: readonly RerankSettings[];
}

export interface EvalProgress {
  readonly done: number;
  readonly total: number;
}

export interface MetricTriple {
  readonly p1: number;
  readonly rp: number;
  readonly mapr: number;
}

export interface EvalReport {
  readonly model: string;
  readonly grid: number;
  readonly weights: string;
  /** The fixed alpha (unused when `adaptive_alpha` is set). */
  readonly alpha: number | 'sum';
  /** The per-query alpha rule the main stage-2 numbers used, if any (the sweep is always fixed alphas). */
  readonly adaptive_alpha: AdaptiveAlpha | null;
  /** With a rule by damage kind: how many queries the detector read as each kind, or why it could not (reason: count). */
  readonly damage_read?: Readonly<Record<string, number>>;
  readonly k: number;
  readonly ood: string;
  readonly sinkhorn: string;
  readonly n_queries: number;
  readonly gallery_size: number;
  readonly stage1: MetricTriple;
  readonly stage2: MetricTriple;
  readonly max_precision_at_k: number;
  readonly ms_per_query: { readonly stage1: number; readonly stage2: number };
  readonly emd_backend: string;
  readonly alpha_sweep: readonly { readonly alpha: number; readonly stage2: MetricTriple }[];
  readonly cancelled: boolean;
  /** One report per `EvalOptions.extraSettings` entry, in order. */
  readonly variants?: readonly EvalReport[];
  readonly rankings?: readonly { readonly query: string; readonly label: string; readonly relevant: number; readonly stage1: readonly string[]; readonly stage2: readonly string[] }[];
}

/**
 * What the app services need from the outside world, as interfaces: the
 * worker file (workers/engine.worker.ts) passes real implementations (a pool
 * of extraction workers, IndexedDB), unit tests pass in-memory ones
 * (tests/support/appPorts.ts).
 */
import type { FaceFeatures, OodTransform } from '../core/types.ts';
import type { DamageDetectorModel } from '../engine/damageDetector.ts';
import type { MatchedNap } from '../models/matchedNap.ts';
import type { FaceDetailSource } from '../engine/faceDetails.ts';
import type { GalleryShape, Stage1Format } from '../engine/galleryStore.ts';
import type { PhotoToStore, StoredPhoto } from '../storage/photoStore.ts';
import type { StorageFormat } from '../storage/storageFormat.ts';
import type { LegacyGalleryPort } from '../storage/migrateLegacyGallery.ts';
import type { ModelsStatus, OrtBackendChoice } from './engineApi.ts';
import type { AlignedImageType, ExtractOptions, ExtractOutcome, LibraryExtractOutcome } from './extractTypes.ts';
import type { StoredFace } from './storedFace.ts';

/** Feature extraction, run by several workers at once. */
export interface ExtractorPort {
  /** How many extract jobs run at the same time. */
  readonly concurrency: number;
  /** Workers replaced after a crash or a hang since the extractor started. */
  readonly restarts: number;
  /** Never rejects for a bad image (that is an `ok: false` outcome); rejects when the extractor itself fails. */
  extract(path: string, bytes: ArrayBuffer, opts: ExtractOptions): Promise<ExtractOutcome>;
  /** Every face of a library photo (issue 17); never rejects for a bad image, like extract. */
  extractLibrary(path: string, bytes: ArrayBuffer, opts?: { readonly alignedAs?: AlignedImageType }): Promise<LibraryExtractOutcome>;
  /** Features of an already aligned face after a query transform (evaluation builds its queries from stored faces). */
  embedAligned(aligned: Blob, landmarks68: Float32Array, ood: OodTransform, seed: number): Promise<FaceFeatures>;
  stop(): void;
}

/** What start-up reads to make a gallery searchable: no face's features, only stage 1's rows and the list. */
export interface StoredGalleryIndex {
  /** Face keys, in the order of the rows. */
  readonly keys: readonly string[];
  /** Each face's label, in the same order. */
  readonly labels: readonly string[];
  /**
   * The entries' stage-1 rows, encoded as the storage's stage1Format (src/engine/quant/int8Rows.ts, or float32),
   * as chunks of whole rows in order; a chunk may be a view that is reused once the next one is taken.
   */
  readonly rows: Iterable<Uint8Array>;
  /** Null for an empty gallery. */
  readonly shape: GalleryShape | null;
}

/** The gallery on disk, one record per face; every put is atomic. */
export interface GalleryStoragePort {
  /** How the stored stage-1 rows are encoded (the engine holds them so). */
  readonly stage1Format: Stage1Format;
  /** The type thumbnails are stored in: a face's thumbnail given in it is stored as it is, any other is converted. */
  readonly thumbnailType: AlignedImageType;
  loadIndex(modelKey: string): Promise<StoredGalleryIndex>;
  /**
   * A stored face's file name, synchronously (the lists and results ask for a few at a time; start-up reads none,
   * so a million-face gallery does not hold a million name strings). Undefined for a face not stored.
   */
  fileNameOf(key: string): string | undefined;
  /** Where stage 2 reads one model's candidates, synchronously. */
  details(modelKey: string): FaceDetailSource;
  put(face: StoredFace): Promise<void>;
  has(key: string): Promise<boolean>;
  get(key: string): Promise<StoredFace | undefined>;
  /** One face's thumbnail alone (the lists and results show many; decoding whole records for them would be waste). */
  thumbnail(key: string): Promise<Blob | undefined>;
  /** Streams one model's faces with their (decoded) features: exports and migration, never start-up. */
  forEach(modelKey: string, onFace: (f: StoredFace) => void): Promise<number>;
  delete(keys: readonly string[]): Promise<void>;
  /** Gives these faces (of one model) a new label, in one atomic write. */
  relabel(keys: readonly string[], label: string): Promise<void>;
  clear(modelKey: string): Promise<void>;
  /** The running import's progress, kept on disk so the next page load can say an import was cut short. */
  readJournal(modelKey: string): Promise<ImportJournal | undefined>;
  writeJournal(journal: ImportJournal): Promise<void>;
  clearJournal(modelKey: string): Promise<void>;
}

/** The photo library's photos by content hash: previews to draw the faces' boxes on, and which photos hold no face (src/storage/photoStore.ts). */
export interface LibraryPhotosPort {
  has(photoHash: string): boolean;
  put(photoHash: string, photo: PhotoToStore): Promise<void>;
  /** Undefined when the photo was never stored (or its file was cut short). */
  get(photoHash: string): Promise<StoredPhoto | undefined>;
}

export interface ImportJournal {
  readonly modelKey: string;
  /** Images in the import (after zips were opened). */
  readonly total: number;
  /** Images finished (indexed, skipped or refused) when last written. */
  readonly done: number;
  readonly startedAt: number;
}

/** Which extract jobs should fail on purpose; the end-to-end tests drive this (see workers/testHooks.ts). */
/** 'lose-gpu': the worker's WebGPU device is destroyed before the job runs (a lost GPU, for real). */
export type ExtractFault = 'crash' | 'hang' | 'lose-gpu';

/** A fault for the next `times` extract jobs, gallery or query (of files whose path contains `file`, when given). */
export interface ExtractFaultRule {
  readonly kind: ExtractFault;
  readonly times: number;
  readonly file?: string;
}

export interface TestHooksPort {
  injectExtractFaults(rules: readonly ExtractFaultRule[], jobTimeoutMs?: number): void;
}

export interface StartedExtractor {
  readonly extractor: ExtractorPort;
  readonly status: ModelsStatus;
  /** Changes whenever the recognizer's weights, graphs or fusion change: galleries are keyed by it. */
  readonly recognizerVersion: string;
  readonly testHooks: TestHooksPort;
}

export interface ExtractorStartOptions {
  readonly ortBackend: OrtBackendChoice;
  readonly recognizerId?: string;
  readonly workers?: number;
  readonly testHooks: boolean;
}

/** How the engine gets its ports when it starts (and again on a recognizer or backend switch). */
export interface EnginePorts {
  startExtractor(opts: ExtractorStartOptions): Promise<StartedExtractor>;
  openStorage(opts: { dbName?: string; format?: StorageFormat }): Promise<GalleryStoragePort>;
  openLibraryPhotos(opts: { dbName?: string }): Promise<LibraryPhotosPort>;
  /** The IndexedDB gallery of earlier versions, if this browser has one to migrate (null: nothing to move). */
  openLegacyStorage?(dbName?: string): Promise<LegacyGalleryPort | null>;
  /** The damage detector for the default's per-query alpha (left out: the stage-1 score rule only). */
  loadDamageDetector?(): Promise<DamageDetectorModel>;
  /** The damage-matched library search's nuisance directions (left out: drawn pairs are compared by the plain cosine). */
  loadMatchedNap?(): Promise<MatchedNap>;
  /** Milliseconds from a monotonic clock (progress rates, timings). */
  now(): number;
  /** Wall-clock time stamped on new records. */
  wallClock(): number;
}

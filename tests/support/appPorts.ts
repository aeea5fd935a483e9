/**
 * In-memory ports for the app services' unit tests: storage in a Map, and an
 * extractor that reads "features" out of the file's text instead of running
 * models. A test file's bytes are `face:<identity>:<variant>` (the face of
 * that person, that photo; `:central-of-several` after it: a group photo,
 * indexed with a notice); anything else is refused as a real extractor
 * refuses a bad image. Features are a closed form of (identity, variant), so
 * a test can compute the expected ranking itself.
 */
import type { ExtractFaultRule, ExtractorPort, GalleryStoragePort, LibraryPhotosPort, EnginePorts, ImportJournal, StartedExtractor, StoredGalleryIndex, TestHooksPort } from '../../src/app/ports.ts';
import type { AlignedImageType, ExtractOptions, ExtractOutcome, LibraryExtractOutcome } from '../../src/app/extractTypes.ts';
import type { ModelsStatus } from '../../src/app/engineApi.ts';
import { storedToFeatures, type StoredFace } from '../../src/app/storedFace.ts';
import { faceDetailOf, type FaceDetailSource } from '../../src/engine/faceDetails.ts';
import { unitEmbedding } from '../../src/engine/vectors.ts';
import { AppError, type PlainNotice } from '../../src/core/errors.ts';
import { PhotoStore } from '../../src/storage/photoStore.ts';
import { MemoryDirectory } from './memoryFiles.ts';
import type { FaceFeatures, OodTransform } from '../../src/core/types.ts';

export const EMBED_DIM = 8;
export const GRID = 7;
export const CHANNELS = 4;

/** The file a test imports: its content names the person and the photo. */
export function faceFile(identity: string, variant: number): Blob {
  return new Blob([`face:${identity}:${variant}`]);
}

/** A library photo showing these faces (`[identity, variant]`), left to right (FakeExtractor.extractLibrary). */
export function libraryPhotoFile(faces: readonly (readonly [string, number])[]): Blob {
  return new Blob([`photo:${faces.map(([i, v]) => `${i}:${v}`).join(',')}`]);
}

/** A photo of that person among others of similar size: extracted with a 'several-faces-indexed-central' notice, as the real extractor does. */
export function groupPhotoFile(identity: string, variant: number): Blob {
  return new Blob([`face:${identity}:${variant}:central-of-several`]);
}

function identityHash(identity: string): number {
  let h = 0;
  for (const ch of identity) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return h;
}

function identityIndex(identity: string): number {
  return identityHash(identity) % EMBED_DIM;
}

/**
 * Person i's embedding points along axis i (from a hash of the name, so
 * two people can share one); photo v tilts it towards axis (i + 1 + v) by
 * 0.3 v / (v + 1), so later photos drift further from the person's first.
 */
export function syntheticEmbedding(identity: string, variant: number): Float32Array {
  const e = new Float32Array(EMBED_DIM).fill(0.05);
  const i = identityIndex(identity);
  e[i] += 1;
  e[(i + 1 + variant) % EMBED_DIM] += (0.3 * variant) / (variant + 1);
  // People who share an axis still differ a little, so no two faces tie.
  e[(i + 3) % EMBED_DIM] += 0.02 * (1 + ((identityHash(identity) >>> 3) % 7));
  return e;
}

export function syntheticFeatures(identity: string, variant: number): FaceFeatures {
  const embedding = syntheticEmbedding(identity, variant);
  const data = new Float32Array(GRID * GRID * CHANNELS);
  // Every patch carries the embedding's first CHANNELS values, scaled by position, so maps of one person match best.
  for (let p = 0; p < GRID * GRID; p++) for (let c = 0; c < CHANNELS; c++) data[p * CHANNELS + c] = embedding[(c + identityIndex(identity)) % EMBED_DIM] * (1 + 0.01 * p) + 0.01;
  return { embedding, patches: { h: GRID, w: GRID, c: CHANNELS, data }, cropSize: 112 };
}

function parseFace(text: string): { identity: string; variant: number; centralOfSeveral: boolean } | null {
  const m = /^face:([^:]+):(\d+)(:central-of-several)?$/.exec(text);
  return m ? { identity: m[1], variant: Number(m[2]), centralOfSeveral: m[3] !== undefined } : null;
}

/** Records in a Map; stage-1 rows as float32 unit vectors, details from the records' features. */
export class MemoryStorage implements GalleryStoragePort {
  readonly stage1Format = 'float32';
  /** What imports should ask the extractor for (the real compact storage: JPEG). */
  thumbnailType: AlignedImageType = 'image/png';
  readonly records = new Map<string, StoredFace>();
  /** Puts that succeed before every further put fails with this error (a full disk). */
  failPutsAfter: { count: number; error: AppError } | null = null;
  puts = 0;

  async put(face: StoredFace): Promise<void> {
    if (this.failPutsAfter && this.puts >= this.failPutsAfter.count) throw this.failPutsAfter.error;
    this.puts++;
    this.records.set(face.key, face);
  }
  async has(key: string): Promise<boolean> {
    return this.records.has(key);
  }
  async thumbnail(key: string): Promise<Blob | undefined> {
    return this.records.get(key)?.thumbnail;
  }
  async loadIndex(modelKey: string): Promise<StoredGalleryIndex> {
    const faces = [...this.records.values()].filter((f) => f.modelKey === modelKey);
    const dim = faces[0]?.embedding.length ?? 0;
    const rows = new Float32Array(faces.length * dim);
    faces.forEach((f, i) => rows.set(unitEmbedding(f.embedding, f.fileName), i * dim));
    const first = faces.at(0);
    return {
      keys: faces.map((f) => f.key),
      labels: faces.map((f) => f.label),
      rows: [new Uint8Array(rows.buffer)],
      shape: first ? { h: first.patches.h, w: first.patches.w, c: first.patches.c, dim } : null,
    };
  }
  fileNameOf(key: string): string | undefined {
    return this.records.get(key)?.fileName;
  }
  details(): FaceDetailSource {
    return {
      read: (id) => {
        const f = this.records.get(id);
        if (!f) throw new AppError('unknown-id', `no stored face ${id}`, 'Run the query again.');
        return faceDetailOf(storedToFeatures(f));
      },
    };
  }
  async get(key: string): Promise<StoredFace | undefined> {
    return this.records.get(key);
  }
  async forEach(modelKey: string, onFace: (f: StoredFace) => void): Promise<number> {
    let n = 0;
    for (const f of this.records.values()) {
      if (f.modelKey !== modelKey) continue;
      onFace(f);
      n++;
    }
    return n;
  }
  async delete(keys: readonly string[]): Promise<void> {
    for (const k of keys) this.records.delete(k);
  }
  async relabel(keys: readonly string[], label: string): Promise<void> {
    for (const k of keys) {
      const f = this.records.get(k);
      if (f) this.records.set(k, { ...f, label });
    }
  }
  async clear(modelKey: string): Promise<void> {
    for (const [k, f] of this.records) if (f.modelKey === modelKey) this.records.delete(k);
  }
  readonly journals = new Map<string, ImportJournal>();
  /** Every journal write, in order. */
  readonly journalWrites: ImportJournal[] = [];
  async readJournal(modelKey: string): Promise<ImportJournal | undefined> {
    return this.journals.get(modelKey);
  }
  async writeJournal(journal: ImportJournal): Promise<void> {
    this.journalWrites.push(journal);
    this.journals.set(journal.modelKey, journal);
  }
  async clearJournal(modelKey: string): Promise<void> {
    this.journals.delete(modelKey);
  }
}

export class FakeExtractor implements ExtractorPort {
  readonly concurrency: number;
  restarts = 0;
  readonly extracted: string[] = [];
  readonly embedCalls: { ood: OodTransform; seed: number }[] = [];
  stopped = false;
  inFlight = 0;
  maxInFlight = 0;
  /** Resolves each extract only after this promise (lets a test act mid-import). */
  gate: Promise<void> | null = null;
  /** Attached to the next photo read without a notice of its own, query or import (as a worker attaches a model's move to WASM), then cleared. */
  modelNotice: PlainNotice | null = null;

  constructor(opts: { concurrency?: number } = {}) {
    this.concurrency = opts.concurrency ?? 2;
  }

  async extract(path: string, bytes: ArrayBuffer, opts: ExtractOptions): Promise<ExtractOutcome> {
    this.extracted.push(path);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await (this.gate ?? Promise.resolve());
      const face = parseFace(new TextDecoder().decode(bytes));
      if (!face) return { ok: false, error: { __appError: true, code: 'no-face', message: 'no face was found in this image', hint: 'Use a photo of a face.', file: path } };
      const features = syntheticFeatures(face.identity, face.variant);
      const aligned = new Blob([`aligned:${face.identity}:${face.variant}:${opts.ood}`], { type: opts.alignedAs ?? 'image/png' });
      const notice = face.centralOfSeveral
        ? { code: 'several-faces-indexed-central' as const, message: 'several faces (2 of similar size); indexed the central one', hint: 'Check the central face is the person.' }
        : (this.takeModelNotice() ?? undefined);
      return { ok: true, face: { faces: [{ x: 0, y: 0, width: 10, height: 10, score: 0.9 }], chosenIndex: 0, features, aligned, timings: { decode: 1, embed: 2 }, notice } };
    } finally {
      this.inFlight--;
    }
  }

  /**
   * A library photo's bytes are `photo:` and its faces as `identity:variant`, comma-separated, in reading order
   * (`photo:` alone: a photo without faces); face i's box is (100 i, 10, 40, 50).
   */
  async extractLibrary(path: string, bytes: ArrayBuffer, opts: { readonly alignedAs?: AlignedImageType } = {}): Promise<LibraryExtractOutcome> {
    this.extracted.push(path);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await (this.gate ?? Promise.resolve());
      const m = /^photo:(.*)$/.exec(new TextDecoder().decode(bytes));
      if (!m) return { ok: false, error: { __appError: true, code: 'corrupt-image', message: 'the image data is corrupt', hint: 'Re-export the photo.', file: path } };
      const faces = m[1]
        .split(',')
        .filter((x) => x !== '')
        .map((x, i) => {
          const [identity, variant] = x.split(':');
          return {
            box: { x: 100 * i, y: 10, width: 40, height: 50, score: 0.9 },
            features: syntheticFeatures(identity, Number(variant)),
            aligned: new Blob([`aligned:${identity}:${variant}:none`], { type: opts.alignedAs ?? 'image/png' }),
          };
        });
      const preview = faces.length > 0 ? new Blob([`preview:${m[1]}`], { type: 'image/jpeg' }) : null;
      const notice = this.takeModelNotice();
      return { ok: true, width: 100 * faces.length + 100, height: 100, faces, preview, timings: { decode: 1, faces: 2 }, ...(notice ? { notice } : {}) };
    } finally {
      this.inFlight--;
    }
  }

  private takeModelNotice(): PlainNotice | null {
    const notice = this.modelNotice;
    this.modelNotice = null;
    return notice;
  }

  async embedAligned(aligned: Blob, _landmarks68: Float32Array, ood: OodTransform, seed: number): Promise<FaceFeatures> {
    this.embedCalls.push({ ood, seed });
    const m = /^aligned:([^:]+):(\d+):/.exec(await aligned.text());
    if (!m) throw new AppError('corrupt-image', 'not an aligned test face', 'Test data only.');
    return syntheticFeatures(m[1], Number(m[2]));
  }

  stop(): void {
    this.stopped = true;
  }
}

export const fakeStatus = (activeId: string): ModelsStatus => ({
  backend: 'wasm',
  models: [],
  webgpu: { available: false, isFallbackAdapter: false, description: 'none (test)' },
  totalMs: 0,
  patchGrid: { h: GRID, w: GRID, c: CHANNELS },
  embeddingDim: EMBED_DIM,
  active: { id: activeId, title: activeId },
  recognizers: [],
});

export class RecordingTestHooks implements TestHooksPort {
  readonly calls: { rules: readonly ExtractFaultRule[]; jobTimeoutMs?: number }[] = [];
  injectExtractFaults(rules: readonly ExtractFaultRule[], jobTimeoutMs?: number): void {
    this.calls.push({ rules, jobTimeoutMs });
  }
}

/** Ports for a whole AppEngine: one shared storage, a fresh FakeExtractor per start. */
export class MemoryEnginePorts implements EnginePorts {
  readonly storage = new MemoryStorage();
  readonly extractors: FakeExtractor[] = [];
  storageOpens = 0;
  testHooks: TestHooksPort | null = null;
  private clock = 0;

  async startExtractor(opts: { recognizerId?: string; testHooks: boolean }): Promise<StartedExtractor> {
    const extractor = new FakeExtractor();
    this.extractors.push(extractor);
    const id = opts.recognizerId ?? 'test-recognizer';
    const refuse: TestHooksPort = {
      injectExtractFaults: () => {
        throw new AppError('invalid-argument', 'test hooks are off', 'Open the page with ?testHooks=1.');
      },
    };
    return { extractor, status: fakeStatus(id), recognizerVersion: 'v1', testHooks: opts.testHooks && this.testHooks ? this.testHooks : refuse };
  }
  async openStorage(): Promise<GalleryStoragePort> {
    this.storageOpens++;
    return this.storage;
  }
  /** The photos' files outlive an engine, like the storage: a new AppEngine on these ports reads them back. */
  readonly photoFiles = new MemoryDirectory();
  openLibraryPhotos(): Promise<LibraryPhotosPort> {
    return PhotoStore.open(this.photoFiles);
  }
  now(): number {
    return (this.clock += 10);
  }
  wallClock(): number {
    return 1_700_000_000_000;
  }
}

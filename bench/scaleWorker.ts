/**
 * Dedicated worker of the scale benchmark (bench/scalePage.ts starts it): the
 * app's gallery storage (RecordGalleryStorage, format 'compact', over OPFS
 * with synchronous access handles, which exist only in a dedicated worker)
 * and its GalleryService/SearchEngine, exposed with comlink like
 * workers/engine.worker.ts.
 *
 * Synthetic faces of the default recognizer's shapes: a 1536-D stage-1
 * vector (identity centre + noise, so same-identity faces rank first), a
 * 7x7x1024 non-negative patch map (~90% exact zeros, a few all-zero patches;
 * each face is a cheap variation of one of a pool of maps: patches rotated,
 * channels shifted, so every face still goes through the app's patch
 * codec as a distinct map), 68 landmarks, a 224 px JPEG thumbnail (a few real
 * ones made from lfw-dev photos). Every face is a function of its index only,
 * so an interrupted gallery can be completed later (the 1M cache).
 */
import * as Comlink from 'comlink';
import { seededRandom, type RandomSource } from '../src/core/random.ts';
import { DEFAULT_SETTINGS, type FaceFeatures, type RerankSettings } from '../src/core/types.ts';
import { GalleryService, type LoadTimings } from '../src/app/galleryService.ts';
import { startStage2Helper } from '../workers/stage2HelperClient.ts';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import { faceKey, type StoredFace } from '../src/app/storedFace.ts';
import { decodeFaceDetail, encodeDetail } from '../src/storage/faceRecordCodec.ts';
import { RecordGalleryStorage } from '../src/storage/recordGalleryStorage.ts';
import { openOpfsGallery } from '../workers/storage/opfsDirectory.ts';

const DIM = 1536;
const H = 7;
const C = 1024;
const CROP = 224;
const LANDMARKS = 68;
const PATCHES = H * H;
const MAP_VALUES = PATCHES * C;
/** Maps in the pool faces vary (a few hundred, ~200 kB each as float32). */
const POOL_MAPS = 192;
/** Noise of a face around its identity centre, relative to the centre's per-value spread (same-identity cosine ~0.6). */
const SIGMA = 0.8;
const TABLE_BITS = 16;
const TABLE = 1 << TABLE_BITS;
const MASK = TABLE - 1;

export interface Summary {
  readonly count: number;
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
}

export interface WorkerInfo {
  readonly thumbnailBytes: readonly number[];
  readonly thumbnailSource: 'lfw-dev' | 'synthetic';
  readonly poolMs: number;
  /** Encoded size of a few generated maps through the app's codec (bytes), and their fraction of exact zeros. */
  readonly sampleMapZeroFraction: number;
  readonly sampleAllZeroPatches: number;
}

export interface WriteResult {
  readonly from: number;
  readonly to: number;
  readonly written: number;
  readonly batch: number;
  readonly totalMs: number;
  /** Generating the synthetic faces (not the app's work). */
  readonly generateMs: number;
  /** RecordGalleryStorage.putBatch: encoding (int8 row, patch codec, record) and the OPFS writes and flushes. */
  readonly putMs: number;
  readonly putMsPerBatch: Summary;
  readonly failure?: { readonly index: number; readonly error: string };
}

export interface OpenResult {
  readonly faces: number;
  /** new RecordGalleryStorage + new GalleryService. */
  readonly constructMs: number;
  /** GalleryService.load(): the log and the stage-1 rows read and packed into the engine. */
  readonly loadMs: number;
  /** Where load() spent it. */
  readonly load: LoadTimings | null;
}

export interface StorageStats {
  readonly stage1Bytes: number;
  readonly facesBytes: number;
  readonly logBytes: number;
  readonly journalBytes: number;
  readonly totalBytes: number;
  readonly liveFaces: number;
  readonly deadFaces: number;
  /** The store's in-memory index (hash table, offsets, names). */
  readonly indexBytes: number;
}

export interface EngineBytes {
  readonly faces: number;
  readonly stage1: number;
  readonly detailsInMemory: number;
  /** FaceRecordStore's in-memory index of the same gallery. */
  readonly storeIndex: number;
}

export interface SearchRow {
  readonly grid: number;
  readonly k: number;
  readonly queries: number;
  readonly backendUsed: 'cpu' | 'webgpu';
  /** The most workers that scored one query's stage 2 (2 with the helper). */
  readonly stage2Workers: number;
  readonly firstQuery: { readonly stage1Ms: number; readonly stage2Ms: number };
  readonly stage1Ms: Summary;
  /** Includes reading and decoding the k candidates' records from OPFS (cache of 160 decoded faces aside). */
  readonly stage2Ms: Summary;
  /** Each timed query's stage 2 in order (ms): the first queries run while the split between the two workers settles and the kernels are compiled further. */
  readonly stage2Sequence: readonly number[];
  /** Fraction of queries whose own identity is first after stage 1 / after stage 2 (a check that the synthetic ranking is realistic). */
  readonly stage1Top1: number;
  readonly stage2Top1: number;
}

export interface DetailReads {
  readonly faces: number;
  /** storage.details(modelKey).read(id) of faces not in its cache: the OPFS read and decodeFaceDetail (what stage 2 pays per uncached candidate). */
  readonly readMsPerFace: number;
  /** decodeFaceDetail of the same kind of record already in memory, into reused arrays as details.read does: the part of the above that is not the disk read. */
  readonly decodeMsPerFace: number;
  /** The stored bytes alone (readEncoded) of other random faces, once and then the same faces again (the OS's page cache certainly warm): the read's own cost apart from the disk. */
  readonly rawReadMsPerFace: { readonly first: number; readonly again: number };
}

export interface GalleryOptions {
  readonly dbName: string;
  readonly modelKey: string;
  /** Stage 2 without the app's helper worker (one core), for comparison. */
  readonly oneWorker?: boolean;
}

function summarise(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return { count: 0, median: NaN, p90: NaN, min: NaN, max: NaN };
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { count: s.length, median, p90: s[Math.min(s.length - 1, Math.floor(0.9 * s.length))], min: s[0], max: s[s.length - 1] };
}

// ---- synthetic features ------------------------------------------------------

/** A 32-bit integer mixer (for per-index seeds). */
function mix(x: number): number {
  let h = (x ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

const gaussTable = new Float32Array(TABLE);
{
  const r = seededRandom(2022);
  // 1 - r() lies in (0, 1], so the logarithm stays finite.
  for (let i = 0; i < TABLE; i++) gaussTable[i] = Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
}

/** Identity centre: a walk through the Gaussian table with an odd stride (distinct values for any 1536 steps), so no centre is ever stored. */
function addCentre(identity: number, out: Float32Array): void {
  const base = mix(identity * 2 + 1);
  const step = mix(identity * 2 + 2) | 1;
  for (let j = 0; j < DIM; j++) out[j] = gaussTable[(base + Math.imul(j, step)) & MASK];
}

function embeddingOf(identity: number, r: RandomSource): Float32Array {
  const e = new Float32Array(DIM);
  addCentre(identity, e);
  const base = Math.floor(r() * TABLE);
  const step = Math.floor(r() * TABLE) | 1;
  for (let j = 0; j < DIM; j++) e[j] += SIGMA * gaussTable[(base + Math.imul(j, step)) & MASK];
  return e;
}

/** Channels some patches use often and others rarely, as a trained network's do. */
const channelWeight = new Float32Array(C);
{
  const r = seededRandom(7);
  for (let ch = 0; ch < C; ch++) channelWeight[ch] = Math.min(4, -Math.log(1 - r()));
}

/** A FaceRes-like map: non-negative, ~90% exact zeros, ~2 of 49 patches all zero. */
function freshMap(seed: number): Float32Array {
  const r = seededRandom(seed);
  const m = new Float32Array(MAP_VALUES);
  for (let p = 0; p < PATCHES; p++) {
    if (r() < 0.04) continue;
    const density = 0.05 + 0.1 * r();
    const magnitude = 0.5 + 1.5 * r();
    const o = p * C;
    for (let ch = 0; ch < C; ch++) if (r() < density * channelWeight[ch]) m[o + ch] = magnitude * (0.02 + Math.abs(gaussTable[Math.floor(r() * TABLE)]));
  }
  return m;
}

let pool: Float32Array[] = [];

function ensurePool(): number {
  if (pool.length === POOL_MAPS) return 0;
  const t = performance.now();
  pool = Array.from({ length: POOL_MAPS }, (_, i) => freshMap(1000 + i));
  return performance.now() - t;
}

/** One of the pool's maps with its patches rotated and its channels shifted (two copies per patch): 192 x 49 x 1024 distinct maps. */
function variedMap(r: RandomSource): Float32Array {
  const src = pool[Math.floor(r() * pool.length)];
  const rot = Math.floor(r() * PATCHES);
  const shift = Math.floor(r() * C);
  const out = new Float32Array(MAP_VALUES);
  for (let p = 0; p < PATCHES; p++) {
    const so = ((p + rot) % PATCHES) * C;
    const o = p * C;
    out.set(src.subarray(so + shift, so + C), o);
    out.set(src.subarray(so, so + shift), o + C - shift);
  }
  return out;
}

function landmarksOf(r: RandomSource): Float32Array {
  const lm = new Float32Array(2 * LANDMARKS);
  for (let i = 0; i < LANDMARKS; i++) {
    // A face-shaped ring plus jitter: positions inside the crop.
    const a = (2 * Math.PI * i) / LANDMARKS;
    lm[2 * i] = CROP / 2 + 0.3 * CROP * Math.cos(a) + 6 * (r() - 0.5);
    lm[2 * i + 1] = CROP / 2 + 0.35 * CROP * Math.sin(a) + 6 * (r() - 0.5);
  }
  return lm;
}

function contentHash(i: number): string {
  // 64 lowercase hex characters, unique per face (the app keys faces by the file's SHA-256).
  return (i.toString(16).padStart(8, '0') + 'a5c3e1f7').repeat(4);
}

const labelOf = (identity: number) => `Person_${String(identity).padStart(6, '0')}`;

let thumbnails: Uint8Array<ArrayBuffer>[] = [];

const visibleOf = (r: () => number) => Float32Array.from({ length: 512 }, () => r() - 0.5);

function storedFace(i: number, modelKey: string, identities: number): StoredFace {
  const r = seededRandom(mix(i));
  const identity = i % identities;
  const hash = contentHash(i);
  const label = labelOf(identity);
  return {
    key: faceKey(modelKey, hash),
    modelKey,
    contentHash: hash,
    label,
    fileName: `${label}_${String(Math.floor(i / identities) + 1).padStart(4, '0')}.jpg`,
    addedAt: 1_700_000_000_000 + i,
    embedding: embeddingOf(identity, r),
    patches: { h: H, w: H, c: C, data: variedMap(r) },
    landmarks68: landmarksOf(r),
    cropSize: CROP,
    // The default pipeline stores MobileFaceNet's two visible-part embeddings (512-D each) with every face.
    visibleEmbeddings: { mask: visibleOf(r), sunglasses: visibleOf(r) },
    thumbnail: new Blob([thumbnails[i % thumbnails.length]], { type: 'image/jpeg' }),
  };
}

function queryFeatures(q: number, identities: number): { features: FaceFeatures; label: string } {
  const r = seededRandom(mix(0x40000000 + q));
  const identity = Math.floor(r() * identities);
  const lm = landmarksOf(r);
  return {
    label: labelOf(identity),
    features: {
      embedding: embeddingOf(identity, r),
      patches: { h: H, w: H, c: C, data: freshMap(mix(0x50000000 + q)) },
      landmarks68: Array.from({ length: LANDMARKS }, (_, i) => [lm[2 * i], lm[2 * i + 1]] as const),
      cropSize: CROP,
    },
  };
}

// ---- thumbnails --------------------------------------------------------------

function context2d(canvas: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
  const g = canvas.getContext('2d');
  if (!g) throw new Error('no 2D context on an OffscreenCanvas in this worker');
  return g;
}

/** The middle of an LFW photo at 224 px, as JPEG quality 0.9: what the compact storage keeps of an aligned face (workers/canvasImages.ts encodeThumbnailJpeg). */
async function thumbnailOf(jpeg: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const bmp = await createImageBitmap(new Blob([jpeg], { type: 'image/jpeg' }));
  const c = new OffscreenCanvas(CROP, CROP);
  const side = Math.min(bmp.width, bmp.height) * 0.6;
  context2d(c).drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2 + side * 0.05, side, side, 0, 0, CROP, CROP);
  bmp.close();
  return new Uint8Array(await (await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
}

async function syntheticThumbnail(seed: number): Promise<Uint8Array<ArrayBuffer>> {
  const c = new OffscreenCanvas(CROP, CROP);
  const g = context2d(c);
  const img = g.createImageData(CROP, CROP);
  const noise = seededRandom(seed + 1);
  for (let y = 0; y < CROP; y++) {
    for (let x = 0; x < CROP; x++) {
      const o = 4 * (y * CROP + x);
      const base = 90 + 80 * Math.exp(-((x - CROP / 2) ** 2 + (y - CROP / 2) ** 2) / 7000);
      img.data[o] = base + 24 * noise();
      img.data[o + 1] = base * 0.8 + 24 * noise();
      img.data[o + 2] = base * 0.7 + 24 * noise();
      img.data[o + 3] = 255;
    }
  }
  g.putImageData(img, 0, 0);
  return new Uint8Array(await (await c.convertToBlob({ type: 'image/jpeg', quality: 0.9 })).arrayBuffer());
}

// ---- the gallery -------------------------------------------------------------

function openStorage(dbName: string): RecordGalleryStorage {
  // As workers/engine.worker.ts, except thumbnails: they are JPEG already (made once in init), so they are stored as given.
  return new RecordGalleryStorage({ format: 'compact', directory: (name) => openOpfsGallery(`${dbName}:${name}`) });
}

let storage: RecordGalleryStorage | null = null;
let gallery: GalleryService | null = null;
let identitiesLoaded = 0;

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

function totalBytes(s: { stage1Bytes: number; facesBytes: number; logBytes: number; journalBytes: number }): number {
  return s.stage1Bytes + s.facesBytes + s.logBytes + s.journalBytes;
}

const errorText = (e: unknown) => (e instanceof Error ? `${e.name}: ${e.message}` : String(e));

const api = {
  /** Answers once this worker's modules are loaded. */
  ready(): boolean {
    return true;
  },

  async init(opts: { jpegsBase64: readonly string[] }): Promise<WorkerInfo> {
    thumbnails = [];
    let source: WorkerInfo['thumbnailSource'] = 'lfw-dev';
    for (const b64 of opts.jpegsBase64) {
      try {
        thumbnails.push(await thumbnailOf(Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0))));
      } catch {
        // unreadable sample: skipped
      }
    }
    if (thumbnails.length === 0) {
      source = 'synthetic';
      for (let i = 0; i < 8; i++) thumbnails.push(await syntheticThumbnail(i));
    }
    const poolMs = ensurePool();
    let zeros = 0;
    let allZero = 0;
    const samples = 16;
    for (let i = 0; i < samples; i++) {
      const m = variedMap(seededRandom(i));
      for (let v = 0; v < m.length; v++) if (m[v] === 0) zeros++;
      for (let p = 0; p < PATCHES; p++) if (m.subarray(p * C, (p + 1) * C).every((x) => x === 0)) allZero++;
    }
    return { thumbnailBytes: thumbnails.map((t) => t.byteLength), thumbnailSource: source, poolMs, sampleMapZeroFraction: zeros / (samples * MAP_VALUES), sampleAllZeroPatches: allZero / samples };
  },

  /** Live faces of the gallery on disk (0 when there is none); closes the store again. */
  async count(opts: GalleryOptions): Promise<number> {
    const s = openStorage(opts.dbName);
    try {
      return (await s.stats(opts.modelKey)).liveFaces;
    } finally {
      s.close();
    }
  },

  /** Writes faces [from, to) through RecordGalleryStorage.putBatch, `batch` at a time. */
  async write(opts: GalleryOptions & { from: number; to: number; identities: number; batch: number }, progress: (line: string) => void): Promise<WriteResult> {
    if (thumbnails.length === 0) throw new Error('init first');
    ensurePool();
    const s = openStorage(opts.dbName);
    const perBatch: number[] = [];
    let generateMs = 0;
    let putMs = 0;
    let written = 0;
    let failure: WriteResult['failure'];
    const t0 = performance.now();
    let lastReport = t0;
    try {
      for (let i = opts.from; i < opts.to; i += opts.batch) {
        const end = Math.min(opts.to, i + opts.batch);
        const t = performance.now();
        const faces: StoredFace[] = [];
        for (let j = i; j < end; j++) faces.push(storedFace(j, opts.modelKey, opts.identities));
        const t1 = performance.now();
        try {
          await s.putBatch(faces);
        } catch (e) {
          failure = { index: i, error: errorText(e) };
          break;
        }
        const t2 = performance.now();
        generateMs += t1 - t;
        putMs += t2 - t1;
        perBatch.push(t2 - t1);
        written += end - i;
        if (t2 - lastReport > 10_000 || end === opts.to) {
          lastReport = t2;
          const rate = written / ((t2 - t0) / 1000);
          progress(
            `  wrote ${end.toLocaleString('en')}/${opts.to.toLocaleString('en')} faces (${((t2 - t0) / 1000).toFixed(0)} s, ${rate.toFixed(0)} faces/s; putBatch ${(putMs / written).toFixed(2)} ms/face)`,
          );
        }
      }
    } finally {
      s.close();
    }
    return {
      from: opts.from,
      to: opts.to,
      written,
      batch: opts.batch,
      totalMs: performance.now() - t0,
      generateMs,
      putMs,
      putMsPerBatch: summarise(perBatch),
      ...(failure ? { failure } : {}),
    };
  },

  /** What the app does at start: the storage, the gallery service, load(). */
  async open(opts: GalleryOptions & { identities: number }): Promise<OpenResult> {
    const t0 = performance.now();
    storage = openStorage(opts.dbName);
    // As the app's engine worker: stage 2's helper on a second core, unless asked for one worker.
    gallery = new GalleryService(storage, opts.modelKey, { accelerator: null, stage2Helper: opts.oneWorker ? null : startStage2Helper() });
    const t1 = performance.now();
    await gallery.load();
    const t2 = performance.now();
    identitiesLoaded = opts.identities;
    return { faces: gallery.size, constructMs: t1 - t0, loadMs: t2 - t1, load: gallery.lastLoad };
  },

  async storageStats(opts: GalleryOptions): Promise<StorageStats> {
    const s = storage ?? openStorage(opts.dbName);
    try {
      const st = await s.stats(opts.modelKey);
      return {
        stage1Bytes: st.stage1Bytes,
        facesBytes: st.facesBytes,
        logBytes: st.logBytes,
        journalBytes: st.journalBytes,
        totalBytes: totalBytes(st),
        liveFaces: st.liveFaces,
        deadFaces: st.deadFaces,
        indexBytes: st.indexBytes,
      };
    } finally {
      if (s !== storage) s.close();
    }
  },

  async engineBytes(opts: GalleryOptions): Promise<EngineBytes> {
    if (!gallery || !storage) throw new Error('open first');
    const b = gallery.index.byteLength;
    const st = await storage.stats(opts.modelKey);
    return { faces: gallery.size, stage1: b.stage1, detailsInMemory: b.detailsInMemory, storeIndex: st.indexBytes };
  },

  async search(opts: { grid: number; k: number; queries: number; warmup: number; firstQuery: number }): Promise<SearchRow> {
    const g = gallery;
    if (!g) throw new Error('open first');
    const settings: RerankSettings = { ...DEFAULT_SETTINGS, k: opts.k, grid: opts.grid, backend: 'cpu', adaptiveAlpha: null, alpha: 0.7 };
    const s1: number[] = [];
    const s2: number[] = [];
    let top1a = 0;
    let top1b = 0;
    let used: SearchRow['backendUsed'] = 'cpu';
    let workers = 0;
    let first = { stage1Ms: NaN, stage2Ms: NaN };
    for (let q = 0; q < opts.warmup + opts.queries; q++) {
      const { features, label } = queryFeatures(opts.firstQuery + q, identitiesLoaded);
      const r = await g.index.search(features, settings);
      used = r.backendUsed;
      workers = Math.max(workers, r.stage2Workers);
      if (q === 0) first = { stage1Ms: r.timings.stage1Ms, stage2Ms: r.timings.stage2Ms };
      if (q < opts.warmup) continue;
      s1.push(r.timings.stage1Ms);
      s2.push(r.timings.stage2Ms);
      if (r.stage1[0]?.label === label) top1a++;
      if (r.stage2[0]?.label === label) top1b++;
    }
    return {
      grid: opts.grid,
      k: opts.k,
      queries: opts.queries,
      backendUsed: used,
      stage2Workers: workers,
      firstQuery: first,
      stage1Ms: summarise(s1),
      stage2Ms: summarise(s2),
      stage2Sequence: s2,
      stage1Top1: top1a / Math.max(1, opts.queries),
      stage2Top1: top1b / Math.max(1, opts.queries),
    };
  },

  /** Stage 2's per-candidate storage cost, split into the read and the decoding. */
  detailReads(opts: GalleryOptions & { faces: number; seed: number }): DetailReads {
    if (!storage || !gallery) throw new Error('open first');
    const n = gallery.size;
    const source = storage.details(opts.modelKey);
    const r = seededRandom(opts.seed);
    const ids = Array.from({ length: opts.faces }, () => faceKey(opts.modelKey, contentHash(Math.floor(r() * n))));
    const t0 = performance.now();
    for (const id of ids) source.read(id);
    const t1 = performance.now();
    ensurePool();
    const lm = landmarksOf(r);
    const records = Array.from({ length: opts.faces }, () => encodeDetail('compact', { patches: { h: H, w: H, c: C, data: variedMap(r) }, landmarks68: lm, cropSize: CROP }));
    // Decoded as details.read decodes: the one-pass decoder, into the arrays of the face decoded before.
    let spare = decodeFaceDetail('compact', records[0]);
    const t2 = performance.now();
    for (const rec of records) spare = decodeFaceDetail('compact', rec, spare);
    const t3 = performance.now();
    pool = [];
    const others = Array.from({ length: opts.faces }, () => faceKey(opts.modelKey, contentHash(Math.floor(r() * n))));
    const t4 = performance.now();
    for (const id of others) source.readEncoded?.(id);
    const t5 = performance.now();
    for (const id of others) source.readEncoded?.(id);
    const t6 = performance.now();
    return {
      faces: opts.faces,
      readMsPerFace: (t1 - t0) / opts.faces,
      decodeMsPerFace: (t3 - t2) / opts.faces,
      rawReadMsPerFace: { first: (t5 - t4) / opts.faces, again: (t6 - t5) / opts.faces },
    };
  },

  gc(): void {
    gc();
  },

  /** Closes the store's sync access handles (a new worker can only open the files after that). */
  close(): void {
    storage?.close();
    storage = null;
    gallery = null;
    pool = [];
    gc();
  },
};

export type ScaleWorkerApi = typeof api;

installComlinkErrorHandler();
Comlink.expose(api);

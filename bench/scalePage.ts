/**
 * Browser side of the scale benchmark (imported into bench/scale.html by
 * bench/scale.ts). A synthetic gallery of the default model's shape (512-D
 * embedding, 7x7x512 float32 patch map, 68 landmarks, a 112x112 PNG of the
 * aligned face) is written into IndexedDB through the app's own GalleryDb,
 * read back and packed into a SearchEngine the way the app's engine worker
 * does at start (src/app/galleryService.ts load()), then searched.
 *
 * Feature values: rectified Gaussian patch maps (about half zeros, like ReLU
 * maps; this matters because Chromium compresses large IndexedDB values) and
 * Gaussian embeddings, drawn from fixed tables so generating 20k faces costs
 * little next to writing them.
 */
import { seededRandom, type RandomSource } from '../src/core/random.ts';
import { DEFAULT_SETTINGS, type FaceFeatures, type RerankSettings } from '../src/core/types.ts';
import { SearchEngine } from '../src/engine/searchEngine.ts';
import { GalleryDb } from '../workers/storage/galleryDb.ts';
import { faceKey, storedToFeatures, type StoredFace } from '../src/app/storedFace.ts';

export interface Summary {
  readonly count: number;
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
}

export interface PageInfo {
  readonly crossOriginIsolated: boolean;
  readonly userAgent: string;
  readonly thumbnailPngBytes: readonly number[];
  readonly thumbnailSource: 'lfw-dev' | 'synthetic';
  readonly gcAvailable: boolean;
}

export interface MemorySample {
  /** performance.measureUserAgentSpecificMemory(): everything this page's agent holds (JS heap, ArrayBuffers, DOM). */
  readonly uaSpecificBytes: number | null;
  readonly uaSpecificMs: number | null;
  readonly uaSpecificError?: string;
  /** performance.memory.usedJSHeapSize (non-standard; precise when cross-origin isolated). */
  readonly usedJsHeapBytes: number | null;
}

export interface StorageSample {
  readonly usage: number | null;
  readonly quota: number | null;
  readonly indexedDB: number | null;
}

export interface WriteResult {
  readonly requested: number;
  readonly written: number;
  /** Wall time of the whole loop (generating + encoding nothing + awaiting each put). */
  readonly totalMs: number;
  /** Sum of the awaited GalleryDb.put calls only. */
  readonly putMs: number;
  readonly putMsPerFace: Summary;
  readonly failure?: { readonly index: number; readonly error: string };
}

export interface LoadResult {
  readonly faces: number;
  /** GalleryDb.forEach over the model's faces, converting each record (src/app/storedFace.ts storedToFeatures). */
  readonly readMs: number;
  /** SearchEngine.add(batch): normalising and packing every face. */
  readonly addMs: number;
  readonly error?: string;
  readonly failedPhase?: 'read' | 'add';
}

export interface EngineBytes {
  readonly faces: number;
  /** From the shapes: what the engine must hold for this many faces. */
  readonly computed: Readonly<Record<string, number>>;
  readonly computedTotal: number;
  /** Faces pooled so far into each coarser-grid cache (the engine pools a face to a new grid when it is first a candidate there). */
  readonly gridCacheFaces: Readonly<Record<string, number>>;
  /** byteLength of the engine's actual buffers (capacity, not rows), read from its private fields; null where they moved. */
  readonly allocated: Readonly<Record<string, number>> | null;
  readonly allocatedTotal: number | null;
}

export interface SearchRow {
  readonly grid: number;
  readonly k: number;
  readonly backendUsed: 'cpu' | 'webgpu';
  readonly firstQuery: { readonly stage1Ms: number; readonly stage2Ms: number };
  readonly stage1Ms: Summary;
  readonly stage2Ms: Summary;
  /** The same queries run again: on a coarser grid their candidates are then already pooled. */
  readonly repeatStage2Ms: Summary;
}

const H = 7;
const C = 512;
const DIM = 512;
const CROP = 112;
const LANDMARKS = 68;

function summarise(xs: readonly number[]): Summary {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return { count: 0, median: NaN, p90: NaN, min: NaN, max: NaN };
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { count: s.length, median, p90: s[Math.min(s.length - 1, Math.floor(0.9 * s.length))], min: s[0], max: s[s.length - 1] };
}

// ---- synthetic features ------------------------------------------------------

let random = seededRandom(2022);
/** An integer in [0, n). */
const below = (n: number, from: RandomSource = random) => Math.floor(from() * n);

const TABLE = 1 << 16;
const gaussTable = new Float32Array(TABLE);
const reluTable = new Float32Array(TABLE);
for (let i = 0; i < TABLE; i++) {
  // 1 - random() lies in (0, 1], so the logarithm stays finite.
  const x = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
  gaussTable[i] = x;
  reluTable[i] = Math.max(0, x);
}

function fill(out: Float32Array, table: Float32Array): Float32Array {
  for (let i = 0; i < out.length; i++) out[i] = table[below(TABLE)];
  return out;
}

function syntheticLandmarks(): Float32Array {
  const lm = new Float32Array(2 * LANDMARKS);
  for (let i = 0; i < lm.length; i++) lm[i] = 20 + random() * (CROP - 40);
  return lm;
}

function syntheticFeatures(): FaceFeatures {
  const lm = syntheticLandmarks();
  return {
    embedding: fill(new Float32Array(DIM), gaussTable),
    patches: { h: H, w: H, c: C, data: fill(new Float32Array(H * H * C), reluTable) },
    landmarks68: Array.from({ length: LANDMARKS }, (_, i) => [lm[2 * i], lm[2 * i + 1]] as const),
    cropSize: CROP,
  };
}

// ---- thumbnails --------------------------------------------------------------

/** PNG bytes of a few aligned-face-sized thumbnails; each stored face gets its own Blob of one of them, as each import encodes its own. */
let thumbnails: Uint8Array<ArrayBuffer>[] = [];

function context2d(canvas: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
  const g = canvas.getContext('2d');
  if (!g) throw new Error('this browser gives no 2D context on an OffscreenCanvas');
  return g;
}

function syntheticThumbnail(seed: number): Promise<Blob> {
  const c = new OffscreenCanvas(CROP, CROP);
  const g = context2d(c);
  const img = g.createImageData(CROP, CROP);
  const noise = seededRandom(seed + 1);
  for (let y = 0; y < CROP; y++) {
    for (let x = 0; x < CROP; x++) {
      const o = 4 * (y * CROP + x);
      const base = 90 + 80 * Math.exp(-((x - 56) ** 2 + (y - 60) ** 2) / 1800);
      img.data[o] = base + below(16, noise);
      img.data[o + 1] = base * 0.8 + below(16, noise);
      img.data[o + 2] = base * 0.7 + below(16, noise);
      img.data[o + 3] = 255;
    }
  }
  g.putImageData(img, 0, 0);
  return c.convertToBlob({ type: 'image/png' });
}

/** A 112x112 PNG of the middle of an LFW photo: about what the app stores for an aligned face (lossless PNG, workers/extract.worker.ts). */
async function thumbnailFromJpeg(b64: string): Promise<Blob> {
  const bytes = Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
  const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/jpeg' }));
  const c = new OffscreenCanvas(CROP, CROP);
  const side = Math.min(bmp.width, bmp.height) * 0.5;
  context2d(c).drawImage(bmp, (bmp.width - side) / 2, (bmp.height - side) / 2 + side * 0.05, side, side, 0, 0, CROP, CROP);
  bmp.close();
  // Through ImageData, as the app encodes its aligned crop.
  const px = context2d(c).getImageData(0, 0, CROP, CROP);
  const out = new OffscreenCanvas(CROP, CROP);
  context2d(out).putImageData(px, 0, 0);
  return out.convertToBlob({ type: 'image/png' });
}

export async function init(opts: { jpegsBase64: readonly string[] }): Promise<PageInfo> {
  thumbnails = [];
  let source: PageInfo['thumbnailSource'] = 'lfw-dev';
  for (const b64 of opts.jpegsBase64) {
    try {
      thumbnails.push(new Uint8Array(await (await thumbnailFromJpeg(b64)).arrayBuffer()));
    } catch {
      // unreadable sample: skipped
    }
  }
  if (thumbnails.length === 0) {
    source = 'synthetic';
    for (let i = 0; i < 8; i++) thumbnails.push(new Uint8Array(await (await syntheticThumbnail(i)).arrayBuffer()));
  }
  // Every run then draws the same faces, however much set-up drew before.
  random = seededRandom(2022);
  return {
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    userAgent: navigator.userAgent,
    thumbnailPngBytes: thumbnails.map((t) => t.byteLength),
    thumbnailSource: source,
    gcAvailable: typeof (globalThis as { gc?: unknown }).gc === 'function',
  };
}

// ---- measurements ------------------------------------------------------------

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

export async function measureMemory(timeoutMs = 60_000): Promise<MemorySample> {
  gc();
  const perf = performance as Performance & {
    measureUserAgentSpecificMemory?: () => Promise<{ bytes: number }>;
    memory?: { usedJSHeapSize: number };
  };
  let uaSpecificBytes: number | null = null;
  let uaSpecificMs: number | null = null;
  let uaSpecificError: string | undefined;
  if (typeof perf.measureUserAgentSpecificMemory !== 'function') {
    uaSpecificError = 'performance.measureUserAgentSpecificMemory is not available here';
  } else {
    const t = performance.now();
    try {
      const r = await Promise.race([perf.measureUserAgentSpecificMemory(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))]);
      uaSpecificBytes = r.bytes;
      uaSpecificMs = performance.now() - t;
    } catch (e) {
      uaSpecificError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
  return { uaSpecificBytes, uaSpecificMs, ...(uaSpecificError ? { uaSpecificError } : {}), usedJsHeapBytes: perf.memory?.usedJSHeapSize ?? null };
}

export async function storageEstimate(): Promise<StorageSample> {
  const e = (await navigator.storage.estimate()) as StorageEstimate & { usageDetails?: { indexedDB?: number } };
  return { usage: e.usage ?? null, quota: e.quota ?? null, indexedDB: e.usageDetails?.indexedDB ?? null };
}

// ---- the gallery in IndexedDB ------------------------------------------------

function contentHash(i: number): string {
  // A sha256-sized hex string, unique per face (the app keys faces by file hash).
  return (i.toString(16).padStart(8, '0') + 'deadbeef').repeat(4);
}

function storedFace(i: number, modelKey: string, identities: number): StoredFace {
  const hash = contentHash(i);
  const label = `Person_${String(i % identities).padStart(5, '0')}`;
  return {
    key: faceKey(modelKey, hash),
    modelKey,
    contentHash: hash,
    label,
    fileName: `${label}_${String(Math.floor(i / identities) + 1).padStart(4, '0')}.jpg`,
    addedAt: Date.now(),
    embedding: fill(new Float32Array(DIM), gaussTable),
    patches: { h: H, w: H, c: C, data: fill(new Float32Array(H * H * C), reluTable) },
    landmarks68: syntheticLandmarks(),
    cropSize: CROP,
    thumbnail: new Blob([thumbnails[i % thumbnails.length]], { type: 'image/png' }),
  };
}

function progress(line: string): void {
  const f = (globalThis as { __scaleProgress?: (s: string) => unknown }).__scaleProgress;
  if (f) void f(line);
}

/** Writes faces one record per transaction, each awaited, as the import saves each finished face. */
export async function writeGallery(opts: { dbName: string; modelKey: string; faces: number; identities: number }): Promise<WriteResult> {
  const db = await GalleryDb.open(opts.dbName);
  const perPut: number[] = [];
  let putMs = 0;
  let failure: WriteResult['failure'];
  const t0 = performance.now();
  let written = 0;
  try {
    for (let i = 0; i < opts.faces; i++) {
      const face = storedFace(i, opts.modelKey, opts.identities);
      const t = performance.now();
      try {
        await db.put(face);
      } catch (e) {
        failure = { index: i, error: e instanceof Error ? `${(e as { code?: string }).code ?? e.name}: ${e.message}` : String(e) };
        break;
      }
      const dt = performance.now() - t;
      perPut.push(dt);
      putMs += dt;
      written++;
      if (written % 1000 === 0) progress(`  wrote ${written}/${opts.faces} faces (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }
  } finally {
    db.close();
  }
  return { requested: opts.faces, written, totalMs: performance.now() - t0, putMs, putMsPerFace: summarise(perPut), ...(failure ? { failure } : {}) };
}

// ---- the engine, loaded as the app does at start -----------------------------

let engine: SearchEngine | null = null;
const labels = new Map<string, { label: string; fileName: string }>();

/** src/app/galleryService.ts load(): stream the model's records into one batch, then one SearchEngine.add. */
export async function loadGallery(opts: { dbName: string; modelKey: string }): Promise<LoadResult> {
  engine = null;
  labels.clear();
  gc();
  const db = await GalleryDb.open(opts.dbName);
  let batch: { id: string; label: string; features: FaceFeatures }[] = [];
  const t0 = performance.now();
  try {
    await db.forEach(opts.modelKey, (f) => {
      batch.push({ id: f.key, label: f.label, features: storedToFeatures(f) });
      labels.set(f.key, { label: f.label, fileName: f.fileName });
      if (batch.length % 2000 === 0) progress(`  read ${batch.length} faces (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    });
  } catch (e) {
    return { faces: batch.length, readMs: performance.now() - t0, addMs: 0, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), failedPhase: 'read' };
  } finally {
    db.close();
  }
  const t1 = performance.now();
  const faces = batch.length;
  try {
    const e = new SearchEngine({ accelerator: null });
    if (faces) e.add(batch);
    engine = e;
  } catch (e) {
    batch = [];
    return { faces, readMs: t1 - t0, addMs: performance.now() - t1, error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), failedPhase: 'add' };
  }
  const t2 = performance.now();
  batch = [];
  return { faces, readMs: t1 - t0, addMs: t2 - t1 };
}

/** byteLength of a RowStore (buf), a DotWorkspace (data: its whole memory), a CosineIndex (its ws) or a Map of rows. */
function byteLength(x: unknown): number | null {
  if (!x || typeof x !== 'object') return null;
  if (x instanceof Map) {
    let total = 0;
    for (const v of x.values()) total += (v as ArrayBufferView).byteLength ?? 0;
    return total;
  }
  const o = x as { buf?: ArrayBufferView; data?: unknown; ws?: unknown };
  if (o.buf && typeof o.buf.byteLength === 'number') return o.buf.byteLength;
  if (o.data instanceof Float32Array) return o.data.byteLength;
  if (o.ws) return byteLength(o.ws);
  return null;
}

/** Faces held in one pooled-grid cache: a Map of position -> row (pooled per candidate on first use) or a RowStore (rows). */
function cachedFaces(cache: unknown): number {
  if (cache instanceof Map) return cache.size;
  return (cache as { rows?: number } | undefined)?.rows ?? 0;
}

export function engineBytes(): EngineBytes {
  if (!engine) throw new Error('no engine: loadGallery first');
  const n = engine.size;
  // Private fields of GalleryStore, read for this report only; null/absent where they have moved.
  const gallery = (engine as unknown as { gallery?: Record<string, unknown> }).gallery;
  const gridCache = gallery?.gridCache instanceof Map ? (gallery.gridCache as Map<number, unknown>) : new Map<number, unknown>();
  const computed: Record<string, number> = {
    unitPatches: n * H * H * C * 4,
    patchNorms: n * H * H * 4,
    averagePatches: n * C * 4,
    embeddings: n * DIM * 4,
  };
  const gridCacheFaces: Record<string, number> = {};
  for (const [g, cache] of gridCache) {
    gridCacheFaces[`grid${g}x${g}`] = cachedFaces(cache);
    computed[`grid${g}x${g}`] = cachedFaces(cache) * g * g * C * 4;
  }
  let allocated: Record<string, number> | null = {};
  try {
    const parts: [string, unknown][] = [
      ['unitPatches', gallery?.unitNative],
      ['patchNorms', gallery?.patchNorms],
      ['averagePatches', gallery?.averages],
      ['embeddings', gallery?.index],
      ...[...gridCache].map(([g, cache]) => [`grid${g}x${g}`, cache] as [string, unknown]),
    ];
    const scratch = engine as unknown as { ws?: unknown; cpu?: { ws?: unknown } };
    const extra = (byteLength(scratch.ws) ?? 0) + (byteLength(scratch.cpu?.ws) ?? 0);
    for (const [k, v] of parts) {
      const b = byteLength(v);
      if (b === null) throw new Error(k);
      allocated[k] = b;
    }
    allocated.searchScratch = extra;
  } catch {
    allocated = null;
  }
  const sum = (r: Record<string, number>) => Object.values(r).reduce((a, b) => a + b, 0);
  return { faces: n, computed, computedTotal: sum(computed), gridCacheFaces, allocated, allocatedTotal: allocated ? sum(allocated) : null };
}

export async function searchRow(opts: { grid: number; k: number; queries: number; warmup: number }): Promise<SearchRow> {
  const loaded = engine;
  if (!loaded) throw new Error('no engine: loadGallery first');
  const settings: RerankSettings = { ...DEFAULT_SETTINGS, k: opts.k, grid: opts.grid, backend: 'cpu' };
  const first = await loaded.search(syntheticFeatures(), settings);
  const queries = Array.from({ length: opts.warmup + opts.queries }, () => syntheticFeatures());
  let used: 'cpu' | 'webgpu' = first.backendUsed;
  const pass = async () => {
    const s1: number[] = [];
    const s2: number[] = [];
    for (let q = 0; q < queries.length; q++) {
      const r = await loaded.search(queries[q], settings);
      used = r.backendUsed;
      if (q < opts.warmup) continue;
      s1.push(r.timings.stage1Ms);
      s2.push(r.timings.stage2Ms);
    }
    return { s1, s2 };
  };
  const fresh = await pass();
  const again = await pass();
  return {
    grid: opts.grid,
    k: opts.k,
    backendUsed: used,
    firstQuery: { stage1Ms: first.timings.stage1Ms, stage2Ms: first.timings.stage2Ms },
    stage1Ms: summarise(fresh.s1),
    stage2Ms: summarise(fresh.s2),
    repeatStage2Ms: summarise(again.s2),
  };
}

export function dropEngine(): void {
  engine = null;
  labels.clear();
  gc();
}

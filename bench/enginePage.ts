/**
 * Browser side of the engine benchmark (imported into bench/engine.html by
 * bench/engine.ts). Synthetic data: rectified Gaussian 7x7x512 patch maps
 * (cosines around 0.5-0.7, like real maps) and Gaussian 512-D embeddings.
 */
import { seededRandom } from '../src/core/random.ts';
import { DEFAULT_SETTINGS, type FaceFeatures, type RerankSettings, type SinkhornMode } from '../src/core/types.ts';
import { SearchEngine } from '../src/engine/searchEngine.ts';
import { CosineIndex } from '../src/engine/stage1.ts';
import { GpuStage2 } from '../src/gpu/gpuStage2.ts';

export interface TimingSummary {
  readonly queries: number;
  readonly medianMs: number;
  readonly p90Ms: number;
  readonly minMs: number;
}

export interface Stage2Row extends TimingSummary {
  readonly grid: number;
  readonly c: number;
  readonly k: number;
  readonly mode: SinkhornMode;
  readonly backendAsked: 'cpu' | 'webgpu';
  readonly backendUsed: 'cpu' | 'webgpu';
  readonly fallbackReason?: string;
  readonly galleryFaces: number;
}

export interface Stage1Row extends TimingSummary {
  readonly galleryRows: number;
  readonly dim: number;
}

export function summarise(ms: readonly number[]): TimingSummary {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return { queries: s.length, medianMs: median, p90Ms: at(0.9), minMs: s[0] };
}

export function gaussians(rand: () => number, n: number, rectified = false): Float32Array {
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
    out[i] = rectified ? Math.max(0, x) : x;
  }
  return out;
}

const H = 7;
/** MobileFaceNet's channels; FaceRes's maps have 1024. */
const C = 512;
const rand = seededRandom(2022);
const face = (c = C): FaceFeatures => ({ embedding: gaussians(rand, c), patches: { h: H, w: H, c, data: gaussians(rand, H * H * c, true) }, cropSize: 112 });

let engine: SearchEngine | null = null;
let gpu: GpuStage2 | null = null;
let galleryKey = '';

function sharedEngine(faces: number, c: number): SearchEngine {
  if (!engine || galleryKey !== `${faces}x${c}`) {
    gpu = new GpuStage2();
    engine = new SearchEngine({ accelerator: gpu });
    engine.add(Array.from({ length: faces }, (_, i) => ({ id: `g${i}`, label: `l${i % 50}`, features: face(c) })));
    galleryKey = `${faces}x${c}`;
  }
  return engine;
}

export async function adapterDescription(): Promise<string> {
  const g = gpu ?? new GpuStage2();
  const reason = await g.ready();
  return reason ? `none (${reason})` : (g.adapterDescription ?? 'unknown');
}

/** Median stage-2 ms per query (SearchEngine timings: weights, gather, cost matrices, Sinkhorn, blend). */
export async function benchStage2(opts: {
  grid: number;
  k: number;
  mode: SinkhornMode;
  backend: 'cpu' | 'webgpu';
  queries: number;
  warmup: number;
  galleryFaces: number;
  channels?: number;
}): Promise<Stage2Row> {
  const c = opts.channels ?? C;
  const e = sharedEngine(opts.galleryFaces, c);
  const settings: RerankSettings = { ...DEFAULT_SETTINGS, k: opts.k, grid: opts.grid, backend: opts.backend, sinkhorn: { ...DEFAULT_SETTINGS.sinkhorn, mode: opts.mode } };
  const ms: number[] = [];
  let used: 'cpu' | 'webgpu' = 'cpu';
  let reason: string | undefined;
  for (let q = 0; q < opts.warmup + opts.queries; q++) {
    const r = await e.search(face(c), settings);
    if (q >= opts.warmup) ms.push(r.timings.stage2Ms);
    used = r.backendUsed;
    reason = r.fallbackReason;
  }
  return {
    ...summarise(ms),
    grid: opts.grid,
    c,
    k: opts.k,
    mode: opts.mode,
    backendAsked: opts.backend,
    backendUsed: used,
    ...(reason ? { fallbackReason: reason } : {}),
    galleryFaces: opts.galleryFaces,
  };
}

/** Median stage-1 ms per query: exact cosine top-100 over n x dim unit embeddings. */
export function benchStage1(opts: { rows: number; dim: number; k: number; queries: number; warmup: number }): Stage1Row {
  const r = seededRandom(opts.rows);
  const index = new CosineIndex(opts.dim);
  const chunk = 10_000;
  for (let start = 0; start < opts.rows; start += chunk) {
    const count = Math.min(chunk, opts.rows - start);
    const block = gaussians(r, count * opts.dim);
    index.add(Array.from({ length: count }, (_, i) => block.subarray(i * opts.dim, (i + 1) * opts.dim)));
  }
  const ms: number[] = [];
  for (let q = 0; q < opts.warmup + opts.queries; q++) {
    const query = gaussians(r, opts.dim);
    const t = performance.now();
    index.topK(query, opts.k);
    if (q >= opts.warmup) ms.push(performance.now() - t);
  }
  return { ...summarise(ms), galleryRows: opts.rows, dim: opts.dim };
}

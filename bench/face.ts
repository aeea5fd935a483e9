/**
 * Face pipeline bench on ../shared/data/lfw-dev:
 *   npx tsx bench/face.ts [--limit N] [--json FILE] [--workers N] [--bgr] [--no-cache]
 *   (--no-cache recomputes everything for fresh timings; the cache is still written)
 *
 * Measures detection rate, eye-centre error after alignment, per-step time
 * (decode, detect, landmarks, align, embed; single-threaded WASM per worker,
 * as each extraction worker of the app) and throughput, then stage-1
 * leave-one-out P@1 with plain cosine: every image of an identity with >= 2
 * images is a query against all other images. A query whose face was not
 * found counts as a miss.
 *
 * Features are cached in .cache/face-bench/, keyed by file hash, model
 * checksums, channel order and the pipeline's source code, so reruns only
 * redo what changed (timings then come from the run that computed them).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { l2NormaliseRows } from '../src/engine/vectors.ts';
import { listIdentityImages, REPO_ROOT } from '../tests/unit/face/helpers/data.ts';
import { modelEntry } from '../tests/unit/face/helpers/models.ts';
import type { BenchJob, BenchRecord, BenchWorkerConfig } from './faceWorker.ts';

export interface FaceBenchOptions {
  readonly limit?: number;
  readonly workers?: number;
  readonly channelOrder?: 'RGB' | 'BGR';
  readonly recognizerId?: string;
  /** false: recompute every image (fresh timings) instead of reading the cache. */
  readonly useCache?: boolean;
  readonly dataset?: string;
  readonly log?: (line: string) => void;
}

export interface FaceBenchResult {
  readonly dataset: string;
  readonly images: number;
  readonly recognizer: string;
  readonly detectorChannelOrder: 'RGB' | 'BGR';
  readonly workers: number;
  readonly fromCache: number;
  readonly detection: { readonly found: number; readonly rate: number; readonly severalFaces: number; readonly minChosenScore: number; readonly failures: readonly string[] };
  readonly alignment: { readonly eyeErrorMeanPx: number; readonly eyeErrorMedianPx: number; readonly fitResidualMedianPx: number; readonly fitResidualP99Px: number };
  readonly msPerImage: { readonly decode: number; readonly detect: number; readonly landmarks: number; readonly align: number; readonly embed: number; readonly total: number };
  readonly throughput: {
    /** 1000 / total ms: one worker on one core. */
    readonly perWorkerImagesPerSec: number;
    /** Images computed in this run / wall time with all workers (null when all came from cache). */
    readonly measuredImagesPerSec: number | null;
  };
  readonly stage1: { readonly queries: number; readonly gallery: number; readonly p1: number; readonly missedQueries: number };
}

const BATCH = 16;
const CODE_PATHS = ['src/face', 'tests/unit/face/helpers/decodeNode.ts', 'tests/unit/face/helpers/models.ts', 'bench/faceWorker.ts'];

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hash of the code that computes the features, so a code change invalidates the cache. */
function codeHash(): string {
  const parts: string[] = [];
  for (const rel of CODE_PATHS) {
    const p = join(REPO_ROOT, rel);
    const files = rel.endsWith('.ts')
      ? [p]
      : readdirSync(p)
          .filter((f) => f.endsWith('.ts'))
          .sort()
          .map((f) => join(p, f));
    for (const f of files) parts.push(f, readFileSync(f, 'utf8'));
  }
  return sha256(parts.join('\0'));
}

interface CachedRecord extends Omit<BenchRecord, 'embedding' | 'index'> {
  readonly embedding?: string; // base64 of Float32Array bytes
}

function startWorker(config: BenchWorkerConfig): Promise<Worker> {
  // tsx's loader hooks do not reach worker threads by themselves: register them first.
  const api = import.meta.resolve('tsx/esm/api');
  const target = new URL('./faceWorker.ts', import.meta.url).href;
  const boot = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(target)});`;
  const worker = new Worker(new URL('data:text/javascript,' + encodeURIComponent(boot)), { workerData: config, execArgv: [] });
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve(worker));
    worker.once('error', reject);
  });
}

function runOnWorker(worker: Worker, jobs: BenchJob[]): Promise<BenchRecord[]> {
  return new Promise((resolve, reject) => {
    worker.once('message', (m: { records?: BenchRecord[]; error?: string }) => (m.records ? resolve(m.records) : reject(new Error(m.error))));
    worker.postMessage(jobs);
  });
}

const mean = (a: readonly number[]) => (a.length ? a.reduce((s, x) => s + x, 0) / a.length : NaN);
function quantile(a: readonly number[], q: number): number {
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

/** Leave-one-out stage-1 P@1 with cosine similarity. */
function leaveOneOutP1(identities: readonly string[], embeddings: readonly (Float32Array | undefined)[]): FaceBenchResult['stage1'] {
  const n = identities.length;
  const count = new Map<string, number>();
  for (const id of identities) count.set(id, (count.get(id) ?? 0) + 1);
  const dim = embeddings.find((e) => e)?.length ?? 0;
  const rows: number[] = [];
  const unit = new Float32Array(n * dim);
  embeddings.forEach((e, i) => {
    if (!e) return;
    l2NormaliseRows(e, 0, 1, dim, unit, i * dim);
    rows.push(i);
  });
  let queries = 0;
  let hits = 0;
  let missed = 0;
  for (let q = 0; q < n; q++) {
    if ((count.get(identities[q]) ?? 0) < 2) continue;
    queries++;
    if (!embeddings[q]) {
      missed++;
      continue;
    }
    let best = -Infinity;
    let bestRow = -1;
    for (const g of rows) {
      if (g === q) continue;
      let s = 0;
      for (let d = 0, a = q * dim, b = g * dim; d < dim; d++) s += unit[a + d] * unit[b + d];
      if (s > best) {
        best = s;
        bestRow = g;
      }
    }
    if (bestRow >= 0 && identities[bestRow] === identities[q]) hits++;
  }
  return { queries, gallery: rows.length - 1, p1: (100 * hits) / queries, missedQueries: missed };
}

export async function runFaceBench(opts: FaceBenchOptions = {}): Promise<FaceBenchResult> {
  const log = opts.log ?? (() => {});
  const dataset = opts.dataset ?? 'lfw-dev';
  const recognizerId = opts.recognizerId ?? 'mobilefacenet-arcface';
  const channelOrder = opts.channelOrder ?? 'RGB';
  const workers = Math.max(1, opts.workers ?? availableParallelism());
  let files = listIdentityImages(dataset);
  if (opts.limit) files = files.slice(0, opts.limit);

  const models = [recognizerId, 'ultraface-detector', 'pfld-landmarks68'].map((id) => modelEntry(id).sha256);
  const key = sha256([...models, channelOrder, codeHash()].join('|')).slice(0, 24);
  const cacheDir = join(REPO_ROOT, '.cache/face-bench');
  const cachePath = join(cacheDir, `${key}.json`);
  const cache: Record<string, CachedRecord> = opts.useCache !== false && existsSync(cachePath) ? JSON.parse(readFileSync(cachePath, 'utf8')) : {};

  const hashes = files.map((f) => sha256(readFileSync(f.path)));
  const records: (BenchRecord | undefined)[] = files.map((_, i) => {
    const c = cache[hashes[i]];
    if (!c) return undefined;
    const emb = c.embedding ? new Float32Array(new Uint8Array(Buffer.from(c.embedding, 'base64')).buffer) : undefined;
    return { ...c, index: i, embedding: emb };
  });
  const fromCache = records.filter(Boolean).length;
  const todo: BenchJob[] = files.flatMap((f, i) => (records[i] ? [] : [{ index: i, path: f.path, name: f.name }]));
  log(`${files.length} images, ${fromCache} cached, ${todo.length} to compute on ${workers} worker(s)`);

  let measuredImagesPerSec: number | null = null;
  if (todo.length) {
    const pool = await Promise.all(Array.from({ length: Math.min(workers, Math.ceil(todo.length / BATCH)) }, () => startWorker({ recognizerId, channelOrder })));
    const t0 = performance.now();
    let next = 0;
    let finished = 0;
    await Promise.all(
      pool.map(async (w) => {
        while (next < todo.length) {
          const jobs = todo.slice(next, next + BATCH);
          next += BATCH;
          for (const r of await runOnWorker(w, jobs)) records[r.index] = r;
          finished += jobs.length;
          if (finished % (BATCH * 20) < BATCH) log(`  ${finished}/${todo.length}`);
        }
      }),
    );
    measuredImagesPerSec = todo.length / ((performance.now() - t0) / 1000);
    await Promise.all(pool.map((w) => w.terminate()));
    for (const r of records) {
      if (!r) continue;
      const { index: _index, embedding, ...rest } = r;
      cache[hashes[r.index]] = { ...rest, embedding: embedding ? Buffer.from(embedding.buffer, embedding.byteOffset, embedding.byteLength).toString('base64') : undefined };
    }
    // Stored even after --no-cache (which only skips reading), so the next run is fast.
    mkdirSync(cacheDir, { recursive: true });
    writeFileSync(cachePath, JSON.stringify(cache));
  }

  const all = records as BenchRecord[];
  const ok = all.filter((r) => r.ok);
  const step = (k: keyof BenchRecord['ms']) => mean(ok.map((r) => r.ms[k]));
  const ms = { decode: step('decode'), detect: step('detect'), landmarks: step('landmarks'), align: step('align'), embed: step('embed') };
  const total = ms.decode + ms.detect + ms.landmarks + ms.align + ms.embed;
  return {
    dataset,
    images: files.length,
    recognizer: recognizerId,
    detectorChannelOrder: channelOrder,
    workers,
    fromCache,
    detection: {
      found: ok.length,
      rate: (100 * ok.length) / files.length,
      severalFaces: ok.filter((r) => r.faceCount > 1).length,
      minChosenScore: Math.min(...ok.map((r) => r.score)),
      failures: all.filter((r) => !r.ok).map((r) => `${files[r.index].name} (${r.errorCode})`),
    },
    alignment: {
      eyeErrorMeanPx: mean(ok.map((r) => r.eyeError)),
      eyeErrorMedianPx: quantile(
        ok.map((r) => r.eyeError),
        0.5,
      ),
      fitResidualMedianPx: quantile(
        ok.map((r) => r.fitResidual),
        0.5,
      ),
      fitResidualP99Px: quantile(
        ok.map((r) => r.fitResidual),
        0.99,
      ),
    },
    msPerImage: { ...ms, total },
    throughput: { perWorkerImagesPerSec: 1000 / total, measuredImagesPerSec },
    stage1: leaveOneOutP1(
      files.map((f) => f.identity),
      all.map((r) => r.embedding),
    ),
  };
}

function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

if (import.meta.url === new URL(process.argv[1], 'file://').href || process.argv[1]?.endsWith('bench/face.ts')) {
  const args = process.argv.slice(2);
  const limit = argValue(args, '--limit');
  const workers = argValue(args, '--workers');
  const json = argValue(args, '--json');
  const result = await runFaceBench({
    limit: limit ? Number(limit) : undefined,
    workers: workers ? Number(workers) : undefined,
    channelOrder: args.includes('--bgr') ? 'BGR' : 'RGB',
    useCache: !args.includes('--no-cache'),
    log: (line) => console.error(line),
  });
  const text = JSON.stringify(result, null, 2);
  if (json) writeFileSync(json, text + '\n');
  console.log(text);
}

/**
 * Scale benchmark of the gallery storage the app uses (issue 16): faces in
 * the Origin Private File System through RecordGalleryStorage (format
 * 'compact': int8 stage-1 rows, 8-bit sparse patch maps, JPEG thumbnails),
 * loaded and searched through GalleryService/SearchEngine, in headless
 * Chromium. Per gallery size N:
 *
 * 1. write: N synthetic faces of the default recognizer's shapes (1536-D
 *    stage-1 vector in N/4 identities, 7x7x1024 non-negative ~90%-zero patch
 *    map, 68 landmarks, 224 px JPEG thumbnail) through putBatch, 500 a batch,
 *    in a dedicated worker (sync access handles exist only there);
 * 2. start-up: that worker terminated, a fresh one started; from `new Worker`
 *    to "first query possible" (new RecordGalleryStorage + new GalleryService
 *    + load()), and load() alone; best of a few starts reported beside each;
 * 3. memory after load: measureUserAgentSpecificMemory (page + worker; the
 *    page is cross-origin isolated), the renderer's RSS from /proc (the
 *    worker is a thread of it), the engine's bytes (SearchEngine.byteLength);
 * 4. search: >= 20 queries near some identity, CPU, k 100, 7x7 (stage 2
 *    reads and decodes its candidates' records from disk) and 4x4;
 * 5. storage: storage.stats() bytes per face, navigator.storage.estimate()
 *    delta, and the profile's OPFS folder on disk.
 *
 *   npx tsx bench/scale.ts [--faces N[,N...]] [--queries N] [--startups N] [--one-worker] [--json FILE]
 *   npx tsx bench/scale.ts --scale1m [--json FILE]     (1,000,000 faces, cached profile)
 *
 * Runs against a Vite dev server it starts on a free port (HMR and file
 * watching off: bench/scaleVite.config.ts), in a throwaway
 * persistent profile (an incognito context keeps storage in memory), which it
 * deletes at the end. With --profile DIR (--scale1m: .cache/scale1m-profile)
 * the profile is kept and a complete gallery of that size in it is reused (an
 * incomplete one is completed: faces are a function of their index); OPFS
 * belongs to an origin, port included, so that mode serves on a fixed port
 * (--port, default 5391). If a size does not fit (quota, allocation, a crashed
 * renderer) it says what failed at which N and retries at half the size.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { argValue, chromiumPath, freePort, repoRoot } from './browser.ts';
import type { DetailReads, EngineBytes, MemorySample, PageInfo, SearchRow, StartupResult, StorageSample, StorageStats, WorkerInfo, WriteResult } from './scalePage.ts';

export interface ScaleBenchOptions {
  /** Gallery sizes, measured one after the other. */
  readonly faces?: number | readonly number[];
  /** Timed queries per search row (>= 20). */
  readonly queries?: number;
  /** Fresh-worker start-ups timed per size (the last one is measured for memory and searched). */
  readonly startups?: number;
  /** Faces per putBatch. */
  readonly batch?: number;
  /** Smallest gallery tried after failures. */
  readonly minFaces?: number;
  /** Keep the browser profile here and reuse the gallery it holds (absolute, or relative to the repository). */
  readonly profileDir?: string;
  /** Fixed dev-server port (needed with profileDir: OPFS belongs to the origin, port included). */
  readonly port?: number;
  /** Stage 2 in the engine worker alone, without the app's helper worker (for comparison). */
  readonly oneWorker?: boolean;
  readonly log?: (line: string) => void;
}

export interface MemoryReading extends MemorySample {
  /** VmRSS of the page's renderer process (/proc): the page and its worker thread, V8 heaps, ArrayBuffers, Blink, code. */
  readonly rendererRssBytes: number | null;
  /** VmHWM of that process: its peak RSS so far. */
  readonly rendererPeakRssBytes: number | null;
}

export interface ScaleAttemptFailure {
  readonly faces: number;
  readonly phase: string;
  readonly error: string;
}

/** One line of the issue's table. */
export interface ScaleEntry {
  readonly faces: number;
  /** measureUserAgentSpecificMemory after load (page + worker), MB = 10^6 bytes. */
  readonly page_memory_mb: number | null;
  /** storage.stats() total / faces. */
  readonly storage_bytes_per_face: number;
  /** new Worker to first query possible (median of the start-ups). */
  readonly startup_ms: number;
  /** 7x7, k 100, CPU, medians. */
  readonly stage1_ms: number;
  readonly stage2_ms: number;
}

interface Target {
  readonly limit: number;
  readonly measured: number | null;
  readonly met: boolean;
}

export interface ScaleRun {
  readonly facesRequested: number;
  readonly faces: number;
  readonly modelKey: string;
  /** The gallery was already in the cached profile (write: what completed it, or null). */
  readonly reusedGallery: boolean;
  readonly worker: WorkerInfo | null;
  readonly write: (WriteResult & { readonly facesPerS: number; readonly putFacesPerS: number }) | null;
  readonly startup: {
    readonly runs: readonly StartupResult[];
    readonly startupMsMedian: number;
    readonly loadMsMedian: number;
    readonly workerReadyMsMedian: number;
  };
  readonly memory: {
    readonly engine: EngineBytes;
    readonly engineAfterSearch: EngineBytes;
    readonly baseline: MemoryReading;
    readonly afterLoad: MemoryReading;
    readonly afterSearch: MemoryReading;
    readonly method: string;
  };
  readonly storage: {
    readonly stats: StorageStats;
    readonly bytesPerFace: number;
    readonly before: StorageSample;
    readonly after: StorageSample;
    readonly usageDeltaBytes: number | null;
    readonly usageDeltaBytesPerFace: number | null;
    /** <profile>/Default/File System on disk after writing. */
    readonly opfsDiskBytes: number | null;
  };
  readonly search: {
    readonly backend: 'cpu' | 'webgpu';
    readonly k: number;
    readonly stage1MsMedian: number;
    readonly stage1MsP90: number;
    readonly stage2MsMedian: number;
    readonly stage2MsP90: number;
    /** 2 when stage 2's helper worker took a share of the candidates. */
    readonly stage2Workers: number;
    readonly rows: readonly SearchRow[];
    /** 100 uncached candidates read through storage.details (after the search rows). */
    readonly detailReads: DetailReads;
  };
  readonly targets: {
    readonly size: string;
    readonly pageMemoryMb: Target;
    readonly storageBytesPerFace: Target;
    readonly startupMs: Target;
    readonly stage1Ms: Target;
    readonly stage2Ms: Target;
  };
  readonly failures: readonly ScaleAttemptFailure[];
}

export interface ScaleBenchResult {
  readonly name: 'scale';
  readonly when: string;
  readonly machine: { readonly cpuModel: string; readonly cpuCount: number; readonly ramBytes: number; readonly browser: string; readonly crossOriginIsolated: boolean };
  readonly shape: { readonly embedding: number; readonly patches: string; readonly landmarks: number; readonly thumbnail: string; readonly storage: string };
  readonly scale: readonly ScaleEntry[];
  readonly runs: readonly ScaleRun[];
  /** Sizes that did not fit, largest first (empty when every requested size worked). */
  readonly failures: readonly ScaleAttemptFailure[];
  readonly notes: readonly string[];
}

/** Timed queries reported apart as the first ones (see settledMedians). */
const SETTLING_QUERIES = 10;

/** Issue 16's targets at 100,000 and at 1,000,000 faces. */
const TARGETS = {
  '100k': { faces: 100_000, pageMemoryMb: 250, storageBytesPerFace: 30_000, startupMs: 2_000, stage1Ms: 15, stage2Ms: 25 },
  '1M': { faces: 1_000_000, pageMemoryMb: 1_200, storageBytesPerFace: 30_000, startupMs: 10_000, stage1Ms: 120, stage2Ms: 30 },
};
const DB_NAME = 'deepface-emd-scale-bench';
const BENCH = '/bench/scalePage.ts';
const DEFAULT_CACHE_PORT = 5391;
export const SCALE_1M_PROFILE = '.cache/scale1m-profile';

type PageModule = typeof import('./scalePage.ts');

const modelKeyFor = (faces: number) => `bench-synthetic-${faces}@scale`;

async function answers(url: string): Promise<boolean> {
  try {
    await fetch(url);
    return true;
  } catch {
    return false;
  }
}

async function startDevServer(fixedPort?: number): Promise<{ url: string; child: ChildProcess }> {
  const port = fixedPort ?? (await freePort());
  // A server already on a fixed port would answer the check below in place of ours (a stale one left by a killed run
  // serves whatever checkout it was started in), so a busy port is refused up front.
  if (fixedPort !== undefined && (await answers(`http://127.0.0.1:${fixedPort}/`))) {
    throw new Error(`port ${fixedPort} is already in use (a dev server left by an earlier run?); stop it or pass another --port`);
  }
  const child = spawn('npx', ['vite', '--config', 'bench/scaleVite.config.ts', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: repoRoot, stdio: 'ignore', detached: true });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the Vite dev server exited early (code ${child.exitCode}${fixedPort ? `; is port ${fixedPort} busy?` : ''})`);
    try {
      if ((await fetch(`${url}/bench/scale.html`)).ok) return { url, child };
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) {
      stopServer(child);
      throw new Error(`the Vite dev server did not answer at ${url}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

function stopServer(child: ChildProcess): void {
  if (child.exitCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    child.kill('SIGTERM');
  }
}

/** A few lfw-dev photos (base64 JPEG) the worker turns into 224 px JPEG thumbnails; none when the data set is absent. */
function sampleJpegs(count: number): string[] {
  const src = resolve(repoRoot, '../shared/data/lfw-dev');
  if (!existsSync(src)) return [];
  const out: string[] = [];
  for (const id of readdirSync(src).sort()) {
    for (const f of readdirSync(join(src, id)).sort()) {
      if (!/\.jpe?g$/i.test(f)) continue;
      out.push(readFileSync(join(src, id, f)).toString('base64'));
      if (out.length >= count) return out;
      break; // one per identity
    }
  }
  return out;
}

function dirBytes(dir: string): number {
  let bytes = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    if (f.isDirectory()) bytes += dirBytes(p);
    else if (f.isFile()) bytes += statSync(p).size;
  }
  return bytes;
}

/** The command line as one string (Chromium rewrites its children's titles, so it is not always NUL-separated). */
function procCmdline(pid: number): string {
  try {
    return ` ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ')} `;
  } catch {
    return '';
  }
}

/**
 * VmRSS and VmHWM (peak RSS since the process started) of the largest renderer
 * of the browser that uses `profileDir`: the bench page's renderer, which also
 * runs its dedicated worker as a thread (Chromium passes --user-data-dir to its children).
 */
function rendererRss(profileDir: string): { rss: number; peak: number } | null {
  let best: { rss: number; peak: number } | null = null;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const cmd = procCmdline(Number(d));
    if (!cmd.includes(' --type=renderer ') || !cmd.includes(` --user-data-dir=${profileDir} `) || cmd.includes(' --top-chrome-webui ')) continue;
    try {
      const status = readFileSync(`/proc/${d}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) * 1024;
      const r = { rss: kb('VmRSS'), peak: kb('VmHWM') };
      if (Number.isFinite(r.rss) && (!best || r.rss > best.rss)) best = r;
    } catch {
      // gone
    }
  }
  return best;
}

class PhaseError extends Error {
  constructor(
    readonly phase: string,
    message: string,
    readonly faces: number,
  ) {
    super(message);
  }
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

interface AttemptConfig {
  readonly url: string;
  readonly faces: number;
  readonly queries: number;
  readonly startups: number;
  readonly batch: number;
  /** Kept profile (absolute); null: a throwaway one. */
  readonly profileDir: string | null;
  readonly oneWorker: boolean;
  readonly log: (s: string) => void;
}

interface Attempt {
  readonly info: PageInfo;
  readonly browserVersion: string;
  readonly run: Omit<ScaleRun, 'targets' | 'failures' | 'facesRequested'>;
}

async function attempt(cfg: AttemptConfig): Promise<Attempt> {
  const { faces, log } = cfg;
  const profileDir = cfg.profileDir ?? mkdtempSync(join(tmpdir(), 'bench-scale-profile-'));
  mkdirSync(profileDir, { recursive: true });
  const ctx = await chromium.launchPersistentContext(profileDir, {
    executablePath: chromiumPath(),
    headless: true,
    // A kept profile holds the big gallery (1M x ~23 kB): this Chromium's default origin quota is a fraction of the free disk (10.7 GB here).
    args: ['--no-first-run', '--disable-component-update', '--disable-sync', '--js-flags=--expose-gc', ...(cfg.profileDir ? ['--unlimited-storage'] : [])],
  });
  let phase = 'start';
  const modelKey = modelKeyFor(faces);
  const identities = Math.max(1, Math.round(faces / 4));
  const gallery = { dbName: DB_NAME, modelKey, oneWorker: cfg.oneWorker };
  try {
    const page: Page = ctx.pages()[0] ?? (await ctx.newPage());
    let crashed = false;
    page.on('crash', () => {
      crashed = true;
    });
    await page.exposeFunction('__scaleProgress', (line: string) => log(line));
    await page.goto(`${cfg.url}/bench/scale.html`);
    // Warm-up: the Vite dev server finds the worker's dependencies on first request and may reload the page once for them.
    await page
      .evaluate(async (bench) => {
        const m = (await import(bench)) as { startWorker(): Promise<number>; stopWorker(): Promise<void> };
        await m.startWorker();
        await m.stopWorker();
      }, BENCH)
      .catch(() => undefined);
    await new Promise((r) => setTimeout(r, 2_000));
    await page.goto(`${cfg.url}/bench/scale.html`);
    /** Calls one export of scalePage.ts in the page; `name` names the step for failure reports. */
    const call = async <K extends keyof PageModule>(name: string, method: K, ...arg: Parameters<PageModule[K]>): Promise<Awaited<ReturnType<PageModule[K]>>> => {
      phase = name;
      try {
        return (await page.evaluate(
          async ({ bench, method, arg }) => {
            const m = (await import(bench)) as Record<string, (...a: unknown[]) => unknown>;
            return m[method](...arg);
          },
          { bench: BENCH, method, arg },
        )) as Awaited<ReturnType<PageModule[K]>>;
      } catch (e) {
        const msg = e instanceof Error ? e.message.split('\n')[0] : String(e);
        throw new PhaseError(name, crashed ? `the renderer crashed (${msg})` : msg, faces);
      }
    };
    const memory = async (): Promise<MemoryReading> => {
      const m = await call('measure memory', 'measureMemory');
      const r = rendererRss(profileDir);
      return { ...m, rendererRssBytes: r?.rss ?? null, rendererPeakRssBytes: r?.peak ?? null };
    };

    const info = await call('init', 'init');
    const baseline = await memory();
    const before = await call('storage estimate', 'storageEstimate');
    await call('start worker', 'startWorker');
    const present = await call('count', 'galleryCount', gallery);
    if (before.quota !== null && present < faces && before.quota - (before.usage ?? 0) < (faces - present) * 25_000) {
      log(`  warning: ${mb(before.quota)} quota, ${mb(before.usage)} used: ${(faces - present).toLocaleString('en')} more faces at ~23 kB each may not fit`);
    }
    let worker: WorkerInfo | null = null;
    let write: ScaleRun['write'] = null;
    const reused = present > 0;
    if (present >= faces) {
      log(`reusing the gallery of ${present.toLocaleString('en')} faces already in ${profileDir} (${modelKey}); not written again`);
    } else {
      worker = await call('worker init', 'workerInit', { jpegsBase64: sampleJpegs(8) });
      if (present > 0) log(`the gallery in ${profileDir} holds ${present.toLocaleString('en')} of ${faces.toLocaleString('en')} faces: writing the rest`);
      log(
        `writing faces ${present.toLocaleString('en')}..${faces.toLocaleString('en')} through RecordGalleryStorage.putBatch (${cfg.batch} a batch; thumbnails ${worker.thumbnailSource}, ${worker.thumbnailBytes.map((b) => (b / 1000).toFixed(1)).join(', ')} kB; maps ${(100 * worker.sampleMapZeroFraction).toFixed(1)}% zeros, ${worker.sampleAllZeroPatches.toFixed(1)} all-zero patches) ...`,
      );
      const w = await call('write', 'writeGallery', { ...gallery, from: present, to: faces, identities, batch: cfg.batch });
      if (w.failure) throw new PhaseError('write', `stopped at face ${w.failure.index}: ${w.failure.error}`, faces);
      write = { ...w, facesPerS: w.written / (w.totalMs / 1000), putFacesPerS: w.written / (w.putMs / 1000) };
    }
    await call('stop worker', 'stopWorker');
    const after = await call('storage estimate', 'storageEstimate');
    const fsDir = join(profileDir, 'Default', 'File System');
    const opfsDiskBytes = existsSync(fsDir) ? dirBytes(fsDir) : null;

    const runs: StartupResult[] = [];
    for (let i = 0; i < cfg.startups; i++) {
      const s = await call('start-up', 'startup', { ...gallery, identities });
      if (s.faces !== faces) throw new PhaseError('start-up', `load() gave ${s.faces} faces, ${faces} were written`, faces);
      runs.push(s);
      log(
        `start-up ${i + 1}/${cfg.startups}: ${s.startupMs.toFixed(0)} ms to first query possible (worker modules ${s.workerReadyMs.toFixed(0)} ms, storage + service ${s.constructMs.toFixed(1)} ms, load() ${s.loadMs.toFixed(0)} ms${s.load ? `: list ${s.load.listMs.toFixed(0)}, row reads ${s.load.readRowsMs.toFixed(0)}, index ${s.load.indexMs.toFixed(0)}` : ''})`,
      );
    }
    const engine = await call('engine bytes', 'engineBytes', gallery);
    log('measuring memory after load ...');
    const afterLoad = await memory();
    const stats = await call('storage stats', 'storageStats', gallery);
    const rows: SearchRow[] = [];
    let firstQuery = 0;
    for (const grid of [7, 4]) {
      log(
        `search: ${grid}x${grid}x1024, k 100, cpu, ${cfg.queries} queries (stage 2 reads its candidates from OPFS; ${cfg.oneWorker ? 'one worker' : 'with the helper worker where there are two cores'}) ...`,
      );
      const row = await call('search', 'searchRow', { grid, k: 100, queries: cfg.queries, warmup: 2, firstQuery });
      firstQuery += cfg.queries + 2;
      rows.push(row);
      log(
        `  stage 1 median ${row.stage1Ms.median.toFixed(1)} ms (p90 ${row.stage1Ms.p90.toFixed(1)}), stage 2 median ${row.stage2Ms.median.toFixed(1)} ms (p90 ${row.stage2Ms.p90.toFixed(1)}) on ${row.stage2Workers} worker(s); own identity first: stage 1 ${(100 * row.stage1Top1).toFixed(0)}%, stage 2 ${(100 * row.stage2Top1).toFixed(0)}%`,
      );
      log(`  stage 2 per query, in order (ms): ${row.stage2Sequence.map((ms) => ms.toFixed(0)).join(' ')}; ${settledMedians(row.stage2Sequence)}`);
    }
    const reads = await call('detail reads', 'detailReads', { ...gallery, faces: 100, seed: 99 });
    log(
      `  stage 2's storage part per uncached candidate: details.read ${reads.readMsPerFace.toFixed(2)} ms, of which decoding ${reads.decodeMsPerFace.toFixed(2)} ms (x k = 100: ${(100 * reads.readMsPerFace).toFixed(0)} ms); the stored bytes alone ${reads.rawReadMsPerFace.first.toFixed(3)} ms, the same faces again ${reads.rawReadMsPerFace.again.toFixed(3)} ms`,
    );
    const engineAfterSearch = await call('engine bytes', 'engineBytes', gallery);
    const afterSearch = await memory();
    await call('stop worker', 'stopWorker');
    const row7 = rows[0];
    const usageDelta = write && before.usage !== null && after.usage !== null ? after.usage - before.usage : null;
    return {
      info,
      browserVersion: ctx.browser()?.version() ?? 'unknown',
      run: {
        faces,
        modelKey,
        reusedGallery: reused,
        worker,
        write,
        startup: {
          runs,
          startupMsMedian: median(runs.map((r) => r.startupMs)),
          loadMsMedian: median(runs.map((r) => r.loadMs)),
          workerReadyMsMedian: median(runs.map((r) => r.workerReadyMs)),
        },
        memory: {
          engine,
          engineAfterSearch,
          baseline,
          afterLoad,
          afterSearch,
          method:
            afterLoad.uaSpecificBytes !== null
              ? 'performance.measureUserAgentSpecificMemory() (cross-origin isolated page; counts the page and its dedicated worker), plus renderer VmRSS / VmHWM from /proc'
              : `renderer VmRSS (measureUserAgentSpecificMemory failed: ${afterLoad.uaSpecificError})`,
        },
        storage: {
          stats,
          bytesPerFace: stats.totalBytes / faces,
          before,
          after,
          usageDeltaBytes: usageDelta,
          usageDeltaBytesPerFace: usageDelta !== null && write ? usageDelta / write.written : null,
          opfsDiskBytes,
        },
        search: {
          backend: row7.backendUsed,
          k: 100,
          stage1MsMedian: row7.stage1Ms.median,
          stage1MsP90: row7.stage1Ms.p90,
          stage2MsMedian: row7.stage2Ms.median,
          stage2MsP90: row7.stage2Ms.p90,
          stage2Workers: row7.stage2Workers,
          rows,
          detailReads: reads,
        },
      },
    };
  } catch (e) {
    if (e instanceof PhaseError) throw e;
    throw new PhaseError(phase, e instanceof Error ? e.message.split('\n')[0] : String(e), faces);
  } finally {
    await ctx.close().catch(() => undefined);
    if (!cfg.profileDir) rmSync(profileDir, { recursive: true, force: true });
  }
}

function target(limit: number, measured: number | null): Target {
  return { limit, measured, met: measured !== null && measured <= limit };
}

function targetsFor(faces: number, run: Attempt['run']): ScaleRun['targets'] {
  const t = faces > TARGETS['100k'].faces ? TARGETS['1M'] : TARGETS['100k'];
  const mem = run.memory.afterLoad.uaSpecificBytes;
  return {
    size: `${t === TARGETS['1M'] ? '1M' : '100k'} targets`,
    pageMemoryMb: target(t.pageMemoryMb, mem === null ? null : mem / 1e6),
    storageBytesPerFace: target(t.storageBytesPerFace, run.storage.bytesPerFace),
    startupMs: target(t.startupMs, run.startup.startupMsMedian),
    stage1Ms: target(t.stage1Ms, run.search.stage1MsMedian),
    stage2Ms: target(t.stage2Ms, run.search.stage2MsMedian),
  };
}

export async function runScaleBench(opts: ScaleBenchOptions = {}): Promise<ScaleBenchResult> {
  const sizes = (typeof opts.faces === 'number' ? [opts.faces] : (opts.faces ?? [100_000])).map((n) => Math.max(1, Math.floor(n)));
  const queries = Math.max(20, opts.queries ?? 30);
  const startups = Math.max(1, opts.startups ?? 3);
  const batch = Math.max(1, opts.batch ?? 500);
  const log = opts.log ?? ((line: string) => console.error(line));
  const profileDir = opts.profileDir ? resolve(repoRoot, opts.profileDir) : null;
  const server = await startDevServer(opts.port ?? (profileDir ? DEFAULT_CACHE_PORT : undefined));
  const failures: ScaleAttemptFailure[] = [];
  const runs: ScaleRun[] = [];
  let info: PageInfo | null = null;
  let browserVersion = 'unknown';
  try {
    for (const requested of sizes) {
      const minFaces = opts.minFaces ?? Math.min(requested, 500);
      const mine: ScaleAttemptFailure[] = [];
      let faces = requested;
      for (;;) {
        try {
          log(`scale: ${faces.toLocaleString('en')} faces${profileDir ? ` (profile kept in ${profileDir})` : ''}`);
          const a = await attempt({ url: server.url, faces, queries, startups, batch, profileDir, oneWorker: opts.oneWorker === true, log });
          info = a.info;
          browserVersion = a.browserVersion;
          runs.push({ facesRequested: requested, ...a.run, targets: targetsFor(faces, a.run), failures: mine });
          break;
        } catch (e) {
          const f: ScaleAttemptFailure = e instanceof PhaseError ? { faces: e.faces, phase: e.phase, error: e.message } : { faces, phase: '?', error: String(e) };
          mine.push(f);
          failures.push(f);
          log(`  FAILED at ${f.faces} faces in ${f.phase}: ${f.error}`);
          const nextFaces = Math.floor(Math.min(faces, f.faces) / 2);
          if (nextFaces < minFaces) {
            log(`  giving up on ${requested.toLocaleString('en')} faces: failed down to ${faces}`);
            break;
          }
          faces = nextFaces;
        }
      }
    }
  } finally {
    stopServer(server.child);
  }
  if (!info || runs.length === 0) throw new Error(`the scale bench measured no size: ${failures.map((x) => `${x.faces} faces, ${x.phase}: ${x.error}`).join('; ')}`);
  return toResult(info, browserVersion, runs, failures);
}

function toResult(info: PageInfo, browserVersion: string, runs: ScaleRun[], failures: ScaleAttemptFailure[]): ScaleBenchResult {
  const notes = [
    `Machine: ${cpus().length} cores shared with other long-running jobs while this ran, so every timing is contended (upper bounds).`,
    "Storage: RecordGalleryStorage({ format: 'compact' }) over openOpfsGallery (OPFS, sync access handles) in a dedicated bench worker, as workers/engine.worker.ts does; thumbnails are JPEG q0.9 of 224 px crops of lfw-dev photos made once and stored as given (the app re-encodes its PNG crop to the same kind of JPEG). bytes per face = storage.stats() stage1 + faces + log + journal files / faces; estimate() delta = navigator.storage.estimate().usage after writing - before.",
    'Quota: with a kept profile (--profile, the 1M part) Chromium runs with --unlimited-storage: its default origin quota here was 10.7 GB (a share of the free disk), under 1M x ~23 kB; Chrome gives an origin up to 60% of the disk on a user machine.',
    'Synthetic faces: stage-1 vector = identity centre + 0.8 x noise (N/4 identities, 4 faces each); patch map = one of 192 pool maps (non-negative, ~90% exact zeros, ~2 all-zero patches in 49) with patches rotated and channels shifted per face, encoded by the app codec on every put.',
    'Start-up: from `new Worker` in the page to GalleryService.load() returning in it (new RecordGalleryStorage + new GalleryService + load()); the worker modules are served one by one by the Vite dev server here (workerReadyMs), which a production build replaces by one chunk. The OS page cache holds the files just written (a cold disk would be slower).',
    'Memory: measureUserAgentSpecificMemory() after load, with the worker holding only what load() built (stage-1 int8 rows, ids, labels, the store index); gc() forced first (--js-flags=--expose-gc). Renderer RSS includes the worker thread, Blink and code. "after search" adds the 160 decoded candidates the storage caches and the engine scratch.',
    'Search: GalleryService.index.search, CPU, k 100, alpha 0.7, no adaptive alpha, APC weights, Sinkhorn reference; stage2Ms includes reading and decoding the k candidates records from OPFS (through storage.details); queries are fresh faces near random identities, so candidates are mostly not in the 160-face detail cache.',
  ];
  for (const r of runs) {
    if (r.faces !== r.facesRequested) notes.push(`Asked ${r.facesRequested} faces, measured ${r.faces}: ${r.failures.map((f) => `${f.faces} faces (${f.phase}: ${f.error})`).join('; ')}.`);
    if (r.reusedGallery)
      notes.push(
        `${r.faces} faces: the gallery was reused from the kept profile${r.write ? ` and completed (${r.write.written} faces written)` : ''}; write rate and estimate() delta ${r.write ? 'cover only the faces written this run' : 'were not measured this run'}.`,
      );
  }
  return {
    name: 'scale',
    when: new Date().toISOString(),
    machine: { cpuModel: cpus()[0]?.model ?? 'unknown', cpuCount: cpus().length, ramBytes: totalmem(), browser: `chromium ${browserVersion}`, crossOriginIsolated: info.crossOriginIsolated },
    shape: {
      embedding: 1536,
      patches: '7x7x1024 float32 (non-negative, ~90% zeros)',
      landmarks: 68,
      thumbnail: '224x224 JPEG q0.9',
      storage: "RecordGalleryStorage 'compact' (int8 stage-1 rows, 8-bit sparse patch maps) in OPFS",
    },
    scale: runs.map((r) => ({
      faces: r.faces,
      page_memory_mb: r.memory.afterLoad.uaSpecificBytes === null ? null : round(r.memory.afterLoad.uaSpecificBytes / 1e6),
      storage_bytes_per_face: Math.round(r.storage.bytesPerFace),
      startup_ms: round(r.startup.startupMsMedian),
      stage1_ms: round(r.search.stage1MsMedian),
      stage2_ms: round(r.search.stage2MsMedian),
      stage2_workers: r.search.stage2Workers,
    })),
    runs,
    failures,
    notes,
  };
}

const round = (x: number) => Math.round(x * 100) / 100;
const MB = 1e6;
const mb = (b: number | null | undefined) => (b === null || b === undefined ? '-' : `${(b / MB).toFixed(1)} MB`);
const ms = (x: number) => x.toFixed(1);
const kb = (b: number | null | undefined) => (b === null || b === undefined ? '-' : `${(b / 1000).toFixed(1)} kB`);
const mark = (t: Target) => (t.met ? 'met' : 'MISSED');

function memLine(name: string, m: MemoryReading): string {
  return `| ${name} | ${mb(m.uaSpecificBytes)}${m.uaSpecificError ? ` (${m.uaSpecificError})` : ''} | ${mb(m.uaWorkerBytes)} | ${mb(m.usedJsHeapBytes)} | ${mb(m.rendererRssBytes)} | ${mb(m.rendererPeakRssBytes)} |`;
}

export function scaleBenchTable(r: ScaleBenchResult): string {
  const lines = [
    `Scale benchmark (${r.machine.browser}, ${r.machine.cpuCount} x ${r.machine.cpuModel}, contended; crossOriginIsolated ${r.machine.crossOriginIsolated})`,
    `Per face: ${r.shape.embedding}-D stage-1 vector, ${r.shape.patches} patches, ${r.shape.landmarks} landmarks, ${r.shape.thumbnail}; storage ${r.shape.storage}.`,
    '',
    '| gallery | page memory | storage per face | start-up to first query | stage 1 | stage 2 (7x7, k 100, incl. reads) |',
    '|---|---|---|---|---|---|',
    ...r.runs.map((x) => {
      const t = x.targets;
      return `| ${x.faces.toLocaleString('en')} faces | ${t.pageMemoryMb.measured === null ? '-' : `${t.pageMemoryMb.measured.toFixed(0)} MB`} (<= ${t.pageMemoryMb.limit} MB: ${mark(t.pageMemoryMb)}) | ${kb(t.storageBytesPerFace.measured)} (<= ${t.storageBytesPerFace.limit / 1000} kB: ${mark(t.storageBytesPerFace)}) | ${(x.startup.startupMsMedian / 1000).toFixed(2)} s (<= ${t.startupMs.limit / 1000} s: ${mark(t.startupMs)}) | ${ms(x.search.stage1MsMedian)} ms (<= ${t.stage1Ms.limit} ms: ${mark(t.stage1Ms)}) | ${ms(x.search.stage2MsMedian)} ms (<= ${t.stage2Ms.limit} ms: ${mark(t.stage2Ms)}) |`;
    }),
  ];
  for (const x of r.runs) {
    const s = x.storage;
    const w = x.write;
    const e = x.memory.engine;
    const ea = x.memory.engineAfterSearch;
    lines.push(
      '',
      `### ${x.faces.toLocaleString('en')} faces (${x.targets.size})${x.reusedGallery ? ' (gallery reused from the kept profile)' : ''}`,
      '',
      '| step | value |',
      '|---|---|',
      w
        ? `| write ${w.written.toLocaleString('en')} faces (putBatch of ${w.batch}) | ${(w.totalMs / 1000).toFixed(1)} s, ${w.facesPerS.toFixed(0)} faces/s (putBatch alone ${w.putFacesPerS.toFixed(0)} faces/s, ${(w.putMs / w.written).toFixed(2)} ms/face; generating ${(w.generateMs / w.written).toFixed(2)} ms/face; batch median ${ms(w.putMsPerBatch.median)} ms, p90 ${ms(w.putMsPerBatch.p90)} ms) |`
        : '| write | not run: the kept profile held the whole gallery |',
      `| start-up to first query (median of ${x.startup.runs.length}) | ${ms(x.startup.startupMsMedian)} ms: worker modules ${ms(x.startup.workerReadyMsMedian)} ms + load() ${ms(x.startup.loadMsMedian)} ms (each: ${x.startup.runs.map((u) => `${u.startupMs.toFixed(0)}/${u.loadMs.toFixed(0)}`).join(', ')} ms total/load) |`,
      `| engine after load (SearchEngine.byteLength) | stage 1 ${mb(e.stage1)} (${(e.stage1 / Math.max(1, e.faces)).toFixed(0)} B/face), details in memory ${mb(e.detailsInMemory)}; FaceRecordStore index ${mb(e.storeIndex)}; after search: stage 1 ${mb(ea.stage1)}, details ${mb(ea.detailsInMemory)} |`,
      `| storage.stats() | ${mb(s.stats.totalBytes)} = stage1 ${mb(s.stats.stage1Bytes)} + faces ${mb(s.stats.facesBytes)} + log ${mb(s.stats.logBytes)} + journal ${mb(s.stats.journalBytes)}; ${kb(s.bytesPerFace)}/face; live ${s.stats.liveFaces}, dead ${s.stats.deadFaces} |`,
      `| navigator.storage.estimate() | usage ${mb(s.before.usage)} -> ${mb(s.after.usage)}, delta ${mb(s.usageDeltaBytes)} (${kb(s.usageDeltaBytesPerFace)}/face written); quota ${mb(s.after.quota)} |`,
      `| profile's File System folder on disk | ${mb(s.opfsDiskBytes)} (${kb(s.opfsDiskBytes === null ? null : s.opfsDiskBytes / x.faces)}/face) |`,
      '',
      '| memory | measureUserAgentSpecificMemory | of it, worker | page usedJSHeapSize | renderer RSS | renderer peak RSS |',
      '|---|---|---|---|---|---|',
      memLine('empty page', x.memory.baseline),
      memLine('after load (fresh worker)', x.memory.afterLoad),
      memLine('after the searches', x.memory.afterSearch),
      '',
      '| search (CPU, k 100) | queries | stage 1 median / p90 ms | stage 2 median / p90 ms | first query stage 1 / 2 ms | own identity first: stage 1 / stage 2 |',
      '|---|---|---|---|---|---|',
      `| storage part of stage 2, per uncached candidate | details.read (read and decode) ${x.search.detailReads.readMsPerFace.toFixed(2)} ms; decodeFaceDetail alone, timed apart on other records, ${x.search.detailReads.decodeMsPerFace.toFixed(2)} ms; x 100 candidates = ${(100 * x.search.detailReads.readMsPerFace).toFixed(0)} ms | | | | |`,
      ...x.search.rows.map(
        (q) =>
          `| ${q.grid}x${q.grid}x1024 | ${q.stage2Ms.count} | ${ms(q.stage1Ms.median)} / ${ms(q.stage1Ms.p90)} | ${ms(q.stage2Ms.median)} / ${ms(q.stage2Ms.p90)} | ${ms(q.firstQuery.stage1Ms)} / ${ms(q.firstQuery.stage2Ms)} | ${(100 * q.stage1Top1).toFixed(0)}% / ${(100 * q.stage2Top1).toFixed(0)}% |`,
      ),
      '',
      ...x.search.rows.map((q) => `Stage 2 at ${q.grid}x${q.grid}: ${settledMedians(q.stage2Sequence)} ms.`),
    );
  }
  if (r.failures.length) lines.push('', `Did not fit: ${r.failures.map((f) => `${f.faces} faces, ${f.phase}: ${f.error}`).join('; ')}`);
  lines.push('', `Memory measured with ${r.runs[0]?.memory.method ?? '-'}. Timings contended: ${r.machine.cpuCount} cores shared with other jobs.`);
  return lines.join('\n');
}

/** The 1,000,000-face part: generated once into .cache/scale1m-profile and reused while it holds the whole gallery. */
export function runScale1mBench(opts: Pick<ScaleBenchOptions, 'queries' | 'log' | 'port'> = {}): Promise<ScaleBenchResult> {
  return runScaleBench({ ...opts, faces: 1_000_000, profileDir: SCALE_1M_PROFILE, minFaces: 1_000_000 });
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const num = (name: string) => {
    const v = argValue(args, name);
    return v === undefined ? undefined : Number(v);
  };
  const queries = num('queries');
  const port = num('port');
  const log = (line: string) => console.error(line);
  const t0 = Date.now();
  const result = args.includes('--scale1m')
    ? await runScale1mBench({ queries, port, log })
    : await runScaleBench({
        faces: (argValue(args, 'faces') ?? '100000').split(',').map(Number),
        queries,
        startups: num('startups'),
        batch: num('batch'),
        profileDir: argValue(args, 'profile'),
        oneWorker: args.includes('--one-worker'),
        port,
        log,
      });
  console.log(scaleBenchTable(result));
  console.log(`\n${JSON.stringify({ scale: result.scale }, null, 2)}`);
  console.log(`\n(whole run ${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  const json = argValue(args, 'json');
  if (json) {
    writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`wrote ${json}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}

/** The median of the first SETTLING_QUERIES timed queries and of the rest: the split between stage 2's two workers starts even and settles over a few queries. */
function settledMedians(ms: readonly number[]): string {
  if (ms.length <= SETTLING_QUERIES) return `fewer than ${SETTLING_QUERIES + 1} queries, no split`;
  return `median of the first ${SETTLING_QUERIES} ${median(ms.slice(0, SETTLING_QUERIES)).toFixed(1)}, of the other ${ms.length - SETTLING_QUERIES} ${median(ms.slice(SETTLING_QUERIES)).toFixed(1)}`;
}

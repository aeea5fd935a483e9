/**
 * Page side of the scale benchmark (imported into bench/scale.html by
 * bench/scale.ts). The gallery storage and the engine run in a dedicated
 * worker (bench/scaleWorker.ts): OPFS sync access handles exist only there,
 * and the app keeps them in its engine worker too. This page starts and
 * terminates that worker, times start-up from `new Worker` to the first
 * query being possible, and measures memory (measureUserAgentSpecificMemory
 * counts the page and its dedicated workers; the page is cross-origin
 * isolated) and navigator.storage.estimate().
 */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import type { DetailReads, EngineBytes, GalleryOptions, OpenResult, ScaleWorkerApi, SearchRow, StorageStats, WorkerInfo, WriteResult } from './scaleWorker.ts';

export type { DetailReads, EngineBytes, OpenResult, SearchRow, StorageStats, Summary, WorkerInfo, WriteResult } from './scaleWorker.ts';

export interface PageInfo {
  readonly crossOriginIsolated: boolean;
  readonly userAgent: string;
  readonly gcAvailable: boolean;
}

export interface MemorySample {
  /** performance.measureUserAgentSpecificMemory(): everything this page's agent cluster holds (page, dedicated workers: JS heaps, ArrayBuffers, DOM). */
  readonly uaSpecificBytes: number | null;
  /** The part of it attributed to dedicated workers (the bench worker). */
  readonly uaWorkerBytes: number | null;
  readonly uaSpecificMs: number | null;
  readonly uaSpecificError?: string;
  /** performance.memory.usedJSHeapSize of the page alone (non-standard). */
  readonly usedJsHeapBytes: number | null;
}

export interface StorageSample {
  readonly usage: number | null;
  readonly quota: number | null;
  readonly usageDetails: Readonly<Record<string, number>> | null;
}

export interface StartupResult extends OpenResult {
  /** new Worker until its modules answered (served one by one by the Vite dev server here; one chunk in a build). */
  readonly workerReadyMs: number;
  /** new Worker until load() returned: the first query is possible. */
  readonly startupMs: number;
}

let worker: Worker | null = null;
let remote: Comlink.Remote<ScaleWorkerApi> | null = null;

function api(): Comlink.Remote<ScaleWorkerApi> {
  if (!remote) throw new Error('no bench worker: call startWorker or startup first');
  return remote;
}

function progress(line: string): void {
  const f = (globalThis as { __scaleProgress?: (s: string) => unknown }).__scaleProgress;
  if (f) void f(line);
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g) {
    g();
    g();
  }
}

export function init(): PageInfo {
  installComlinkErrorHandler();
  return { crossOriginIsolated: globalThis.crossOriginIsolated === true, userAgent: navigator.userAgent, gcAvailable: typeof (globalThis as { gc?: unknown }).gc === 'function' };
}

/** Starts a fresh bench worker; resolves when its modules have loaded. */
export async function startWorker(): Promise<number> {
  await stopWorker();
  const t0 = performance.now();
  worker = new Worker(new URL('./scaleWorker.ts', import.meta.url), { type: 'module', name: 'scale-bench' });
  remote = Comlink.wrap<ScaleWorkerApi>(worker);
  await remote.ready();
  return performance.now() - t0;
}

/** Closes the worker's store (releasing its sync access handles), then terminates it. */
export async function stopWorker(): Promise<void> {
  if (remote) await remote.close().catch(() => undefined);
  remote?.[Comlink.releaseProxy]();
  worker?.terminate();
  remote = null;
  worker = null;
  gc();
}

export function workerInit(opts: { jpegsBase64: readonly string[] }): Promise<WorkerInfo> {
  return api().init(opts);
}

export function galleryCount(opts: GalleryOptions): Promise<number> {
  return api().count(opts);
}

export function writeGallery(opts: GalleryOptions & { from: number; to: number; identities: number; batch: number }): Promise<WriteResult> {
  return api().write(opts, Comlink.proxy(progress));
}

/** The app's start-up: a fresh worker, then new RecordGalleryStorage + new GalleryService + load() in it. */
export async function startup(opts: GalleryOptions & { identities: number }): Promise<StartupResult> {
  await stopWorker();
  const t0 = performance.now();
  worker = new Worker(new URL('./scaleWorker.ts', import.meta.url), { type: 'module', name: 'scale-bench' });
  remote = Comlink.wrap<ScaleWorkerApi>(worker);
  await remote.ready();
  const t1 = performance.now();
  const r = await remote.open(opts);
  const t2 = performance.now();
  return { ...r, workerReadyMs: t1 - t0, startupMs: t2 - t0 };
}

export function storageStats(opts: GalleryOptions): Promise<StorageStats> {
  return api().storageStats(opts);
}

export function engineBytes(opts: GalleryOptions): Promise<EngineBytes> {
  return api().engineBytes(opts);
}

export function searchRow(opts: { grid: number; k: number; queries: number; warmup: number; firstQuery: number }): Promise<SearchRow> {
  return api().search(opts);
}

export function detailReads(opts: GalleryOptions & { faces: number; seed: number }): Promise<DetailReads> {
  return api().detailReads(opts);
}

interface UaMemoryBreakdown {
  readonly bytes: number;
  readonly attribution: readonly { readonly scope?: string }[];
}

export async function measureMemory(timeoutMs = 60_000): Promise<MemorySample> {
  gc();
  if (remote) await remote.gc();
  const perf = performance as Performance & {
    measureUserAgentSpecificMemory?: () => Promise<{ bytes: number; breakdown?: readonly UaMemoryBreakdown[] }>;
    memory?: { usedJSHeapSize: number };
  };
  let uaSpecificBytes: number | null = null;
  let uaWorkerBytes: number | null = null;
  let uaSpecificMs: number | null = null;
  let uaSpecificError: string | undefined;
  if (typeof perf.measureUserAgentSpecificMemory !== 'function') {
    uaSpecificError = 'performance.measureUserAgentSpecificMemory is not available here';
  } else {
    const t = performance.now();
    try {
      const r = await Promise.race([perf.measureUserAgentSpecificMemory(), new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs))]);
      uaSpecificBytes = r.bytes;
      uaWorkerBytes = (r.breakdown ?? []).filter((b) => b.attribution.some((a) => a.scope === 'DedicatedWorkerGlobalScope')).reduce((s, b) => s + b.bytes, 0);
      uaSpecificMs = performance.now() - t;
    } catch (e) {
      uaSpecificError = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
  }
  return { uaSpecificBytes, uaWorkerBytes, uaSpecificMs, ...(uaSpecificError ? { uaSpecificError } : {}), usedJsHeapBytes: perf.memory?.usedJSHeapSize ?? null };
}

export async function storageEstimate(): Promise<StorageSample> {
  const e = (await navigator.storage.estimate()) as StorageEstimate & { usageDetails?: Record<string, number> };
  return { usage: e.usage ?? null, quota: e.quota ?? null, usageDetails: e.usageDetails ?? null };
}

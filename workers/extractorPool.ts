/**
 * The real extractor port: a pool of extraction workers (one per core, at
 * most 4), each loading the models itself, retried and replaced by
 * src/app/workerPool.ts when one crashes or hangs.
 */
import * as Comlink from 'comlink';
import type { ModelsStatus } from '../src/app/engineApi.ts';
import { withRetryNotice, type ExtractOutcome, type LibraryExtractOutcome } from '../src/app/extractTypes.ts';
import type { ExtractorPort, ExtractorStartOptions, StartedExtractor } from '../src/app/ports.ts';
import { WorkerPool, type PoolWorker } from '../src/app/workerPool.ts';
import { AppError } from '../src/core/errors.ts';
import type { ExtractWorkerApi } from './extract.worker.ts';
import { ExtractFaultSchedule, refuseTestHooks } from './testHooks.ts';

type ExtractRemote = Comlink.Remote<ExtractWorkerApi>;

/** Per image; a slower one counts as hung and its worker is replaced. */
const JOB_TIMEOUT_MS = 60_000;

function spawnExtractWorker(slot: number, init: (api: ExtractRemote) => Promise<unknown>): Promise<PoolWorker<ExtractRemote>> {
  const worker = new Worker(new URL('./extract.worker.ts', import.meta.url), { type: 'module', name: `extract-${slot}` });
  const api = Comlink.wrap<ExtractWorkerApi>(worker);
  const died = new Promise<string>((resolve) => {
    worker.addEventListener('error', (e) => {
      // Handled here: the pool replaces the worker; unhandled, it would be re-thrown in this (the engine) worker.
      e.preventDefault();
      resolve(e.message || 'worker error');
    });
  });
  return init(api).then(() => ({ api, died, terminate: () => worker.terminate() }));
}

export async function startExtractorPool(opts: ExtractorStartOptions): Promise<StartedExtractor> {
  let status: ModelsStatus | undefined;
  const pool = new WorkerPool<ExtractRemote>({
    size: Math.max(1, Math.min(opts.workers ?? navigator.hardwareConcurrency, 4)),
    jobTimeoutMs: JOB_TIMEOUT_MS,
    spawn: (slot) =>
      spawnExtractWorker(slot, async (api) => {
        const s = await api.init(opts.ortBackend, opts.recognizerId);
        status ??= s;
      }),
  });
  try {
    await pool.start();
  } catch (e) {
    pool.terminate();
    throw e;
  }
  if (!status) throw new AppError('internal', 'no extraction worker reported its models', 'Reload the page.');
  const recognizerVersion = await pool.withWorker((api) => api.recognizerVersion());
  const faults = opts.testHooks ? new ExtractFaultSchedule<ExtractRemote>((ms) => pool.setJobTimeout(ms)) : null;
  const faulty = (path: string, job: (api: ExtractRemote) => Promise<ExtractOutcome>) => (faults ? faults.wrap(path, job) : job);
  const extractor: ExtractorPort = {
    concurrency: pool.size,
    get restarts() {
      return pool.restarts;
    },
    extract: async (path, bytes, o) => {
      const { value, retriedBecause } = await pool.runTold(
        path,
        faulty(path, (api) => api.extract(path, bytes, o)),
      );
      // A query says why it took longer; an import's photo that a fresh worker did costs nothing and is not listed.
      return o.purpose === 'query' ? withRetryNotice(value, retriedBecause) : value;
    },
    extractLibrary: (path, bytes, opts) => pool.run<LibraryExtractOutcome>(path, (api) => api.extractLibrary(path, bytes, opts)),
    embedAligned: (aligned, landmarks68, ood, seed) => pool.withWorker((api) => api.embedAligned(aligned, landmarks68, ood, seed)),
    stop: () => pool.terminate(),
  };
  return { extractor, status, recognizerVersion, testHooks: faults ?? refuseTestHooks };
}

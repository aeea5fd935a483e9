/** Starts the workers and wraps them with comlink; the UI uses only these proxies. */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../app/comlinkErrors.ts';
import type { ExtractWorkerApi } from '../../workers/extract.worker.ts';

installComlinkErrorHandler();

export function startExtractWorker(name: string): { api: Comlink.Remote<ExtractWorkerApi>; worker: Worker } {
  const worker = new Worker(new URL('../../workers/extract.worker.ts', import.meta.url), { type: 'module', name });
  return { api: Comlink.wrap<ExtractWorkerApi>(worker), worker };
}

/** Starts the engine worker and wraps it with comlink; the UI uses only this proxy. */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../app/comlinkErrors.ts';
import type { EngineApi } from '../app/engineApi.ts';

installComlinkErrorHandler();

export type EngineProxy = Comlink.Remote<EngineApi>;

export function startEngineWorker(): { engine: EngineProxy; worker: Worker } {
  const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'engine' });
  return { engine: Comlink.wrap<EngineApi>(worker), worker };
}

export { Comlink };

/**
 * Starts stage 2's helper worker from the engine worker, where there is a
 * second core for it. The query and each chunk of candidates' records travel
 * as transferred buffers, which come back with the answers. A worker that dies never answers a comlink call, so its error
 * event fails every pending call; the engine then drops it and says so.
 */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import type { EncodedStage2Chunk, EncodedStage2Query, Stage2Helper } from '../src/engine/stage2Helper.ts';

/** `workerUrl`: another script in its place (tests of the failure path); the app's is bundled from the literal below. */
export function startStage2Helper(workerUrl?: URL): Stage2Helper | null {
  if ((navigator.hardwareConcurrency || 1) < 2) return null;
  installComlinkErrorHandler();
  const worker = workerUrl ? new Worker(workerUrl, { type: 'module', name: 'stage2' }) : new Worker(new URL('./stage2.worker.ts', import.meta.url), { type: 'module', name: 'stage2' });
  const remote = Comlink.wrap<Stage2Helper>(worker);
  let broken: Error | null = null;
  const pending = new Set<(e: Error) => void>();
  const fail = (why: string) => {
    broken ??= new Error(`the stage-2 worker stopped: ${why}`);
    for (const reject of pending) reject(broken);
    pending.clear();
    worker.terminate();
  };
  worker.addEventListener('error', (ev) => fail(ev.message || 'its script could not load'));
  worker.addEventListener('messageerror', () => fail('a message could not be read'));
  /** A call on the worker whose promise also fails when the worker dies. */
  const call = <T>(send: () => Promise<T>): Promise<T> =>
    broken
      ? Promise.reject(broken)
      : new Promise<T>((resolve, reject) => {
          pending.add(reject);
          send()
            .then(resolve, reject)
            .finally(() => pending.delete(reject));
        });
  return {
    // Transferred (the caller's arrays are detached here): the engine sends them in a buffer the helper hands back.
    beginQuery: (query: EncodedStage2Query) => call(() => remote.beginQuery(Comlink.transfer(query, [...new Set([query.query.buffer, query.queryAverage.buffer])]))),
    scoreEncoded: (chunk: EncodedStage2Chunk) => call(() => remote.scoreEncoded(Comlink.transfer(chunk, [chunk.records.buffer]))),
  };
}

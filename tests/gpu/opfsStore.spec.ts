/**
 * The face record store on the real Origin Private File System, in
 * Chromium: a dedicated worker (tests/gpu/opfsStoreWorker.ts) appends 5,000
 * faces, checks the lock a second tab would meet, reopens (replaying the log)
 * and reads everything back, then deletes, relabels and compacts. Prints the append and replay rates; asserts only
 * correctness.
 */
import { expect, test } from '@playwright/test';
import type { OpfsStoreRequest, OpfsStoreResult } from './opfsStoreWorker.ts';

test('FaceRecordStore on OPFS: append, lock, reopen and read back 5,000 faces in a dedicated worker', async ({ page }) => {
  await page.goto('/tests/gpu/harness.html');
  const req: OpfsStoreRequest = { faces: 5000, batch: 100, rowBytes: 512, detailBytes: 2048, thumbnailBytes: 1024 };
  const inWorker = () =>
    page.evaluate(
      (request) =>
        new Promise<OpfsStoreResult>((resolve, reject) => {
          const worker = new Worker('/tests/gpu/opfsStoreWorker.ts', { type: 'module' });
          worker.onmessage = (ev: MessageEvent<OpfsStoreResult>) => {
            worker.terminate();
            resolve(ev.data);
          };
          worker.onerror = (ev) => reject(new Error(`the worker failed to load or threw: ${ev.message}`));
          worker.postMessage(request);
        }),
      req,
    );
  let r: OpfsStoreResult;
  try {
    r = await inWorker();
  } catch (e) {
    // On a fresh Vite cache the worker's first import of crc-32 makes Vite optimize it and reload the page, killing the run: once more then.
    if (!String(e).includes('Execution context was destroyed')) throw e;
    await page.waitForLoadState('load');
    r = await inWorker();
  }
  expect(r.error).toBeUndefined();
  expect(r.ok).toBe(true);
  expect(r.countAfterReopen).toBe(req.faces);
  expect(r.mismatches).toBe(0);
  expect(r.secondOpen?.code).toBe('storage-failed');
  expect(r.secondOpen?.message).toMatch(/open in another tab/);
  expect(r.secondOpen?.hint).toMatch(/close it/);
  expect(r.afterDelete).toEqual({ count: req.faces - 2, relabelled: 'relabelled', recovery: 'end' });
  expect(r.afterCompact).toEqual({ count: req.faces - 2, deadFaces: 0, lastDetailSame: true, relabelled: 'relabelled' });
  expect(r.names).toEqual(['faces.1.dat', 'journal.json', 'log.1.dat', 'stage1.1.dat']);
  expect(r.stats?.stage1Bytes).toBe(req.faces * req.rowBytes);
  expect(r.stats?.facesBytes).toBe(req.faces * (req.detailBytes + req.thumbnailBytes));
  const rate = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${ms.toFixed(0)} ms (${((req.faces / ms) * 1000).toFixed(0)} faces/s)`);
  console.log(
    `[opfs] ${req.faces} faces, batches of ${req.batch}, rows ${req.rowBytes} B, records ${req.detailBytes + req.thumbnailBytes} B: ` +
      `append ${rate(r.appendMs)}; replay (open) ${rate(r.replayMs)}; stage1Rows ${r.stage1RowsMs?.toFixed(1)} ms; compact ${r.compactMs?.toFixed(0)} ms; log ${r.stats?.logBytes} B`,
  );
});

/**
 * Micro-benchmark, printed rather than asserted on time: how long open()
 * takes to replay the log of a large gallery, with in-memory files (so it
 * measures the store's own decoding, CRC and indexing, not a disk).
 * STORAGE_BENCH_FACES=1000000 npx vitest run tests/unit/storage/replayBench.test.ts
 * for the million-face figure; the default keeps the unit suite quick.
 */
import { expect, it } from 'vitest';
import { FaceRecordStore, type NewFaceRecord } from '../../../src/storage/faceRecordStore.ts';
import { MemoryDirectory } from '../../support/memoryFiles.ts';

const FACES = Number(process.env.STORAGE_BENCH_FACES ?? 50_000);
const ROW_BYTES = 64;
const BATCH = 1000;

it(`bench: replaying the log of ${FACES} faces`, async () => {
  const dir = new MemoryDirectory({ keepFlushed: false });
  const store = await FaceRecordStore.open(dir, { stage1RowBytes: ROW_BYTES });
  const row = new Uint8Array(ROW_BYTES).fill(7);
  const detail = new Uint8Array(16).fill(1);
  const thumbnail = new Uint8Array(8).fill(2);
  const hashOf = (i: number) => i.toString(16).padStart(64, '0');
  const t0 = performance.now();
  for (let first = 0; first < FACES; first += BATCH) {
    const batch: NewFaceRecord[] = [];
    for (let i = first; i < Math.min(FACES, first + BATCH); i++) {
      batch.push({
        hash: hashOf(i),
        label: `person ${i % 5000}`,
        fileName: `photos/person ${i % 5000}/IMG_${i}.jpg`,
        addedAt: 1_700_000_000_000 + i,
        stage1: row,
        detail,
        thumbnail,
        thumbnailType: 'image/jpeg',
      });
    }
    store.append(batch);
  }
  const appendMs = performance.now() - t0;
  // A delete of every tenth face, so replay also walks a delete entry.
  store.delete(Array.from({ length: Math.floor(FACES / 10) }, (_, i) => hashOf(10 * i)));
  const stats = store.stats();
  store.close();

  const t1 = performance.now();
  const again = await FaceRecordStore.open(dir, { stage1RowBytes: ROW_BYTES });
  const replayMs = performance.now() - t1;
  const t2 = performance.now();
  const rows = again.stage1Rows();
  const rowsMs = performance.now() - t2;
  let metas = 0;
  const t3 = performance.now();
  again.forEachMeta(() => metas++);
  const metaMs = performance.now() - t3;
  expect(again.count).toBe(FACES - Math.floor(FACES / 10));
  expect(rows.length).toBe(again.count * ROW_BYTES);
  expect(metas).toBe(again.count);
  const mb = (n: number) => (n / 2 ** 20).toFixed(1);
  console.log(
    `[bench] ${FACES} faces: append ${appendMs.toFixed(0)} ms (batches of ${BATCH}); replay (open) ${replayMs.toFixed(0)} ms = ${((replayMs / FACES) * 1e3).toFixed(2)} µs/face; ` +
      `stage1Rows ${rowsMs.toFixed(0)} ms; forEachMeta ${metaMs.toFixed(0)} ms; log ${mb(stats.logBytes)} MiB, stage1 ${mb(stats.stage1Bytes)} MiB; in-memory index ${mb(again.stats().indexBytes)} MiB`,
  );
  again.close();
});

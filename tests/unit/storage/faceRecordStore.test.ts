import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { FACES_FILE, FaceRecordStore, JOURNAL_FILE, LOG_FILE, STAGE1_FILE } from '../../../src/storage/faceRecordStore.ts';
import { MemoryDirectory } from '../../support/memoryFiles.ts';
import { Model, ROW_BYTES, holdsExactly, randomOps, randomRecord, runOp, storedView, type Op } from './fixtures.ts';

const open = (dir: MemoryDirectory, rowBytes = ROW_BYTES) => FaceRecordStore.open(dir, { stage1RowBytes: rowBytes, name: 'the test gallery' });

function appError(run: () => unknown): AppError {
  try {
    run();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

async function appErrorAsync(run: () => Promise<unknown>): Promise<AppError> {
  try {
    await run();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('FaceRecordStore', () => {
  it('round-trips faces: meta, stage-1 rows, details and thumbnails, in the order added', async () => {
    const rand = seededRandom(1);
    const dir = new MemoryDirectory();
    const store = await open(dir);
    const model = new Model();
    const batch = Array.from({ length: 20 }, (_, i) => randomRecord(rand, i));
    store.append(batch.slice(0, 5));
    store.append(batch.slice(5));
    model.apply({ kind: 'append', records: batch });
    expect(store.count).toBe(20);
    expect(holdsExactly(store, model)).toBe(true);
    expect(store.has(batch[3].hash)).toBe(true);
    expect(store.has('0'.repeat(64))).toBe(false);
    expect(store.has('not a hash')).toBe(false);
    expect(store.meta(batch[7].hash)).toEqual({ hash: batch[7].hash, label: batch[7].label, fileName: batch[7].fileName, addedAt: batch[7].addedAt });
    expect(store.meta('f'.repeat(64))).toBeUndefined();
    expect(store.fileName(batch[7].hash)).toBe(batch[7].fileName);
    expect(store.fileName('f'.repeat(64))).toBeUndefined();
    store.delete([batch[7].hash]);
    expect(store.fileName(batch[7].hash)).toBeUndefined();
    expect(store.listing('m|').keys).not.toContain(`m|${batch[7].hash}`);
    model.apply({ kind: 'delete', hashes: [batch[7].hash] });
    expect(appError(() => store.readDetail('f'.repeat(64))).code).toBe('unknown-id');
    expect(store.recovery.stoppedAt).toBe('end');
  });

  it('reads the live stage-1 rows in chunks of whole rows, packed past deleted faces, equal to the rows read one by one', async () => {
    // Rows of 300 kB: a 4 MiB chunk holds 13 of them, so 40 slots span four chunks.
    const rowBytes = 300_000;
    const rand = seededRandom(11);
    const store = await open(new MemoryDirectory(), rowBytes);
    const records = Array.from({ length: 40 }, (_, i) => ({
      ...randomRecord(rand, i),
      stage1: Uint8Array.from({ length: rowBytes }, () => Math.floor(rand() * 256)),
    }));
    store.append(records.slice(0, 25));
    store.append(records.slice(25));
    store.delete([0, 12, 13, 14, 25, 26, 39].map((i) => records[i].hash));
    const expected = new Uint8Array(33 * rowBytes);
    store.forEachMeta((m, position) => expected.set(store.readStage1(m.hash), position * rowBytes));
    const got = new Uint8Array(33 * rowBytes);
    let at = 0;
    let chunks = 0;
    for (const chunk of store.stage1RowChunks()) {
      expect(chunk.length % rowBytes).toBe(0);
      got.set(chunk, at);
      at += chunk.length;
      chunks++;
    }
    // Slots 0-12, 13-25, 26-38 and 39; the last holds only a deleted face and yields nothing.
    expect(chunks).toBe(3);
    expect(at).toBe(33 * rowBytes);
    expect(Buffer.compare(got, expected)).toBe(0);
    expect(Buffer.compare(store.stage1Rows(), expected)).toBe(0);
  });

  it('replays deletes and relabels, and a reopened store equals the one before', async () => {
    const rand = seededRandom(2);
    const dir = new MemoryDirectory();
    const store = await open(dir);
    const model = new Model();
    for (const op of randomOps(rand, 40)) {
      await runOp(store, op);
      model.apply(op);
    }
    expect(holdsExactly(store, model)).toBe(true);
    const before = storedView(store);
    const stats = store.stats();
    store.close();
    const again = await open(dir);
    expect(storedView(again)).toEqual(before);
    expect(holdsExactly(again, model)).toBe(true);
    expect(again.recovery).toEqual({ stoppedAt: 'end', droppedLogBytes: 0, droppedStage1Bytes: 0, droppedFacesBytes: 0 });
    expect(again.stats()).toEqual(stats);
  });

  it('deletes and relabels only faces that are present; deleted bytes count as dead until cleared', async () => {
    const rand = seededRandom(3);
    const dir = new MemoryDirectory();
    const store = await open(dir);
    const recs = Array.from({ length: 4 }, (_, i) => randomRecord(rand, i));
    store.append(recs);
    const logBefore = store.stats().logBytes;
    store.delete(['a'.repeat(64), 'nonsense']);
    store.relabel(['b'.repeat(64)], 'x');
    expect(store.stats().logBytes).toBe(logBefore);
    store.delete([recs[1].hash, recs[1].hash]);
    store.relabel([recs[0].hash, recs[1].hash], 'zoë');
    expect(store.count).toBe(3);
    expect(store.has(recs[1].hash)).toBe(false);
    expect(store.meta(recs[0].hash)?.label).toBe('zoë');
    const stats = store.stats();
    expect(stats.liveFaces).toBe(3);
    expect(stats.deadFaces).toBe(1);
    expect(stats.deadBytes).toBe(ROW_BYTES + recs[1].detail.length + recs[1].thumbnail.length);
    expect(stats.stage1Bytes).toBe(4 * ROW_BYTES);
    // A deleted face may come back: a new slot, the new bytes.
    const back = randomRecord(rand, 9, recs[1].hash);
    store.append([back]);
    expect(store.readDetail(back.hash)).toEqual(back.detail);
    expect(storedView(store).metas.map((m) => m.hash)).toEqual([recs[0].hash, recs[2].hash, recs[3].hash, back.hash]);
    store.clear();
    expect(store.count).toBe(0);
    expect(store.stats()).toMatchObject({ stage1Bytes: 0, facesBytes: 0, logBytes: 16, deadFaces: 0 });
    store.append([recs[2]]);
    store.close();
    const again = await open(dir);
    expect(storedView(again).metas.map((m) => m.hash)).toEqual([recs[2].hash]);
  });

  it('refuses malformed records and duplicates without writing anything', async () => {
    const rand = seededRandom(4);
    const dir = new MemoryDirectory();
    const store = await open(dir);
    const r = randomRecord(rand, 0);
    store.append([r]);
    const before = store.stats();
    expect(appError(() => store.append([randomRecord(rand, 1), r])).code).toBe('duplicate-image');
    const fresh = randomRecord(rand, 2);
    expect(appError(() => store.append([fresh, fresh])).code).toBe('duplicate-image');
    expect(appError(() => store.append([{ ...randomRecord(rand, 3), hash: 'ABC' }])).code).toBe('invalid-argument');
    expect(appError(() => store.append([{ ...randomRecord(rand, 3), stage1: new Uint8Array(ROW_BYTES + 1) }])).code).toBe('invalid-argument');
    expect(appError(() => store.append([{ ...randomRecord(rand, 3), label: 'x'.repeat(70_000) }])).code).toBe('invalid-argument');
    expect(store.stats()).toEqual(before);
    expect(store.count).toBe(1);
  });

  it('refuses to open a gallery written with another row size, but an empty one takes the new size', async () => {
    const rand = seededRandom(5);
    const dir = new MemoryDirectory();
    const empty = await open(dir, 8);
    empty.close();
    const store = await open(dir, ROW_BYTES);
    store.append([randomRecord(rand, 0)]);
    store.close();
    const e = await appErrorAsync(() => open(dir, ROW_BYTES * 2));
    expect(e.code).toBe('storage-failed');
    expect(e.message).toMatch(/rows of 24 bytes.*needs 48/);
    expect(e.hint).toMatch(/clear it/);
    // The failed open let go of its files: the right size still opens.
    expect((await open(dir, ROW_BYTES)).count).toBe(1);
  });

  it('keeps an import journal; a torn journal reads as none', async () => {
    const dir = new MemoryDirectory();
    const store = await open(dir);
    expect(store.readJournal()).toBeUndefined();
    const j = { modelKey: 'm@1', total: 1200, done: 17, startedAt: 1_700_000_000_000 };
    store.writeJournal(j);
    store.writeJournal({ ...j, done: 400 });
    expect(store.readJournal()).toEqual({ ...j, done: 400 });
    store.close();
    const again = await open(dir);
    expect(again.readJournal()).toEqual({ ...j, done: 400 });
    again.close();
    dir.corrupt(JOURNAL_FILE, 20);
    const torn = await open(dir);
    expect(torn.readJournal()).toBeUndefined();
    torn.writeJournal(j);
    torn.clearJournal();
    expect(torn.readJournal()).toBeUndefined();
    expect(torn.stats().journalBytes).toBe(0);
  });

  it('a write refused for quota becomes a storage-quota AppError and leaves the store as before the batch', async () => {
    const rand = seededRandom(6);
    const dir = new MemoryDirectory({ quotaBytes: 6_000 });
    const store = await open(dir);
    const model = new Model();
    let failure: AppError | undefined;
    for (let i = 0; i < 100 && !failure; i++) {
      const batch = Array.from({ length: 3 }, (_, k) => randomRecord(rand, 3 * i + k));
      const before = store.stats();
      try {
        store.append(batch);
        model.apply({ kind: 'append', records: batch });
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        failure = e;
        expect(store.stats()).toEqual(before);
      }
    }
    expect(failure?.code).toBe('storage-quota');
    expect(failure?.message).toMatch(/quota is full while saving 3 faces \(.+\.jpg to .+\.jpg\)/);
    expect(failure?.hint).toMatch(/Free space/);
    expect(holdsExactly(store, model)).toBe(true);
    // With room again the same store goes on.
    dir.quotaBytes = Infinity;
    const more = [randomRecord(rand, 1000)];
    store.append(more);
    model.apply({ kind: 'append', records: more });
    store.close();
    const again = await open(dir);
    expect(holdsExactly(again, model)).toBe(true);
    expect(again.recovery.stoppedAt).toBe('end');
  });

  it('replay stops at damage in the middle of the log: later entries are dropped and the files cut back', async () => {
    const rand = seededRandom(7);
    const dir = new MemoryDirectory();
    const store = await open(dir);
    const batches = [0, 1, 2].map((b) => Array.from({ length: 4 }, (_, i) => randomRecord(rand, 4 * b + i)));
    const logEnds: number[] = [];
    for (const b of batches) {
      store.append(b);
      logEnds.push(store.stats().logBytes);
    }
    store.close();
    // A byte inside the second batch's log bytes, past its first entry.
    dir.corrupt(LOG_FILE, Math.floor((logEnds[0] + logEnds[1]) / 2) + 10);
    const again = await open(dir);
    expect(again.recovery.stoppedAt).toBe('bad-checksum');
    expect(again.recovery.droppedLogBytes).toBeGreaterThan(0);
    expect(again.recovery.droppedStage1Bytes).toBeGreaterThan(0);
    const model = new Model();
    model.apply({ kind: 'append', records: batches[0] });
    const kept = again.count - 4;
    expect(kept).toBeGreaterThanOrEqual(0);
    expect(kept).toBeLessThan(4);
    model.apply({ kind: 'append', records: batches[1] }, kept);
    expect(holdsExactly(again, model)).toBe(true);
    expect(dir.fileBytes(STAGE1_FILE)?.length).toBe(again.count * ROW_BYTES);
    const later = [randomRecord(rand, 100)];
    again.append(later);
    model.apply({ kind: 'append', records: later });
    again.close();
    const third = await open(dir);
    expect(third.recovery.stoppedAt).toBe('end');
    expect(holdsExactly(third, model)).toBe(true);
    expect(dir.fileBytes(FACES_FILE)?.length).toBe(third.stats().facesBytes);
  });

  it('compaction drops the bytes of deleted faces, moves to the next generation of files and keeps every live face', async () => {
    const rand = seededRandom(8);
    const dir = new MemoryDirectory();
    const store = await open(dir);
    const model = new Model();
    const recs = Array.from({ length: 30 }, (_, i) => randomRecord(rand, i));
    const ops: Op[] = [
      { kind: 'append', records: recs.slice(0, 20) },
      { kind: 'append', records: recs.slice(20) },
      { kind: 'delete', hashes: recs.filter((_, i) => i % 3 === 0).map((r) => r.hash) },
      { kind: 'relabel', hashes: [recs[1].hash, recs[2].hash], label: 'renamed' },
    ];
    for (const op of ops) {
      await runOp(store, op);
      model.apply(op);
    }
    const before = store.stats();
    expect(before.deadFaces).toBe(10);
    await store.compact();
    expect(holdsExactly(store, model)).toBe(true);
    const after = store.stats();
    expect(after).toMatchObject({ liveFaces: 20, deadFaces: 0, deadBytes: 0, stage1Bytes: 20 * ROW_BYTES, facesBytes: before.facesBytes - before.deadBytes + 10 * ROW_BYTES });
    expect((await dir.names()).sort()).toEqual(['faces.1.dat', JOURNAL_FILE, 'log.1.dat', 'stage1.1.dat']);
    const more = [randomRecord(rand, 100)];
    store.append(more);
    model.apply({ kind: 'append', records: more });
    await store.compact();
    store.close();
    expect((await dir.names()).sort()).toEqual(['faces.2.dat', JOURNAL_FILE, 'log.2.dat', 'stage1.2.dat']);
    const again = await open(dir);
    expect(again.recovery.stoppedAt).toBe('end');
    expect(holdsExactly(again, model)).toBe(true);
  });

  it('a compaction refused for quota leaves the store on its old files', async () => {
    const rand = seededRandom(9);
    const dir = new MemoryDirectory();
    const store = await open(dir);
    const recs = Array.from({ length: 10 }, (_, i) => randomRecord(rand, i));
    store.append(recs);
    store.delete([recs[0].hash]);
    const model = new Model();
    model.apply({ kind: 'append', records: recs });
    model.apply({ kind: 'delete', hashes: [recs[0].hash] });
    dir.quotaBytes = dir.totalBytes() + 100;
    const e = await store.compact().then(
      () => undefined,
      (x: unknown) => x,
    );
    expect(e).toBeInstanceOf(AppError);
    expect((e as AppError).code).toBe('storage-quota');
    expect((await dir.names()).sort()).toEqual([FACES_FILE, JOURNAL_FILE, LOG_FILE, STAGE1_FILE]);
    expect(holdsExactly(store, model)).toBe(true);
    dir.quotaBytes = Infinity;
    const more = [randomRecord(rand, 50)];
    store.append(more);
    model.apply({ kind: 'append', records: more });
    store.close();
    expect(holdsExactly(await open(dir), model)).toBe(true);
  });

  it('a store is unusable after close', async () => {
    const store = await open(new MemoryDirectory());
    store.close();
    expect(appError(() => store.count + Number(store.has('a'.repeat(64)))).code).toBe('storage-failed');
  });
});

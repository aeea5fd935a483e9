/**
 * The worker killed at random bytes of a sequence of batched appends,
 * deletes, relabels and compactions (tests/support/memoryFiles.ts has the crash model):
 * the next open must succeed and hold exactly the faces of a prefix of the
 * operations' atomic steps (every face fully present with its bytes, or
 * absent), at least the operations that had returned, and take new faces.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { FaceRecordStore } from '../../../src/storage/faceRecordStore.ts';
import { MemoryDirectory, type SurvivorModel } from '../../support/memoryFiles.ts';
import { Model, ROW_BYTES, holdsExactly, randomOps, randomRecord, runOp, type Op } from './fixtures.ts';

const open = (dir: MemoryDirectory) => FaceRecordStore.open(dir, { stage1RowBytes: ROW_BYTES });

/** Runs the operations until the kill; returns how many returned. */
async function runUntilKilled(dir: MemoryDirectory, ops: readonly Op[]): Promise<number> {
  let done = 0;
  try {
    const store = await open(dir);
    for (const op of ops) {
      await runOp(store, op);
      done++;
    }
    store.close();
  } catch (e) {
    // The kill surfaces as the store's storage-failed AppError (a write), or as the bare kill error from open().
    if (e instanceof AppError) expect(e.code).toBe('storage-failed');
    else expect(String(e)).toMatch(/test kill point/);
    expect(dir.dead).toBe(true);
  }
  return done;
}

/** The step counts at which the store may legally stand: every step of the operations that returned, plus any prefix of the one cut short. */
function allowedModels(ops: readonly Op[], done: number): Model[] {
  const base = new Model();
  for (const op of ops.slice(0, done)) base.apply(op);
  const out = [base];
  const inFlight = ops[done];
  if (inFlight) {
    for (let s = 1; s <= Model.steps(inFlight); s++) {
      const m = base.clone();
      m.apply(inFlight, s);
      out.push(m);
    }
  }
  return out;
}

describe('FaceRecordStore crash safety', () => {
  // A killed worker cannot undo its half-done write; the store says so on console.warn, which would bury the test output.
  beforeEach(() => {
    vi.spyOn(console, 'warn').mockImplementation(() => undefined);
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  for (const survivors of ['written', 'flushed'] as SurvivorModel[]) {
    it(`recovers from the worker killed at random points (${survivors} bytes survive)`, async () => {
      let partialBatches = 0;
      let recovered = 0;
      let duringCompaction = 0;
      for (let trial = 0; trial < 250; trial++) {
        const rand = seededRandom(10_000 + trial);
        const ops = randomOps(rand, 12);
        const dry = new MemoryDirectory();
        await runUntilKilled(dry, ops);
        const killAt = Math.floor(rand() * (dry.unitsUsed + 1));
        const dir = new MemoryDirectory({ killAfter: killAt });
        const done = await runUntilKilled(dir, ops);
        if (ops[done]?.kind === 'compact') duringCompaction++;
        const after = dir.survivors(survivors);
        const store = await open(after);
        const models = allowedModels(ops, done);
        const match = models.findIndex((m) => holdsExactly(store, m));
        expect(match, `trial ${trial}: kill after ${killAt} units, ${done} operations returned; the store matches no allowed state`).toBeGreaterThanOrEqual(0);
        if (match > 0 && match < models.length - 1) partialBatches++;
        if (store.recovery.droppedLogBytes + store.recovery.droppedFacesBytes + store.recovery.droppedStage1Bytes > 0) recovered++;
        // Appending after recovery works, and survives another reopen.
        const model = models[match];
        const more = [randomRecord(rand, 5000), randomRecord(rand, 5001)].filter((r) => !model.faces.has(r.hash));
        store.append(more);
        model.apply({ kind: 'append', records: more });
        store.close();
        const again = await open(after);
        expect(again.recovery.stoppedAt).toBe('end');
        expect(holdsExactly(again, model)).toBe(true);
        again.close();
      }
      // The kill points must reach the interesting places, not only the gaps between operations.
      expect(recovered).toBeGreaterThan(20);
      expect(duringCompaction).toBeGreaterThan(5);
      if (survivors === 'written') expect(partialBatches).toBeGreaterThan(0);
    });
  }

  it('recovers from a kill at every point of a compaction, its clean-up included', async () => {
    const rand = seededRandom(77);
    const recs = Array.from({ length: 8 }, (_, i) => randomRecord(rand, i));
    const ops: Op[] = [{ kind: 'append', records: recs }, { kind: 'delete', hashes: [recs[2].hash, recs[5].hash] }, { kind: 'compact' }, { kind: 'append', records: [randomRecord(rand, 9)] }];
    const unitsAfter = async (n: number) => {
      const dry = new MemoryDirectory();
      await runUntilKilled(dry, ops.slice(0, n));
      return dry.unitsUsed;
    };
    // runUntilKilled closes the store, which costs nothing: the units of the first n operations.
    const start = await unitsAfter(2);
    const end = await unitsAfter(3);
    const points = new Set<number>();
    for (let k = start; k <= end; k += Math.max(1, Math.floor((end - start) / 200))) points.add(k);
    // The commit entry, the switch and the removal of the old files are the last few dozen units.
    for (let k = Math.max(start, end - 60); k <= end; k++) points.add(k);
    let commitSeen = 0;
    for (const killAt of points) {
      for (const survivors of ['written', 'flushed'] as SurvivorModel[]) {
        const dir = new MemoryDirectory({ killAfter: killAt });
        const done = await runUntilKilled(dir, ops);
        const store = await open(dir.survivors(survivors));
        const match = allowedModels(ops, done).findIndex((m) => holdsExactly(store, m));
        expect(match, `kill after ${killAt} units (compaction spans ${start}-${end}), ${survivors} bytes survive`).toBeGreaterThanOrEqual(0);
        const names = await dir.survivors(survivors).names();
        store.close();
        // Whatever generation survived, the next open leaves only one generation's files.
        const reopened = dir.survivors(survivors);
        (await open(reopened)).close();
        const left = (await reopened.names()).filter((n) => n !== 'journal.json');
        expect(left.length, `files after reopen: ${left.join(', ')} (before: ${names.join(', ')})`).toBe(3);
        // Once the old log ends in a whole compact entry (length 5, kind 4), the compaction is committed: the reopen must move to generation 1.
        const oldLog = dir.survivors(survivors).fileBytes('log.dat');
        const committed = oldLog !== undefined && oldLog.length >= 13 && oldLog[oldLog.length - 13] === 5 && oldLog[oldLog.length - 5] === 4;
        if (committed || done >= 3) expect(left.sort()).toEqual(['faces.1.dat', 'log.1.dat', 'stage1.1.dat']);
        if (committed) commitSeen++;
      }
    }
    // Kills between the commit entry and the removal of the old log must have been among the points.
    expect(commitSeen).toBeGreaterThan(0);
  });
});

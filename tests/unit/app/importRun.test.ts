import { describe, expect, it } from 'vitest';
import type { ImportProblem } from '../../../src/app/engineApi.ts';
import { ImportRun, runInLanes } from '../../../src/app/importRun.ts';

/** A job that finishes when the test says so. */
function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { done, open };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('runInLanes', () => {
  it('keeps exactly `lanes` jobs running, takes items in list order, and does each once', async () => {
    const gates = Array.from({ length: 7 }, gate);
    const started: number[] = [];
    let running = 0;
    let most = 0;
    const all = runInLanes(
      [0, 1, 2, 3, 4, 5, 6],
      3,
      () => false,
      async (i) => {
        started.push(i);
        most = Math.max(most, ++running);
        await gates[i].done;
        running--;
      },
    );
    await tick();
    expect(started).toEqual([0, 1, 2]);
    gates[1].open();
    await tick();
    expect(started).toEqual([0, 1, 2, 3]);
    for (const g of gates) g.open();
    await all;
    expect(started).toEqual([0, 1, 2, 3, 4, 5, 6]);
    expect(most).toBe(3);
  });

  it('takes no new item once cancelled, and lets the running ones finish', async () => {
    let cancelled = false;
    const finished: number[] = [];
    await runInLanes(
      [0, 1, 2, 3, 4, 5],
      2,
      () => cancelled,
      async (i) => {
        await tick();
        if (i === 2) cancelled = true;
        finished.push(i);
      },
    );
    // Items 0 and 1 run first; 2 and 3 start before the cancel is seen; nothing after.
    expect(finished.sort()).toEqual([0, 1, 2, 3]);
  });

  it('does nothing for an empty list', async () => {
    let calls = 0;
    await runInLanes(
      [],
      4,
      () => false,
      async () => {
        calls++;
      },
    );
    expect(calls).toBe(0);
  });
});

describe('ImportRun.claim', () => {
  it('lets the first file with some content through and lists each later copy, naming the first', () => {
    const problems: ImportProblem[] = [];
    const run = new ImportRun(4, problems, { now: () => 0, wallClock: () => 0 }, () => false);
    expect(run.claim('h1', 'a/one.jpg', 'photo')).toBe(true);
    expect(run.claim('h2', 'a/two.jpg', 'photo')).toBe(true);
    expect(run.claim('h1', 'b/copy.jpg', 'photo')).toBe(false);
    expect(run.claim('h1', 'c/copy.jpg', 'photo')).toBe(false);
    expect(run.skippedDuplicates).toBe(2);
    expect(problems.map((p) => [p.file, p.code])).toEqual([
      ['b/copy.jpg', 'duplicate-image'],
      ['c/copy.jpg', 'duplicate-image'],
    ]);
    expect(problems[0].message).toContain('as a/one.jpg');
    expect(problems[0].hint).toMatch(/\S/);
  });
});

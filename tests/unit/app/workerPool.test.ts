import { describe, expect, it } from 'vitest';
import { WorkerPool, type PoolWorker } from '../../../src/app/workerPool.ts';
import { AppError } from '../../../src/core/errors.ts';

/** A stand-in worker: its job answers, crashes (its `died` fires) or hangs, as the test says. */
interface FakeApi {
  readonly id: number;
  answer(behaviour: 'ok' | 'crash' | 'hang'): Promise<string>;
}

function fakeSpawner(opts: { failStarts?: number } = {}) {
  let next = 0;
  let failStarts = opts.failStarts ?? 0;
  const terminated: number[] = [];
  const spawn = async (): Promise<PoolWorker<FakeApi>> => {
    const id = next++;
    if (id > 0 && failStarts > 0) {
      failStarts--;
      throw new Error('model download failed');
    }
    let die: (why: string) => void = () => {};
    const died = new Promise<string>((r) => (die = r));
    const api: FakeApi = {
      id,
      answer: (b) => {
        if (b === 'ok') return Promise.resolve(`done by ${id}`);
        if (b === 'crash') setTimeout(() => die('segfault'), 1);
        return new Promise<string>(() => {});
      },
    };
    return { api, died, terminate: () => terminated.push(id) };
  };
  return { spawn, terminated };
}

describe('WorkerPool', () => {
  it('replaces a crashed worker and retries the job once on the new one', async () => {
    const { spawn, terminated } = fakeSpawner();
    const pool = new WorkerPool<FakeApi>({ size: 1, spawn, jobTimeoutMs: 5_000 });
    await pool.start();
    let attempt = 0;
    const out = await pool.run('a.jpg', (api) => api.answer(attempt++ === 0 ? 'crash' : 'ok'));
    expect(out).toBe('done by 1');
    expect(pool.restarts).toBe(1);
    expect(terminated).toEqual([0]);
  });

  it('says why a job was done again (its first worker crashed), and nothing for a job done the first time', async () => {
    const { spawn } = fakeSpawner();
    const pool = new WorkerPool<FakeApi>({ size: 1, spawn, jobTimeoutMs: 5_000 });
    await pool.start();
    expect(await pool.runTold('a.jpg', (api) => api.answer('ok'))).toEqual({ value: 'done by 0' });
    let attempt = 0;
    expect(await pool.runTold('b.jpg', (api) => api.answer(attempt++ === 0 ? 'crash' : 'ok'))).toEqual({ value: 'done by 1', retriedBecause: 'an extraction worker crashed (segfault)' });
  });

  it('a job that hangs past the time limit counts as a crash; a second failure names the file', async () => {
    const { spawn } = fakeSpawner();
    const pool = new WorkerPool<FakeApi>({ size: 1, spawn, jobTimeoutMs: 20 });
    await pool.start();
    await expect(pool.run('slow.jpg', (api) => api.answer('hang'))).rejects.toMatchObject({ code: 'worker-crashed', file: 'slow.jpg' });
    expect(pool.restarts).toBe(2);
    // The pool still works afterwards.
    expect(await pool.run('b.jpg', (api) => api.answer('ok'))).toBe('done by 2');
  });

  it('other errors are not retried', async () => {
    const { spawn } = fakeSpawner();
    const pool = new WorkerPool<FakeApi>({ size: 1, spawn, jobTimeoutMs: 1_000 });
    await pool.start();
    let calls = 0;
    await expect(
      pool.run('x.jpg', () => {
        calls++;
        return Promise.reject(new AppError('corrupt-image', 'bad', 'Fix it.'));
      }),
    ).rejects.toMatchObject({ code: 'corrupt-image' });
    expect(calls).toBe(1);
    expect(pool.restarts).toBe(0);
  });

  it('a replacement that fails to start leaves the slot empty; the next job starts one', async () => {
    const { spawn } = fakeSpawner({ failStarts: 2 });
    const pool = new WorkerPool<FakeApi>({ size: 1, spawn, jobTimeoutMs: 1_000 });
    await pool.start();
    // The crash's replacement fails, and so does the retry's own start: the job fails, naming the file.
    await expect(pool.run('c.jpg', (api) => api.answer('crash'))).rejects.toMatchObject({ code: 'worker-crashed', file: 'c.jpg' });
    expect(await pool.run('d.jpg', (api) => api.answer('ok'))).toBe('done by 3');
  });

  it('never runs more jobs at once than it has workers', async () => {
    const { spawn } = fakeSpawner();
    const pool = new WorkerPool<FakeApi>({ size: 2, spawn, jobTimeoutMs: 1_000 });
    await pool.start();
    let running = 0;
    let most = 0;
    const job = async () => {
      most = Math.max(most, ++running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      return 'ok';
    };
    await Promise.all(Array.from({ length: 7 }, (_, i) => pool.run(`${i}.jpg`, job)));
    expect(most).toBe(2);
  });
});

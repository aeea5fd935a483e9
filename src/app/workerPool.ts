/**
 * Runs extraction jobs over a small pool of workers, one job per worker at a
 * time. A worker that crashes or exceeds the per-image time limit is replaced
 * and its image retried once, so a bad decoder run never stops an import. A
 * replacement that fails to start (or takes over two minutes) leaves its slot
 * empty; the slot's next job tries again, so one bad start does not wedge the
 * pool. Unit-tested with fake workers (tests/unit/app/workerPool.test.ts) and end to end by
 * e2e/worker-faults.spec.ts.
 */
import { AppError } from '../core/errors.ts';

export interface PoolWorker<Api> {
  readonly api: Api;
  terminate(): void;
  /** Resolves with a message when the worker dies (error event). */
  readonly died: Promise<string>;
}

export interface PoolOptions<Api> {
  readonly size: number;
  readonly spawn: (slot: number) => Promise<PoolWorker<Api>>;
  readonly jobTimeoutMs: number;
}

/** How long a replacement worker may take to start (load its models) before that counts as a failure too. */
const RESPAWN_TIMEOUT_MS = 120_000;

export class WorkerPool<Api> {
  private readonly slots: (PoolWorker<Api> | undefined)[];
  private readonly idle: number[] = [];
  private readonly waiters: ((slot: number) => void)[] = [];
  private jobTimeoutMs: number;
  /** Workers replaced after a crash or a hang, since the pool started. */
  restarts = 0;

  constructor(private readonly opts: PoolOptions<Api>) {
    this.slots = new Array(opts.size).fill(undefined);
    this.jobTimeoutMs = opts.jobTimeoutMs;
  }

  /** Changes the per-job time limit (the engine's test hook shortens it so a hang is detected quickly). */
  setJobTimeout(ms: number): void {
    this.jobTimeoutMs = ms;
  }

  async start(): Promise<void> {
    await Promise.all(this.slots.map(async (_, i) => (this.slots[i] = await this.opts.spawn(i))));
    for (let i = 0; i < this.slots.length; i++) this.idle.push(i);
  }

  get size(): number {
    return this.slots.length;
  }

  /** Any live worker, for one-off jobs such as a query. */
  async withWorker<T>(job: (api: Api) => Promise<T>): Promise<T> {
    const slot = await this.acquire();
    try {
      return await this.runGuarded(slot, job);
    } finally {
      this.release(slot);
    }
  }

  /** Runs `job`, retrying once on a fresh worker if the first one crashed or hung. */
  async run<T>(label: string, job: (api: Api) => Promise<T>): Promise<T> {
    return (await this.runTold(label, job)).value;
  }

  /** As `run`, and when the job was retried, why its first worker was replaced (the photo's report says so). */
  async runTold<T>(label: string, job: (api: Api) => Promise<T>): Promise<{ value: T; retriedBecause?: string }> {
    const slot = await this.acquire();
    try {
      try {
        return { value: await this.runGuarded(slot, job) };
      } catch (e) {
        if (!(e instanceof AppError) || e.code !== 'worker-crashed') throw e;
        const value = await this.runGuarded(slot, job).catch((e2: unknown) => {
          throw e2 instanceof AppError ? e2.forFile(label) : e2;
        });
        return { value, retriedBecause: e.message };
      }
    } finally {
      this.release(slot);
    }
  }

  terminate(): void {
    for (const w of this.slots) w?.terminate();
  }

  private async runGuarded<T>(slot: number, job: (api: Api) => Promise<T>): Promise<T> {
    // A slot whose replacement failed to start gets another try now.
    const w = this.slots[slot] ?? (await this.respawn(slot));
    const limitMs = this.jobTimeoutMs;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new AppError(
              'worker-crashed',
              `an extraction worker did not answer within ${limitMs / 1000} s`,
              'The worker was restarted and the image retried; if it fails again, the image is probably too complex to decode.',
            ),
          ),
        limitMs,
      );
    });
    const died = w.died.then((why) => {
      throw new AppError('worker-crashed', `an extraction worker crashed (${why})`, 'The worker was restarted and the import goes on.');
    });
    try {
      return await Promise.race([job(w.api), hung, died]);
    } catch (e) {
      if (e instanceof AppError && e.code === 'worker-crashed') {
        w.terminate();
        this.slots[slot] = undefined;
        this.restarts++;
        await this.respawn(slot).catch(() => undefined); // retried on the slot's next job
      }
      throw e;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Starts a fresh worker in `slot`; a start that fails or never finishes leaves the slot empty and throws. */
  private async respawn(slot: number): Promise<PoolWorker<Api>> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    let timedOut = false;
    const starting = this.opts.spawn(slot);
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timedOut = true;
        reject(
          new AppError(
            'worker-crashed',
            `a replacement extraction worker did not start within ${RESPAWN_TIMEOUT_MS / 1000} s`,
            'Reload the page; if this keeps happening, close other tabs to free memory.',
          ),
        );
      }, RESPAWN_TIMEOUT_MS);
    });
    // A worker that starts after its time ran out is not used.
    void starting.then(
      (late) => timedOut && late.terminate(),
      () => undefined,
    );
    try {
      const w = await Promise.race([starting, limit]);
      this.slots[slot] = w;
      return w;
    } catch (e) {
      throw e instanceof AppError ? e : new AppError('worker-crashed', `a replacement extraction worker failed to start (${e instanceof Error ? e.message : String(e)})`, 'Reload the page.');
    } finally {
      clearTimeout(timer);
    }
  }

  private acquire(): Promise<number> {
    const slot = this.idle.pop();
    if (slot !== undefined) return Promise.resolve(slot);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private release(slot: number): void {
    const next = this.waiters.shift();
    if (next) next(slot);
    else this.idle.push(slot);
  }
}

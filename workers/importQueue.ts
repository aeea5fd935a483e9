/**
 * Runs extraction jobs over a small pool of workers, one job per worker at a
 * time. A worker that crashes or exceeds the per-image time limit is replaced
 * and its image retried once, so a bad decoder run never stops an import.
 */
import { AppError } from '../src/core/errors.ts';

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

export class WorkerPool<Api> {
  private readonly slots: (PoolWorker<Api> | undefined)[];
  private readonly idle: number[] = [];
  private readonly waiters: ((slot: number) => void)[] = [];
  restarts = 0;

  constructor(private readonly opts: PoolOptions<Api>) {
    this.slots = new Array(opts.size).fill(undefined);
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
    const slot = await this.acquire();
    try {
      try {
        return await this.runGuarded(slot, job);
      } catch (e) {
        if (!(e instanceof AppError) || e.code !== 'worker-crashed') throw e;
        return await this.runGuarded(slot, job).catch((e2: unknown) => {
          throw e2 instanceof AppError ? e2.forFile(label) : e2;
        });
      }
    } finally {
      this.release(slot);
    }
  }

  terminate(): void {
    for (const w of this.slots) w?.terminate();
  }

  private async runGuarded<T>(slot: number, job: (api: Api) => Promise<T>): Promise<T> {
    const w = this.slots[slot]!;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AppError('worker-crashed', `an extraction worker did not answer within ${this.opts.jobTimeoutMs / 1000} s`, 'The worker was restarted and the image retried; if it fails again, the image is probably too complex to decode.')),
        this.opts.jobTimeoutMs,
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
        this.restarts++;
        this.slots[slot] = await this.opts.spawn(slot);
      }
      throw e;
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

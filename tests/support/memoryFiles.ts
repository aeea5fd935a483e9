/**
 * An in-memory GalleryDirectory for the face record store's tests, able to
 * die at any byte: the worker killed (tab closed, browser crash) in the
 * middle of a write.
 *
 * Crash model. Every write costs its length in units of a budget shared by
 * the directory's files, every flush and truncate one unit. The write that
 * crosses the budget writes only the bytes that fit, then throws; from then
 * on every write, truncate, flush, remove and open throws, as if the worker were
 * gone. survivors() gives the files as the next page load would find them,
 * in one of two models:
 * - 'written': everything written before the kill (a killed worker: the
 *   operating system still has every write it was handed);
 * - 'flushed': each file as of its last flush (power loss: unflushed writes
 *   are lost, the worst case a disk allows).
 * A quota, when set, makes a write or truncate that would grow the files past
 * it throw QuotaExceededError without changing anything, as OPFS does.
 */
import type { GalleryDirectory, RandomAccessFile } from '../../src/storage/randomAccessFile.ts';

export type SurvivorModel = 'written' | 'flushed';

export class MemoryDirectory implements GalleryDirectory {
  private readonly files = new Map<string, MemoryFile>();
  /** Units (bytes written, flushes, truncates) left before the kill; Infinity for never. */
  budget: number;
  /** Total bytes the files may hold. */
  quotaBytes: number;
  dead = false;
  /** Units spent so far: a dry run measures a sequence of operations with it, to draw kill points inside it. */
  unitsUsed = 0;

  /** Whether flushes keep a copy of the file for survivors('flushed'): a whole-file copy per flush, too slow for benchmarks. */
  readonly keepsFlushed: boolean;

  constructor(opts: { killAfter?: number; quotaBytes?: number; contents?: ReadonlyMap<string, Uint8Array>; keepFlushed?: boolean } = {}) {
    this.keepsFlushed = opts.keepFlushed ?? true;
    this.budget = opts.killAfter ?? Infinity;
    this.quotaBytes = opts.quotaBytes ?? Infinity;
    for (const [name, bytes] of opts.contents ?? []) this.files.set(name, new MemoryFile(this, bytes));
  }

  async open(name: string): Promise<RandomAccessFile> {
    await Promise.resolve();
    this.checkAlive();
    let f = this.files.get(name);
    if (!f) {
      f = new MemoryFile(this, new Uint8Array(0));
      this.files.set(name, f);
    }
    return f.handle();
  }

  /** Costs a unit, so kill points fall between the removes of a compaction's clean-up too. */
  async remove(name: string): Promise<void> {
    await Promise.resolve();
    if (this.spend(1) < 1) throw new Error(`the worker was killed before removing ${name} (test kill point)`);
    this.files.delete(name);
  }

  async names(): Promise<string[]> {
    await Promise.resolve();
    return [...this.files.keys()];
  }

  /** A copy of the files as a page load after a kill would find them. */
  survivors(model: SurvivorModel): MemoryDirectory {
    if (model === 'flushed' && !this.keepsFlushed) throw new Error('this directory was made with keepFlushed: false');
    const contents = new Map<string, Uint8Array>();
    for (const [name, f] of this.files) contents.set(name, model === 'written' ? f.bytes() : f.flushedBytes());
    return new MemoryDirectory({ contents });
  }

  /** The current bytes of a file (a copy), or undefined. */
  fileBytes(name: string): Uint8Array | undefined {
    return this.files.get(name)?.bytes();
  }

  /** Overwrites a byte in place, outside the budget: damage for the tests to find. */
  corrupt(name: string, at: number, xor = 0xff): void {
    const f = this.files.get(name);
    if (!f) throw new Error(`no file ${name}`);
    f.poke(at, xor);
  }

  totalBytes(): number {
    let n = 0;
    for (const f of this.files.values()) n += f.size;
    return n;
  }

  checkAlive(): void {
    if (this.dead) throw new Error('the worker was killed (test kill point)');
  }

  /** Takes `units` from the budget; returns how many fit before the kill (all of them when the budget allows). */
  spend(units: number): number {
    this.checkAlive();
    if (units <= this.budget) {
      this.budget -= units;
      this.unitsUsed += units;
      return units;
    }
    const fit = this.budget;
    this.unitsUsed += fit;
    this.budget = 0;
    this.dead = true;
    return fit;
  }
}

class MemoryFile {
  private data: Uint8Array;
  size: number;
  private flushed: Uint8Array;

  constructor(
    private readonly dir: MemoryDirectory,
    initial: Uint8Array,
  ) {
    this.data = initial.slice();
    this.size = initial.length;
    this.flushed = initial.slice();
  }

  bytes(): Uint8Array {
    return this.data.slice(0, this.size);
  }

  flushedBytes(): Uint8Array {
    return this.flushed.slice();
  }

  poke(at: number, xor: number): void {
    if (at >= this.size) throw new Error(`byte ${at} is past the end (${this.size})`);
    this.data[at] ^= xor;
    if (at < this.flushed.length) this.flushed[at] ^= xor;
  }

  handle(): RandomAccessFile {
    let open = true;
    const checkOpen = () => {
      if (!open) throw new Error('the file is closed');
    };
    return {
      size: () => {
        checkOpen();
        return this.size;
      },
      read: (into, at) => {
        checkOpen();
        const n = Math.max(0, Math.min(into.length, this.size - at));
        into.set(this.data.subarray(at, at + n));
        return n;
      },
      write: (bytes, at) => {
        checkOpen();
        this.checkQuota(Math.max(this.size, at + bytes.length));
        const fit = this.dir.spend(bytes.length);
        this.place(bytes.subarray(0, fit), at);
        if (fit < bytes.length) throw new Error(`the worker was killed after writing ${fit} of ${bytes.length} bytes (test kill point)`);
        return fit;
      },
      truncate: (size) => {
        checkOpen();
        this.checkQuota(size);
        if (this.dir.spend(1) < 1) throw new Error('the worker was killed before a truncate (test kill point)');
        if (size > this.size) this.grow(size);
        // Bytes past the end must read back as zeros if the file grows again.
        this.data.fill(0, Math.min(size, this.size), this.size);
        this.size = size;
      },
      flush: () => {
        checkOpen();
        if (this.dir.spend(1) < 1) throw new Error('the worker was killed before a flush (test kill point)');
        if (this.dir.keepsFlushed) this.flushed = this.bytes();
      },
      close: () => {
        open = false;
      },
    };
  }

  private checkQuota(newSize: number): void {
    if (newSize <= this.size) return;
    if (this.dir.totalBytes() - this.size + newSize > this.dir.quotaBytes) throw new DOMException('the storage quota is exceeded (test quota)', 'QuotaExceededError');
  }

  private grow(min: number): void {
    if (min <= this.data.length) return;
    const next = new Uint8Array(Math.max(min, this.data.length * 2, 1024));
    next.set(this.data.subarray(0, this.size));
    this.data = next;
  }

  private place(bytes: Uint8Array, at: number): void {
    if (bytes.length === 0) return;
    this.grow(at + bytes.length);
    this.data.set(bytes, at);
    this.size = Math.max(this.size, at + bytes.length);
  }
}

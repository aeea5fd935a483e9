/**
 * What both imports share (labelled folders, importService.ts; photo
 * libraries, libraryService.ts): the files worth opening, the counters
 * of one run, and progress reports at most every 150 ms.
 */
import type { ImportProblem, ImportProgress } from './engineApi.ts';
import { looksLikeImageName } from './identity.ts';
import { EXAMPLES_PER_GROUP, groupImportProblems } from './importProblemGroups.ts';
import { expandZips, type ImportEntry } from './zipEntries.ts';

const PROGRESS_INTERVAL_MS = 150;

export interface ImportClock {
  now(): number;
  wallClock(): number;
}

/** Zips expanded; files that are not images by their name refused into `problems`. */
export async function imageEntries(entries: readonly ImportEntry[], problems: ImportProblem[]): Promise<ImportEntry[]> {
  return (await expandZips(entries, problems)).filter((e) => {
    if (looksLikeImageName(e.path)) return true;
    problems.push({ file: e.path, code: 'not-an-image', message: 'not an image file (skipped by its name)', hint: 'Only JPEG, PNG, WebP, BMP and GIF images are indexed.' });
    return false;
  });
}

/** Calls `send` at most every 150 ms while running, and always for the finished report. */
export function throttledReport(clock: ImportClock, send: (finished: boolean) => void): (finished: boolean) => void {
  let lastReport = -Infinity;
  return (finished) => {
    const now = clock.now();
    if (finished || now - lastReport > PROGRESS_INTERVAL_MS) {
      lastReport = now;
      send(finished);
    }
  };
}

/**
 * Runs `work` on `items` in list order from `lanes` concurrent lanes (each
 * extraction worker busy, plus one lane reading and hashing ahead), until all
 * are taken or `cancelled()` holds.
 */
export async function runInLanes<T>(items: readonly T[], lanes: number, cancelled: () => boolean, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length && !cancelled()) await work(items[next++]);
  };
  await Promise.all(Array.from({ length: lanes }, lane));
}

/** The counters of one import. */
export class ImportRun {
  done = 0;
  added = 0;
  skippedDuplicates = 0;
  readonly stepSums: Record<string, number> = {};
  /** Key -> the path of the first file of this import with that content. */
  private readonly seen = new Map<string, string>();
  private readonly startedAt: number;

  constructor(
    readonly total: number,
    readonly problems: ImportProblem[],
    private readonly clock: ImportClock,
    private readonly cancelled: () => boolean,
  ) {
    this.startedAt = clock.now();
  }

  /**
   * Claims content `key` for `path`. False when another file of this import
   * already has it: that is listed as a duplicate naming the file kept (the
   * user may expect both). Call before the next await, so a copy hashed
   * meanwhile in another lane sees the claim.
   */
  claim(key: string, path: string, noun: 'image' | 'photo'): boolean {
    const first = this.seen.get(key);
    if (first === undefined) {
      this.seen.set(key, path);
      return true;
    }
    this.skippedDuplicates++;
    this.problems.push({
      file: path,
      code: 'duplicate-image',
      message: `the same ${noun} (identical content) as ${first}, which is processed instead`,
      hint: `Nothing to do: each ${noun} is indexed once. Remove one copy if they are meant to be different ${noun}s.`,
    });
    return false;
  }

  progress(finished: boolean): ImportProgress {
    const elapsed = (this.clock.now() - this.startedAt) / 1000;
    const rate = this.done / Math.max(elapsed, 1e-3);
    const stepMs = Object.fromEntries(Object.entries(this.stepSums).map(([k, v]) => [k, v / Math.max(this.added, 1)]));
    return {
      done: this.done,
      total: this.total,
      added: this.added,
      skippedDuplicates: this.skippedDuplicates,
      // The full list crosses once, at the end; running reports carry the groups only (see ImportProgress).
      problems: finished ? [...this.problems] : [],
      problemGroups: groupImportProblems(this.problems, EXAMPLES_PER_GROUP),
      problemCount: this.problems.length,
      imagesPerSecond: rate,
      etaSeconds: rate > 0 ? (this.total - this.done) / rate : 0,
      finished,
      cancelled: this.cancelled(),
      stepMs,
    };
  }
}

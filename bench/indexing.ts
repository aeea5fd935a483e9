/**
 * Indexing throughput of the real app in headless Chromium (decode + detect +
 * landmarks + align + embed in the extraction workers, one per core, WASM):
 * imports N images of lfw-dev through the app and reads its per-step means.
 * It also records the page's long tasks (PerformanceObserver 'longtask',
 * installed before the app loads) from the moment the files are handed over
 * until the import reports finished: the bar is no main-thread task over
 * 200 ms while indexing.
 */
import { copyFileSync, mkdtempSync, readdirSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ImportProgress } from '../src/app/engineApi.ts';
import { launchApp, servePreview } from './browser.ts';

export interface IndexingBenchResult {
  readonly images: number;
  readonly workers: number;
  readonly index_images_per_s: number;
  readonly step_ms: Readonly<Record<string, number>>;
  readonly failed: number;
  readonly backend: string;
  /** Longest main-thread task during the import (0 when none reached the 50 ms long-task threshold). */
  readonly longest_main_thread_task_ms: number;
  readonly long_tasks_over_200ms: number;
  /**
   * The longest main-thread work from the file input's first 'change' event on (a task that began before it counts
   * from the event): Chromium builds the FileList before the event, in the same task, and that is the browser's
   * own work (a profile of 300 files: ~260 ms of native code before any of the app's scripts runs), which the app
   * cannot split. 0 when no task reached 50 ms.
   */
  readonly longest_task_after_change_ms: number;
  readonly long_tasks_over_200ms_after_change: number;
  /** Every long task (>= 50 ms, the browser's threshold) during the import. */
  readonly long_tasks_over_50ms: number;
  readonly long_task_ms_total: number;
  /** Seconds from handing over the files to the import reporting finished. */
  readonly import_wall_s: number;
  /** Each of those long tasks: when it started (ms after the files were handed over) and how long it ran. */
  readonly long_tasks: readonly { readonly at_ms: number; readonly ms: number }[];
  /** False when this browser does not report 'longtask' entries (the long-task fields are then 0 and mean nothing). */
  readonly long_task_observer: boolean;
}

export interface LongTask {
  readonly start: number;
  readonly duration: number;
}

/** Runs in the page before any of its scripts: keeps every long task in window.__benchLongTasks. */
export function recordLongTasks(): void {
  if (typeof window === 'undefined' || typeof PerformanceObserver === 'undefined') return;
  const w = window as unknown as { __benchLongTasks?: LongTask[]; __benchLongTaskObserver?: boolean; __benchChangeAt?: number };
  document.addEventListener('change', () => (w.__benchChangeAt ??= performance.now()), true);
  const longTasks: LongTask[] = [];
  w.__benchLongTasks = longTasks;
  w.__benchLongTaskObserver = PerformanceObserver.supportedEntryTypes?.includes('longtask') ?? false;
  if (!w.__benchLongTaskObserver) return;
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) longTasks.push({ start: e.startTime, duration: e.duration });
  }).observe({ type: 'longtask', buffered: true });
}

/**
 * A folder with copies of the first `n` images of lfw-dev (sorted), so the app
 * imports exactly those. Copies, not symlinks: Playwright's directory upload
 * skips symlinked files, so a folder of links reached the app empty and the
 * import never started.
 */
function sampleFolder(n: number): string {
  const src = resolve('../shared/data/lfw-dev');
  const dir = mkdtempSync(join(tmpdir(), 'bench-index-'));
  let count = 0;
  for (const id of readdirSync(src).sort()) {
    for (const f of readdirSync(join(src, id)).sort()) {
      if (count >= n) return dir;
      mkdirSync(join(dir, id), { recursive: true });
      copyFileSync(join(src, id, f), join(dir, id, f));
      count++;
    }
  }
  return dir;
}

export async function runIndexingBench(opts: { images?: number; backend?: 'wasm' | 'webgpu'; log?: (line: string) => void } = {}): Promise<IndexingBenchResult> {
  const n = opts.images ?? 200;
  const backend = opts.backend ?? 'wasm';
  const folder = sampleFolder(n);
  const served = await servePreview();
  const ctx = await launchApp({ webgpu: backend === 'webgpu' });
  try {
    const page = await ctx.newPage();
    await page.addInitScript(recordLongTasks);
    await page.goto(`${served.url}/?backend=${backend}`);
    await page.waitForFunction(() => (window as unknown as { __deepfaceEmd?: { state(): { models: { phase: string } } } }).__deepfaceEmd?.state().models.phase === 'ready', null, { timeout: 120_000 });
    const importStart = await page.evaluate(() => performance.now());
    await page.getByTestId('gallery-folder-input').setInputFiles(folder);
    let p: ImportProgress | null = null;
    let lastLog = Date.now();
    const handedOver = Date.now();
    for (;;) {
      p = await page.evaluate(() => (window as unknown as { __deepfaceEmd: { state(): { importing: ImportProgress | null } } }).__deepfaceEmd.state().importing);
      if (p?.finished) break;
      if (!p && Date.now() - handedOver > 120_000) throw new Error(`the app did not start importing ${folder} within 120 s of receiving the files`);
      if (opts.log && Date.now() - lastLog > 10_000) {
        lastLog = Date.now();
        opts.log(`  indexing: ${p ? `${p.done}/${p.total} images, ${p.imagesPerSecond.toFixed(2)} images/s` : 'not started'}`);
      }
      await page.waitForTimeout(500);
    }
    const importEnd = await page.evaluate(() => performance.now());
    const workers = await page.evaluate(() => navigator.hardwareConcurrency);
    const lt = await page.evaluate(() => {
      const w = window as unknown as { __benchLongTasks?: LongTask[]; __benchLongTaskObserver?: boolean; __benchChangeAt?: number };
      return { tasks: w.__benchLongTasks ?? [], observer: w.__benchLongTaskObserver === true, changeAt: w.__benchChangeAt ?? null };
    });
    // Tasks that end after the files were handed over (one may have started just before).
    const during = lt.tasks.filter((t) => t.start + t.duration >= importStart && t.start <= importEnd);
    const changeAt = lt.changeAt;
    if (changeAt === null) throw new Error("the file input's change event was not seen: the bench cannot tell the browser's FileList work from the app's");
    // The task that built the FileList also dispatches the change event: only its part from the event on is the app's.
    const afterChange = during.filter((t) => t.start + t.duration > changeAt).map((t) => ({ start: t.start, duration: Math.min(t.duration, t.start + t.duration - changeAt) }));
    return {
      images: p.total,
      workers: Math.min(workers, 4),
      index_images_per_s: p.imagesPerSecond,
      step_ms: p.stepMs,
      failed: p.problems.length,
      backend,
      longest_main_thread_task_ms: during.reduce((m, t) => Math.max(m, t.duration), 0),
      long_tasks_over_200ms: during.filter((t) => t.duration > 200).length,
      longest_task_after_change_ms: afterChange.reduce((m, t) => Math.max(m, t.duration), 0),
      long_tasks_over_200ms_after_change: afterChange.filter((t) => t.duration > 200).length,
      long_tasks_over_50ms: during.length,
      long_task_ms_total: during.reduce((s, t) => s + t.duration, 0),
      long_tasks: during.map((t) => ({ at_ms: Math.round(t.start - importStart), ms: Math.round(t.duration) })),
      import_wall_s: (importEnd - importStart) / 1000,
      long_task_observer: lt.observer,
    };
  } finally {
    const browser = ctx.browser();
    await ctx.close();
    // launchApp's context lives in a browser of its own: close that too, or Node never exits.
    await browser?.close();
    served.close();
    rmSync(folder, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runIndexingBench({ images: Number(process.argv[2] ?? 200), log: (line) => console.error(line) });
  console.log(JSON.stringify(r, null, 2));
  console.log(
    `longest main-thread task while indexing ${r.images} images: ${r.longest_main_thread_task_ms.toFixed(0)} ms; ${r.long_tasks_over_200ms} over 200 ms (bar: 0), ${r.long_tasks_over_50ms} over 50 ms; after the browser built the FileList (the input's change event): ${r.longest_task_after_change_ms.toFixed(0)} ms, ${r.long_tasks_over_200ms_after_change} over 200 ms${r.long_task_observer ? '' : " (this browser reports no 'longtask' entries)"}; timings contended (shared cores)`,
  );
}

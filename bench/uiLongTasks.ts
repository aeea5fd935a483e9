/**
 * `npm run bench -- --only ui-longtasks` (or `npx tsx bench/uiLongTasks.ts`)
 *
 * Main-thread long tasks of the real app page (headless Chromium, WASM) in
 * three moments that froze it before: (a) loading the models at page start,
 * (b) importing a zip of 5,000 tiny files that are not images, (c) a
 * 20000 x 20000 PNG as the query (refused by the header check). The page
 * records every 'longtask' entry from before its first script; each case
 * reports the longest task and how many ran over 200 ms (the bar: none).
 * Inputs are generated here, so nothing is read from disk but the app.
 * `--skip-import` (standalone only) leaves out the slow import case.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ImportProgress } from '../src/app/engineApi.ts';
import { launchApp, servePreview } from './browser.ts';
import { hugeGreyPng, manyTinyFilesZip } from './generatedInputs.ts';
import { recordLongTasks, type LongTask } from './indexing.ts';

export interface LongTaskCase {
  /** Longest main-thread task in the window (0 when none reached the browser's 50 ms threshold). */
  readonly longest_ms: number;
  readonly over_200ms: number;
  readonly over_50ms: number;
  /** Seconds the case took, from its start to what it waits for. */
  readonly wall_s: number;
  /** Each long task: ms after the case started, and how long it ran. */
  readonly tasks: readonly { readonly at_ms: number; readonly ms: number }[];
}

export interface UiLongTasksResult {
  readonly model_loading: LongTaskCase;
  /** Null when skipped (`--skip-import`). */
  readonly import_5000_files:
    | (LongTaskCase & {
        readonly files: number;
        readonly problems: number;
        /** Problem rows in the DOM once the import is done, and all elements under the import status. */
        readonly problem_rows_in_dom: number;
        readonly import_status_nodes: number;
      })
    | null;
  readonly huge_png_query: LongTaskCase & { readonly side: number; readonly png_bytes: number; readonly refused_with: string };
  /** False when this browser reports no 'longtask' entries (every number above is then 0 and means nothing). */
  readonly long_task_observer: boolean;
}

export const MANY_FILES = 5_000;
export const HUGE_SIDE = 20_000;

interface PageState {
  models: { phase: string };
  importing: ImportProgress | null;
  gallery: { count: number } | null;
}

function state(page: Page): Promise<PageState> {
  return page.evaluate(() => (window as unknown as { __deepfaceEmd: { state(): PageState } }).__deepfaceEmd.state());
}

async function longTasks(page: Page): Promise<{ tasks: LongTask[]; observer: boolean }> {
  return page.evaluate(() => {
    const w = window as unknown as { __benchLongTasks?: LongTask[]; __benchLongTaskObserver?: boolean };
    return { tasks: w.__benchLongTasks ?? [], observer: w.__benchLongTaskObserver === true };
  });
}

function summarise(all: readonly LongTask[], from: number, to: number): LongTaskCase {
  // Tasks that end inside the window (one may have started just before it).
  const during = all.filter((t) => t.start + t.duration >= from && t.start <= to);
  return {
    longest_ms: Math.round(during.reduce((m, t) => Math.max(m, t.duration), 0)),
    over_200ms: during.filter((t) => t.duration > 200).length,
    over_50ms: during.length,
    wall_s: Math.round((to - from) / 10) / 100,
    tasks: during.map((t) => ({ at_ms: Math.round(t.start - from), ms: Math.round(t.duration) })),
  };
}

const now = (page: Page) => page.evaluate(() => performance.now());

async function waitFor(page: Page, what: string, timeoutMs: number, done: (s: PageState) => boolean): Promise<PageState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const s = await state(page);
    if (done(s)) return s;
    if (Date.now() > deadline)
      throw new Error(`${what}: not reached within ${timeoutMs / 1000} s (models ${s.models.phase}, import ${s.importing ? `${s.importing.done}/${s.importing.total}` : 'none'})`);
    await page.waitForTimeout(250);
  }
}

/** Hands the app a zip of 5,000 tiny non-images and waits until the import's last report is on screen. */
async function importManyFiles(page: Page, zipPath: string, log: (line: string) => void): Promise<NonNullable<UiLongTasksResult['import_5000_files']>> {
  log(`importing a zip of ${MANY_FILES} tiny files…`);
  await page.waitForTimeout(1_000);
  const from = await now(page);
  await page.getByTestId('gallery-file-input').setInputFiles(zipPath);
  const imported = await waitFor(page, 'import finished', 600_000, (s) => s.importing?.finished === true);
  // The last report is rendered after the gallery count comes in: give the page that and a frame.
  await page.getByTestId('import-done').waitFor({ timeout: 30_000 });
  await page.waitForTimeout(1_000);
  const to = await now(page);
  const dom = await page.evaluate(() => ({
    rows: document.querySelectorAll('[data-testid="import-problems"] li').length,
    nodes: document.querySelector('[data-testid="import-status"]')?.querySelectorAll('*').length ?? 0,
  }));
  return {
    ...summarise((await longTasks(page)).tasks, from, to),
    files: imported.importing?.total ?? 0,
    problems: imported.importing?.problems.length ?? 0,
    problem_rows_in_dom: dom.rows,
    import_status_nodes: dom.nodes,
  };
}

export async function runUiLongTasks(opts: { log?: (line: string) => void; skipImport?: boolean } = {}): Promise<UiLongTasksResult> {
  const log = opts.log ?? (() => undefined);
  const dir = mkdtempSync(join(tmpdir(), 'bench-longtasks-'));
  const zipPath = join(dir, 'many-tiny-files.zip');
  writeFileSync(zipPath, manyTinyFilesZip(MANY_FILES));
  const pngPath = join(dir, `huge-${HUGE_SIDE}.png`);
  const png = await hugeGreyPng(HUGE_SIDE);
  writeFileSync(pngPath, png);
  const served = await servePreview();
  const ctx = await launchApp({});
  try {
    const page = await ctx.newPage();
    await page.addInitScript(recordLongTasks);

    log('model loading at page start…');
    await page.goto(`${served.url}/?backend=wasm`);
    await waitFor(page, 'models ready', 180_000, (s) => s.models.phase === 'ready' && s.gallery !== null);
    const readyAt = await now(page);
    // From navigation (time origin 0) to the models being ready.
    const model_loading = summarise((await longTasks(page)).tasks, 0, readyAt);
    // Playwright evaluates its own helper script in the page the first time a locator is used (a
    // 200-600 ms task on a busy machine): done here, outside the measured windows.
    await page.getByTestId('models-status').innerText();

    const import_5000_files = opts.skipImport ? null : await importManyFiles(page, zipPath, log);

    log(`a ${HUGE_SIDE} x ${HUGE_SIDE} PNG (${(png.length / 1e6).toFixed(1)} MB) as the query…`);
    await page.waitForTimeout(1_000);
    const queryFrom = await now(page);
    await page.getByTestId('query-input').setInputFiles(pngPath);
    const banner = page.getByTestId('error-banner');
    await banner.waitFor({ timeout: 120_000 });
    // The banner's text without its dismiss button.
    const refusedWith = await banner.evaluate((el) => el.querySelector('b')?.textContent ?? el.textContent ?? '');
    await page.waitForTimeout(1_000);
    const queryTo = await now(page);
    const lt = await longTasks(page);
    const huge_png_query = { ...summarise(lt.tasks, queryFrom, queryTo), side: HUGE_SIDE, png_bytes: png.length, refused_with: refusedWith.replace(/\s+/g, ' ').trim() };
    return { model_loading, import_5000_files, huge_png_query, long_task_observer: lt.observer };
  } finally {
    const browser = ctx.browser();
    await ctx.close();
    await browser?.close();
    served.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export function uiLongTasksTable(r: UiLongTasksResult): string {
  const row = (name: string, c: LongTaskCase, extra: string) => `| ${name} | ${c.longest_ms} | ${c.over_200ms} | ${c.over_50ms} | ${c.wall_s.toFixed(1)} | ${extra} |`;
  const many = r.import_5000_files;
  return [
    `Main-thread long tasks of the app page (bar: none over 200 ms)${r.long_task_observer ? '' : " — this browser reports no 'longtask' entries: the numbers mean nothing"}`,
    '',
    '| case | longest task ms | tasks > 200 ms | tasks > 50 ms | wall s | |',
    '|---|---|---|---|---|---|',
    row('model loading (page start to ready)', r.model_loading, ''),
    ...(many ? [row(`import zip of ${many.files} tiny files`, many, `${many.problems} problems; ${many.problem_rows_in_dom} problem rows, ${many.import_status_nodes} elements in the DOM`)] : []),
    row(`${r.huge_png_query.side} x ${r.huge_png_query.side} PNG query`, r.huge_png_query, `refused: ${r.huge_png_query.refused_with}`),
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runUiLongTasks({ log: (line) => console.error(line), skipImport: process.argv.includes('--skip-import') });
  console.log(JSON.stringify(r, null, 2));
  console.log(uiLongTasksTable(r));
}

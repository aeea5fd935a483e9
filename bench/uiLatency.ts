/**
 * `npx tsx bench/uiLatency.ts [--gallery DIR] [--query FILE] [--repeats N] [--json FILE]`
 *
 * How long the real app takes to redraw after a control moves, on an indexed
 * gallery (default: lfw-dev, 5,132 images, as indexed by `npm run eval`,
 * whose browser profile is reused, copied so that a running eval is not
 * disturbed). For each change (alpha, grid, weighting, k) the page records
 * the time from the input event to the next animation frame after the
 * results or the status line changed in the DOM: the latency a user sees.
 * The target (issue: "every change redraws within 100 ms for a 5,000-image
 * gallery at k = 100") is printed beside the numbers.
 */
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { argValue, launchApp, servePreview } from './browser.ts';
import { evalProfile } from './eval.ts';
import { DEFAULT_RECOGNIZER_ID } from '../src/models/pipelines.ts';

interface Change {
  readonly name: string;
  readonly apply: (page: Page) => Promise<void>;
}

const CHANGES: readonly Change[] = [
  ...[0.3, 0.9, 0.7].map((a) => ({ name: `alpha ${a}`, apply: (p: Page) => p.getByTestId('alpha').fill(String(a)) })),
  ...['4', '2', '7'].map((g) => ({ name: `grid ${g}`, apply: async (p: Page) => void (await p.getByTestId('grid').selectOption(g)) })),
  ...['uniform', 'sc', 'apc'].map((w) => ({ name: `weighting ${w}`, apply: async (p: Page) => void (await p.getByTestId('weighting').selectOption(w)) })),
  ...[50, 200, 100].map((k) => ({ name: `k ${k}`, apply: (p: Page) => p.getByTestId('k').fill(String(k)) })),
];

export interface UiLatencyRow {
  readonly change: string;
  readonly samples: readonly number[];
  readonly medianMs: number;
  readonly maxMs: number;
}

// A string, not a function: tsx's name-keeping helper (__name) does not exist in the page.
const PROBE = `(() => {
  window.__lat = null;
  function start() {
    window.__latStart = performance.now();
    document.removeEventListener('input', start, true);
    document.removeEventListener('change', start, true);
  }
  document.addEventListener('input', start, true);
  document.addEventListener('change', start, true);
  const watched = ['stage2-row', 'stage1-row', 'status-timings'].map((id) => document.querySelector('[data-testid="' + id + '"]')).filter((n) => n !== null);
  const obs = new MutationObserver(() => {
    if (window.__latStart === undefined) return;
    obs.disconnect();
    requestAnimationFrame(() => {
      window.__lat = performance.now() - window.__latStart;
      window.__latStart = undefined;
    });
  });
  for (const n of watched) obs.observe(n, { subtree: true, childList: true, characterData: true, attributes: true });
})()`;

async function armProbe(page: Page): Promise<void> {
  await page.evaluate(PROBE);
}

async function measure(page: Page, change: Change): Promise<number | null> {
  await armProbe(page);
  await change.apply(page);
  try {
    await page.waitForFunction(() => (window as unknown as { __lat?: number | null }).__lat != null, null, { timeout: 5_000 });
  } catch {
    return null;
  }
  return page.evaluate(() => (window as unknown as { __lat: number }).__lat);
}

function firstImage(dir: string): string {
  const id = readdirSync(dir)
    .sort()
    .find((d) => readdirSync(join(dir, d)).length >= 2);
  if (!id) throw new Error(`no identity with two images in ${dir}`);
  return join(dir, id, readdirSync(join(dir, id)).sort()[0]);
}

export async function runUiLatency(opts: { gallery: string; query?: string; repeats: number; log: (s: string) => void }): Promise<{ gallery: number; rows: UiLatencyRow[] }> {
  const { profileDir: cached, port } = evalProfile(opts.gallery, DEFAULT_RECOGNIZER_ID);
  if (!existsSync(cached)) throw new Error(`no indexed profile for ${opts.gallery}: run \`npm run eval -- --gallery ${opts.gallery}\` first`);
  const profile = mkdtempSync(join(tmpdir(), 'ui-latency-'));
  cpSync(cached, profile, { recursive: true, filter: (src) => !/Singleton(Lock|Socket|Cookie)$/.test(src) });
  const served = await servePreview({ port });
  const ctx = await launchApp({ profileDir: profile });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    await page.goto(`${served.url}/?backend=wasm`);
    await page.waitForFunction(
      () => {
        const s = (window as unknown as { __deepfaceEmd?: { state(): { models: { phase: string }; gallery: { count: number } | null } } }).__deepfaceEmd?.state();
        return s?.models.phase === 'ready' && (s.gallery?.count ?? 0) > 0;
      },
      null,
      { timeout: 180_000 },
    );
    const gallery = await page.evaluate(() => (window as unknown as { __deepfaceEmd: { state(): { gallery: { count: number } } } }).__deepfaceEmd.state().gallery.count);
    opts.log(`gallery of ${gallery} faces loaded`);
    await page.getByTestId('query-input').setInputFiles(opts.query ?? firstImage(opts.gallery));
    await page.getByTestId('stage2-result').first().waitFor({ timeout: 60_000 });
    await page
      .getByTestId('emd-backend')
      .selectOption('cpu')
      .catch(() => undefined);
    const rows: UiLatencyRow[] = [];
    for (const change of CHANGES) {
      const samples: number[] = [];
      for (let i = 0; i < opts.repeats; i++) {
        // Leave the control where the change puts it, then come back by the next change of the same kind.
        const ms = await measure(page, change);
        if (ms !== null) samples.push(ms);
        await page.waitForTimeout(150);
        if (i < opts.repeats - 1) {
          const other = CHANGES.find((c) => c.name.split(' ')[0] === change.name.split(' ')[0] && c !== change);
          if (!other) throw new Error(`no other change of the same control as "${change.name}" to come back with`);
          await other.apply(page);
          await page.waitForTimeout(400);
        }
      }
      const sorted = [...samples].sort((a, b) => a - b);
      rows.push({ change: change.name, samples, medianMs: sorted[Math.floor(sorted.length / 2)] ?? NaN, maxMs: sorted.at(-1) ?? NaN });
      opts.log(`${change.name}: ${samples.map((s) => s.toFixed(0)).join(', ')} ms`);
    }
    return { gallery, rows };
  } finally {
    await ctx.close();
    served.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const argv = process.argv.slice(2);
  const gallery = resolve(argValue(argv, 'gallery') ?? '../shared/data/lfw-dev');
  const r = await runUiLatency({ gallery, query: argValue(argv, 'query'), repeats: Number(argValue(argv, 'repeats') ?? 5), log: (s) => console.error(s) });
  console.log(`Redraw latency after a control change, ${r.gallery}-face gallery, k = 100 unless changed, CPU EMD (target: <= 100 ms)\n`);
  console.log('| change | median ms | max ms | samples |\n|---|---|---|---|');
  for (const row of r.rows) console.log(`| ${row.change} | ${row.medianMs.toFixed(0)} | ${row.maxMs.toFixed(0)} | ${row.samples.length} |`);
  const json = argValue(argv, 'json');
  if (json) writeFileSync(json, `${JSON.stringify(r, null, 2)}\n`);
}

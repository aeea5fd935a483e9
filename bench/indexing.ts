/**
 * Indexing throughput of the real app in headless Chromium (decode + detect +
 * landmarks + align + embed in the extraction workers, one per core, WASM):
 * imports N images of lfw-dev through the app and reads its per-step means.
 */
import { mkdtempSync, readdirSync, symlinkSync, mkdirSync } from 'node:fs';
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
}

/** A folder of symlinks to the first `n` images of lfw-dev (sorted), so the app imports exactly those. */
function sampleFolder(n: number): string {
  const src = resolve('../shared/data/lfw-dev');
  const dir = mkdtempSync(join(tmpdir(), 'bench-index-'));
  let count = 0;
  for (const id of readdirSync(src).sort()) {
    for (const f of readdirSync(join(src, id)).sort()) {
      if (count >= n) return dir;
      mkdirSync(join(dir, id), { recursive: true });
      symlinkSync(join(src, id, f), join(dir, id, f));
      count++;
    }
  }
  return dir;
}

export async function runIndexingBench(opts: { images?: number; backend?: 'wasm' | 'webgpu' } = {}): Promise<IndexingBenchResult> {
  const n = opts.images ?? 200;
  const backend = opts.backend ?? 'wasm';
  const folder = sampleFolder(n);
  const served = await servePreview();
  const ctx = await launchApp({ webgpu: backend === 'webgpu' });
  try {
    const page = await ctx.newPage();
    await page.goto(`${served.url}/?backend=${backend}`);
    await page.waitForFunction(() => (window as unknown as { __deepfaceEmd?: { state(): { models: { phase: string } } } }).__deepfaceEmd?.state().models.phase === 'ready', null, { timeout: 120_000 });
    await page.getByTestId('gallery-folder-input').setInputFiles(folder);
    let p: ImportProgress | null = null;
    for (;;) {
      p = await page.evaluate(() => (window as unknown as { __deepfaceEmd: { state(): { importing: ImportProgress | null } } }).__deepfaceEmd.state().importing);
      if (p?.finished) break;
      await page.waitForTimeout(500);
    }
    const workers = await page.evaluate(() => navigator.hardwareConcurrency);
    return { images: p.total, workers: Math.min(workers, 4), index_images_per_s: p.imagesPerSecond, step_ms: p.stepMs, failed: p.problems.length, backend };
  } finally {
    await ctx.close();
    served.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const r = await runIndexingBench({ images: Number(process.argv[2] ?? 200) });
  console.log(JSON.stringify(r, null, 2));
}

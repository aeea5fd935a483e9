/**
 * `npm run bench -- [--json FILE] [--quick] [--only engine,indexing,face,scale,scale1m,ui-longtasks]`
 *
 * Every speed figure of the project in one run and one JSON:
 * - stage2_ms_per_query: per backend, grid and k (engine bench, headless Chromium);
 * - stage1_ms: per gallery size (engine bench);
 * - index_images_per_s: through the app (both extraction workers) and per
 *   pipeline step (face bench in Node, one worker per core);
 * - scale: a 100,000-face gallery in the app's OPFS storage, in a dedicated
 *   worker (write rate, start-up to first query, memory, bytes per face,
 *   stage 1 and stage 2 with its disk reads); scale1m (not run by default):
 *   the same at 1,000,000 faces, generated once into .cache/scale1m-profile;
 * - ui_longtasks: the page's longest main-thread task while models load,
 *   while a zip of 5,000 tiny files is imported and when a 20000 x 20000
 *   PNG is the query.
 * Numbers, not pass/fail: the targets are printed beside them.
 */
import { writeFileSync } from 'node:fs';
import { argValue, ensureBuilt } from './browser.ts';
import { engineBenchTable, runEngineBench, type EngineBenchResult } from './engine.ts';
import { runFaceBench, type FaceBenchResult } from './face.ts';
import { runIndexingBench, type IndexingBenchResult } from './indexing.ts';
import { runScale1mBench, runScaleBench, scaleBenchTable, type ScaleBenchResult, type ScaleEntry } from './scale.ts';
import { runUiLongTasks, uiLongTasksTable, type UiLongTasksResult } from './uiLongTasks.ts';

interface BenchReport {
  readonly when: string;
  readonly stage2_ms_per_query: Record<string, number>;
  readonly stage1_ms: Record<string, number>;
  readonly index_images_per_s: Record<string, number>;
  readonly step_ms: Record<string, Record<string, number>>;
  readonly engine?: EngineBenchResult;
  readonly indexing?: IndexingBenchResult;
  readonly face?: FaceBenchResult;
  /** One entry per gallery size measured (scale, scale1m). */
  readonly scale?: ScaleEntry[];
  readonly scale_runs?: ScaleBenchResult[];
  readonly ui_longtasks?: UiLongTasksResult;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quick = argv.includes('--quick');
  const only = new Set((argValue(argv, 'only') ?? 'engine,indexing,face,scale').split(','));
  const log = (s: string) => process.stderr.write(`${s}\n`);
  ensureBuilt();
  const report: BenchReport = { when: new Date().toISOString(), stage2_ms_per_query: {}, stage1_ms: {}, index_images_per_s: {}, step_ms: {} };
  const out: { -readonly [K in keyof BenchReport]: BenchReport[K] } = report;

  if (only.has('engine')) {
    log('== engine (stage 1 and stage 2 in headless Chromium) ==');
    const engine = await runEngineBench({ queries: quick ? 20 : 40, gpuQueries: 20, log });
    out.engine = engine;
    for (const r of engine.stage2) {
      out.stage2_ms_per_query[`${r.backendUsed}${r.backendUsed !== r.backendAsked ? `(asked ${r.backendAsked})` : ''}/${r.grid}x${r.grid}x${r.c}/k${r.k}/${r.mode}`] = round(r.medianMs);
    }
    for (const r of engine.stage1) out.stage1_ms[`${r.galleryRows}x${r.dim}`] = round(r.medianMs);
    console.log(engineBenchTable(engine));
  }
  if (only.has('indexing')) {
    const images = quick ? 60 : 200;
    log(`== indexing ${images} lfw-dev images through the app ==`);
    const indexing = await runIndexingBench({ images });
    out.indexing = indexing;
    out.index_images_per_s[`app/${indexing.workers}-workers/${indexing.backend}`] = round(indexing.index_images_per_s);
    out.step_ms[`app/${indexing.backend}`] = Object.fromEntries(Object.entries(indexing.step_ms).map(([k, v]) => [k, round(v)]));
    console.log(
      `\nIndexing through the app (${indexing.images} images, ${indexing.workers} workers, ${indexing.backend}): ${indexing.index_images_per_s.toFixed(1)} images/s; per-step ms ${fmtSteps(indexing.step_ms)}; ${indexing.failed} not indexed; longest main-thread task while indexing ${indexing.longest_main_thread_task_ms.toFixed(0)} ms (${indexing.long_tasks_over_200ms} over 200 ms; after the browser built the FileList ${indexing.longest_task_after_change_ms.toFixed(0)} ms, ${indexing.long_tasks_over_200ms_after_change} over 200 ms)`,
    );
  }
  if (only.has('face')) {
    const limit = quick ? 100 : 300;
    log(`== face pipeline in Node (${limit} lfw-dev images, fresh timings) ==`);
    const face = await runFaceBench({ limit, useCache: false, log });
    out.face = face;
    const steps = face.msPerImage;
    out.step_ms['node/one-worker'] = Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, round(v)]));
    for (const [step, ms] of Object.entries(steps)) out.index_images_per_s[`node/one-worker/${step}`] = round(1000 / ms);
    if (face.throughput.measuredImagesPerSec !== null) out.index_images_per_s[`node/${face.workers}-workers/all-steps`] = round(face.throughput.measuredImagesPerSec);
    console.log(
      `\nFace pipeline in Node (${face.images} images): per-step ms ${fmtSteps(steps)}; ${face.throughput.perWorkerImagesPerSec.toFixed(1)} images/s per worker, ${face.throughput.measuredImagesPerSec?.toFixed(1) ?? '-'} images/s with ${face.workers} workers`,
    );
  }
  for (const part of ['scale', 'scale1m'] as const) {
    if (!only.has(part)) continue;
    log(part === 'scale' ? `== scale: ${quick ? '20,000' : '100,000'}-face gallery in OPFS ==` : '== scale1m: 1,000,000-face gallery in OPFS (cached in .cache/scale1m-profile) ==');
    const scale = part === 'scale' ? await runScaleBench({ faces: quick ? 20_000 : 100_000, log }) : await runScale1mBench({ log });
    out.scale = [...(out.scale ?? []), ...scale.scale];
    out.scale_runs = [...(out.scale_runs ?? []), scale];
    for (const e of scale.scale) {
      out.stage1_ms[`app/${e.faces}-faces/opfs-compact`] = e.stage1_ms;
      out.stage2_ms_per_query[`app/${e.faces}-faces/cpu/7x7x1024/k100/reference/incl-reads`] = e.stage2_ms;
    }
    console.log(`\n${scaleBenchTable(scale)}`);
  }
  if (only.has('ui-longtasks')) {
    log('== main-thread long tasks of the app page: model loading, a 5,000-file zip, a 20000 x 20000 PNG query ==');
    const ui = await runUiLongTasks({ log });
    out.ui_longtasks = ui;
    console.log(`\n${uiLongTasksTable(ui)}`);
  }

  const json = argValue(argv, 'json');
  console.log(`\n${JSON.stringify({ stage2_ms_per_query: report.stage2_ms_per_query, stage1_ms: report.stage1_ms, index_images_per_s: report.index_images_per_s }, null, 2)}`);
  if (json) {
    writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(`wrote ${json}`);
  }
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function fmtSteps(steps: Readonly<Record<string, number>>): string {
  return Object.entries(steps)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(', ');
}

main().catch((e: unknown) => {
  console.error(`bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  process.exit(1);
});

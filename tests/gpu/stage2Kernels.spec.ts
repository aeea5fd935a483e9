/**
 * WGSL vs CPU on the same batches: random features of several shapes and
 * 100 pairs of real 7x7x512 features from the default model on lfw-mini.
 * Every s_emd must agree within 1e-4.
 */
import { expect, test } from '@playwright/test';
import { computeRealFeatures, requireTestData, toBase64 } from './realFeatures.ts';
import type { Stage2Batch } from '../../src/engine/stage2Batch.ts';
import type { Comparison, RandomBatchSpec } from './pageHelpers.ts';

const TOLERANCE = 1e-4;

test.describe.configure({ mode: 'serial' });

function check(results: Comparison[]) {
  for (const r of results) {
    console.log(
      `${r.label}: pairs ${r.pairs}, max |delta s_emd| ${r.maxDelta.toExponential(2)}, GPU iters ${r.gpuIterations.join(',')} / CPU ${r.cpuIterations.join(',')}, GPU ${r.gpuMs.toFixed(0)} ms`,
    );
    expect(r.maxDelta, r.label).toBeLessThanOrEqual(TOLERANCE);
  }
}

test('random batches: both Sinkhorn modes, given / sc / sc-sim weights, grids 4x4 to 8x8, C 128 to 1024, k up to 500', async ({ page }) => {
  await page.goto('/tests/gpu/harness.html');
  const specs: (RandomBatchSpec & { label: string })[] = [
    { label: '7x7x512 signed, given weights, reference', seed: 1, grid: 7, c: 512, pairs: 100, rectified: false, weights: 'random', mode: 'reference', eps: 0.05, maxIter: 100 },
    { label: '7x7x512 signed, given weights, converged', seed: 2, grid: 7, c: 512, pairs: 100, rectified: false, weights: 'random', mode: 'converged', eps: 0.05, maxIter: 100 },
    { label: '7x7x512 rectified, sc, reference', seed: 3, grid: 7, c: 512, pairs: 100, rectified: true, weights: 'sc', mode: 'reference', eps: 0.05, maxIter: 100 },
    { label: '4x4x512 rectified, sc-sim, converged eps 0.01', seed: 4, grid: 4, c: 512, pairs: 100, rectified: true, weights: 'sc-sim', mode: 'converged', eps: 0.01, maxIter: 300 },
    { label: '8x8x128 signed, given weights, converged', seed: 5, grid: 8, c: 128, pairs: 60, rectified: false, weights: 'random', mode: 'converged', eps: 0.05, maxIter: 200 },
    { label: '8x8x256 rectified, given weights, reference', seed: 6, grid: 8, c: 256, pairs: 40, rectified: true, weights: 'random', mode: 'reference', eps: 0.05, maxIter: 100 },
    { label: '4x4x1024 rectified, sc, converged', seed: 7, grid: 4, c: 1024, pairs: 30, rectified: true, weights: 'sc', mode: 'converged', eps: 0.05, maxIter: 100 },
    { label: '2x2x128 signed, k = 500, reference', seed: 8, grid: 2, c: 128, pairs: 500, rectified: false, weights: 'random', mode: 'reference', eps: 0.05, maxIter: 100 },
  ];
  const results = await page.evaluate(async (all) => {
    // A path the page's Vite server resolves, typed as a plain string so that tsc does not look it up as a module.
    const pageHelpersUrl: string = '/tests/gpu/pageHelpers.ts';
    const h: typeof import('./pageHelpers.ts') = await import(pageHelpersUrl);
    const out = [];
    for (const s of all) out.push(await h.compare(s.label, h.randomBatch(s)));
    return out;
  }, specs);
  check(results);
});

test('100 pairs of real 7x7x512 features (default model, lfw-mini): APC and SC, both modes, native and 4x4', async ({ page }) => {
  requireTestData();
  const f = await computeRealFeatures(29);
  await page.goto('/tests/gpu/harness.html');
  const results = await page.evaluate(
    async ({ patches64, h, w, c }) => {
      // A path the page's Vite server resolves, typed as a plain string so that tsc does not look it up as a module.
      const pageHelpersUrl: string = '/tests/gpu/pageHelpers.ts';
      const hp: typeof import('./pageHelpers.ts') = await import(pageHelpersUrl);
      const patches = hp.decodeF32(patches64);
      // Four query faces, each against 25 others: one batch per query, as search sends them.
      const batches = (grid: number, weighting: 'apc' | 'sc', sinkhorn: Stage2Batch['sinkhorn']) => [0, 7, 14, 21].map((q) => hp.realBatch(patches, h, w, c, q, 25, grid, weighting, sinkhorn));
      const out = [];
      out.push(await hp.compareAll('real 7x7, APC, reference', batches(7, 'apc', { mode: 'reference', eps: 0.05, maxIter: 100 })));
      out.push(await hp.compareAll('real 7x7, APC, converged', batches(7, 'apc', { mode: 'converged', eps: 0.05, maxIter: 100 })));
      out.push(await hp.compareAll('real 7x7, SC, converged eps 0.005', batches(7, 'sc', { mode: 'converged', eps: 0.005, maxIter: 300 })));
      out.push(await hp.compareAll('real 4x4, APC, reference', batches(4, 'apc', { mode: 'reference', eps: 0.05, maxIter: 100 })));
      return out;
    },
    { patches64: toBase64(f.patches), h: f.h, w: f.w, c: f.c },
  );
  check(results);
  // The reference rule stops after very few rounds on real maps (the method doc measured 2).
  expect(Math.max(...results[0].cpuIterations)).toBeLessThanOrEqual(5);
});

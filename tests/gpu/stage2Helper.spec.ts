/**
 * Stage 2's helper worker through its real transport in Chromium: the worker
 * the app starts (comlink, the records' buffer transferred there and back) gives exactly the
 * s_emd the same scorer gives in the page, on the native grid and pooled; a
 * worker that cannot start fails the call with the client's message instead
 * of leaving it pending.
 */
import { expect, test } from '@playwright/test';

test('the helper worker scores a job exactly as the page does, and a missing worker fails the call', async ({ page }) => {
  await page.goto('/tests/gpu/harness.html');
  const r = await page.evaluate(async () => {
    // A path the page's Vite server resolves, typed as a plain string so that tsc does not look it up as a module.
    const pageHelpersUrl: string = '/tests/gpu/pageHelpers.ts';
    const h: typeof import('./pageHelpers.ts') = await import(pageHelpersUrl);
    return { native: await h.helperWorkerVsPage(3, 7, 30), pooled: await h.helperWorkerVsPage(4, 4, 17), broken: await h.brokenHelperWorker() };
  });
  for (const check of [r.native, r.pooled]) {
    expect(check.pairs).toBeGreaterThan(0);
    expect(check.identical).toBe(true);
    expect(check.transferred).toBe(true);
    expect(check.handedBack).toBe(true);
    expect(check.queryHandedBack).toBe(true);
    expect(check.firstSimilarity).toBeGreaterThan(0);
  }
  expect(r.native.pairs).toBe(30);
  expect(r.pooled.pairs).toBe(17);
  expect(r.broken).toMatch(/the stage-2 worker stopped/);
});

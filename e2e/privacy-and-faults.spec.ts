/**
 * Issue 7, items 3-4 through the real UI: no request leaves the page's own
 * origin after load (the whole session, models and wasm included), the CSP
 * forbids it anyway, and a damaged model file is named with a fix.
 */
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { mirroredJpeg, requireLfwMini } from './support/fixtures.ts';

test('a full session (load, index, query, flow view) requests nothing outside the app origin', async ({ page, baseURL }) => {
  test.setTimeout(240_000);
  if (!baseURL) throw new Error('the e2e projects in playwright.config.ts set baseURL');
  const origin = new URL(baseURL).origin;
  const foreign: string[] = [];
  const all: string[] = [];
  // Pages and workers alike: the context sees every request.
  page.context().on('request', (r) => {
    const url = r.url();
    all.push(url);
    if (!url.startsWith(origin) && !url.startsWith('blob:') && !url.startsWith('data:')) foreign.push(url);
  });
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
  await page.getByTestId('gallery-folder-input').setInputFiles(requireLfwMini());
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 170_000 });
  await page.getByTestId('query-input').setInputFiles({ name: 'q.jpg', mimeType: 'image/jpeg', buffer: mirroredJpeg(join(requireLfwMini(), 'Abdullah', 'Abdullah_0001.jpg')) });
  await expect(page.getByTestId('stage2-result')).toHaveCount(5, { timeout: 60_000 });
  await page.getByTestId('stage2-result').first().getByTestId('result-select').click();
  await expect(page.getByTestId('pair-view')).toBeVisible();
  expect(all.length).toBeGreaterThan(5);
  expect(foreign).toEqual([]);

  // The page's CSP refuses a connection elsewhere even if code tried one.
  const blocked = await page.evaluate(async () => {
    try {
      await fetch('http://example.invalid/x');
      return 'allowed';
    } catch (e) {
      return `blocked: ${(e as Error).message}`;
    }
  });
  expect(blocked).toMatch(/^blocked/);
  const csp = await page.locator('meta[http-equiv="Content-Security-Policy"]').getAttribute('content');
  expect(csp).toContain("connect-src 'self'");
});

test('a damaged model file is reported with its name and a fix, and nothing else breaks', async ({ page }) => {
  await page.context().route('**/models/mobilefacenet-arcface.onnx', async (route) => {
    const res = await route.fetch();
    const body = await res.body();
    body[1000] ^= 0xff;
    await route.fulfill({ response: res, body });
  });
  await page.goto('/?backend=wasm');
  const status = page.getByTestId('models-status');
  await expect(status).toContainText('models failed', { timeout: 60_000 });
  await expect(status).toContainText('models/mobilefacenet-arcface.onnx');
  await expect(status).toContainText('npm run models');
  // Several workers fetch the model; a handler still reading its body when the test ends must not fail it (Playwright: "Response has been disposed").
  await page.context().unrouteAll({ behavior: 'ignoreErrors' });
});

test('a missing model file is reported with its name and a fix', async ({ page }) => {
  await page.context().route('**/models/face-detector.onnx', (route) => route.fulfill({ status: 404, body: 'not found' }));
  await page.goto('/?backend=wasm');
  const status = page.getByTestId('models-status');
  await expect(status).toContainText('models failed', { timeout: 60_000 });
  await expect(status).toContainText('models/face-detector.onnx');
  await expect(status).toContainText('npm run models');
});

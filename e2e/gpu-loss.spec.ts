/**
 * A lost GPU through the real UI: the models run on WebGPU (SwiftShader here),
 * the extraction worker's WebGPU device is destroyed just before a query is
 * extracted (the engine's test hook, only with ?testHooks=1; a real
 * device.destroy(), as a driver reset loses it). A run on a lost device never
 * settles in Chromium, so the worker ends itself when its device is lost and
 * the pool retries the photo on a fresh worker at once: the query answers,
 * with its person first, long before the pool's per-image limit (set to 10
 * minutes here, so that limit cannot be what rescued it), and says why it
 * took longer.
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { dropFiles, lfwMiniFiles, mirroredJpeg, requireLfwMini, zipOf } from './support/fixtures.ts';

type Automation = {
  injectExtractFaults(rules: { kind: 'lose-gpu'; times: number }[], jobTimeoutMs?: number): Promise<void>;
  workerRestarts(): Promise<number>;
};

const QUERY_ID = 'Angela_Merkel';
const QUERY_FILE = 'Angela_Merkel_0002.jpg';

async function ready(page: Page) {
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 120_000 });
}

function automation(page: Page) {
  return {
    inject: (jobTimeoutMs: number) => page.evaluate((t) => (window as unknown as { __deepfaceEmd: Automation }).__deepfaceEmd.injectExtractFaults([{ kind: 'lose-gpu', times: 1 }], t), jobTimeoutMs),
    restarts: () => page.evaluate(() => (window as unknown as { __deepfaceEmd: Automation }).__deepfaceEmd.workerRestarts()),
  };
}

test('a GPU lost before a query: the worker is replaced at once, the query still finds its person and says what happened', async ({ page }, info) => {
  test.skip(!(info.project.metadata.webgpu as boolean), 'needs a WebGPU adapter');
  test.setTimeout(300_000);
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));
  // The gallery is indexed on WASM (ORT on SwiftShader is ~50x slower); it persists across the reload.
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().filter((f) => /^(Angela_Merkel|Abdullah|Abel_Pacheco)\//.test(f.path));
  await dropFiles(page, 'gallery-drop', [{ name: 'gallery.zip', bytes: zipOf(files), type: 'application/zip' }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 120_000 });

  await page.goto('/?backend=webgpu&testHooks=1');
  await ready(page);
  await expect(page.getByTestId('backend-in-use')).toHaveText('WebGPU');
  const hooks = automation(page);
  expect(await hooks.restarts()).toBe(0);
  await hooks.inject(600_000);
  const bytes = mirroredJpeg(join(requireLfwMini(), QUERY_ID, QUERY_FILE));
  await page.getByTestId('query-input').setInputFiles({ name: QUERY_FILE, mimeType: 'image/jpeg', buffer: bytes });
  await expect(page.getByTestId('stage2-result').first()).toContainText(QUERY_ID, { timeout: 180_000 });
  await expect(page.getByTestId('stage1-result').first()).toContainText(QUERY_ID);
  expect(await hooks.restarts()).toBeGreaterThanOrEqual(1);
  // The query says why it took longer.
  await expect(page.getByTestId('query-notice')).toContainText(/the GPU device was lost.*done again on a fresh worker/);
  await expect(page.getByTestId('query-identity')).toHaveText(QUERY_ID);
  expect(pageErrors).toEqual([]);
});

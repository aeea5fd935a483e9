/**
 * Issue 5 through the real UI: build a gallery from lfw-mini, query, read
 * both rankings, open the flow view, move the controls, reload, remove.
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { canvasSpread, dropFiles, faceless, lfwMiniFiles, mirroredJpeg, readRow, requireLfwMini, zipOf } from './support/fixtures.ts';

const QUERY_ID = 'Angela_Merkel';
const QUERY_FILE = 'Angela_Merkel_0002.jpg';

async function openApp(page: Page, webgpu: boolean) {
  // Features are extracted on WASM in both projects (ORT on SwiftShader WebGPU is ~50x slower);
  // the EMD kernel uses WebGPU whenever an adapter exists.
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
  void webgpu;
}

async function waitForImport(page: Page) {
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 170_000 });
}

async function queryWithMirrored(page: Page) {
  const bytes = mirroredJpeg(join(requireLfwMini(), QUERY_ID, QUERY_FILE));
  await page.getByTestId('query-input').setInputFiles({ name: QUERY_FILE, mimeType: 'image/jpeg', buffer: bytes });
  await expect(page.getByTestId('stage2-result')).toHaveCount(5, { timeout: 60_000 });
}

test('picker path: index lfw-mini, query, both rows, flow view, live controls, reload, remove', async ({ page }, info) => {
  test.setTimeout(300_000);
  const webgpu = info.project.metadata.webgpu as boolean;
  await openApp(page, webgpu);
  await page.getByTestId('gallery-folder-input').setInputFiles(requireLfwMini());
  await waitForImport(page);
  const total = lfwMiniFiles().length;
  const counts = await page.getByTestId('gallery-count').innerText();
  const indexed = Number(/^(\d+)/.exec(counts)?.[1]);
  expect(indexed).toBeGreaterThanOrEqual(total - 2);

  await queryWithMirrored(page);
  await expect(page.getByTestId('query-identity')).toHaveText(QUERY_ID);
  const s1 = await readRow(page, 1);
  const s2 = await readRow(page, 2);
  expect(s1).toHaveLength(5);
  for (const r of [...s1, ...s2]) expect(Number.isFinite(r.score)).toBe(true);
  expect(s1.map((r) => r.label)).toContain(QUERY_ID);
  expect(s2.map((r) => r.label)).toContain(QUERY_ID);
  expect(s2[0].move).toMatch(/^\d+ → \d+$/);
  // auto runs the EMD on the CPU both with no adapter and with SwiftShader's software adapter, and says why.
  await expect(page.getByTestId('status-emd-backend')).toHaveText('CPU');
  await expect(page.getByTestId('emd-fallback')).toContainText(webgpu ? 'software fallback' : /no WebGPU adapter|not available/);
  // With two cores the engine's helper worker scored half of the candidates (it says so, and nothing failed).
  if ((await page.evaluate(() => navigator.hardwareConcurrency)) >= 2) await expect(page.getByTestId('status-stage2-workers')).toContainText('2 workers');
  await expect(page.getByTestId('emd-fallback')).not.toContainText('second worker');
  await page.screenshot({ path: info.outputPath('results.png'), fullPage: true });

  // Flow and heatmaps of the top re-ranked pair.
  await page.getByTestId('stage2-result').first().getByTestId('result-select').click();
  await expect(page.getByTestId('pair-view')).toBeVisible();
  for (const id of ['pair-flow', 'pair-heat-query', 'pair-heat-gallery', 'pair-query', 'pair-gallery']) {
    await expect.poll(() => canvasSpread(page, id), { timeout: 20_000 }).toBeGreaterThan(5);
  }
  await page.getByTestId('pair-query').hover({ position: { x: 80, y: 70 } });
  await page.screenshot({ path: info.outputPath('flow.png'), fullPage: true });

  // Alpha re-blends: stage-2 scores change.
  const before = (await readRow(page, 2)).map((r) => r.score);
  await page.getByTestId('alpha').fill('0.3');
  await expect.poll(async () => (await readRow(page, 2)).map((r) => r.score).join()).not.toBe(before.join());
  // Grid re-pools: scores change again.
  const atAlpha = (await readRow(page, 2)).map((r) => r.score);
  await page.getByTestId('grid').selectOption('4');
  await expect.poll(async () => (await readRow(page, 2)).map((r) => r.score).join()).not.toBe(atAlpha.join());
  // The helper worker pools the coarser grid itself: still two workers, and no fallback.
  if ((await page.evaluate(() => navigator.hardwareConcurrency)) >= 2) await expect(page.getByTestId('status-stage2-workers')).toContainText('2 workers');
  await expect(page.getByTestId('emd-fallback')).not.toContainText('second worker');

  // The gallery survives a reload.
  await page.reload();
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
  await expect(page.getByTestId('gallery-count')).toHaveText(counts);

  // Removing an identity removes it from the results.
  await queryWithMirrored(page);
  await page.getByRole('button', { name: `remove ${QUERY_ID}` }).click();
  await expect(page.getByTestId('identity-list')).not.toContainText(QUERY_ID);
  await expect.poll(async () => (await readRow(page, 1)).map((r) => r.label)).not.toContain(QUERY_ID);
  expect((await readRow(page, 2)).map((r) => r.label)).not.toContain(QUERY_ID);
});

test('drag-and-drop a zip with bad files: each is listed with its reason, the rest is indexed', async ({ page }, info) => {
  test.setTimeout(300_000);
  await openApp(page, info.project.metadata.webgpu as boolean);
  const good = lfwMiniFiles().slice(0, 12);
  const truncated = good[0].bytes.slice(0, Math.floor(good[0].bytes.length / 3));
  const zip = zipOf([
    ...good.map((f) => ({ path: `people/${f.path}`, bytes: f.bytes })),
    { path: 'people/notes.txt', bytes: new TextEncoder().encode('not a face') },
    { path: 'people/Broken/Broken_0001.jpg', bytes: truncated },
    { path: 'people/Nobody/Nobody_0001.jpg', bytes: new Uint8Array(faceless()) },
  ]);
  await dropFiles(page, 'gallery-drop', [{ name: 'gallery.zip', bytes: zip, type: 'application/zip' }]);
  await waitForImport(page);
  const problems = page.getByTestId('import-problems');
  await expect(problems).toContainText('notes.txt');
  await expect(problems.locator('li', { hasText: 'Broken_0001.jpg' })).toHaveAttribute('data-code', /corrupt-image|not-an-image/);
  await expect(problems.locator('li', { hasText: 'Nobody_0001.jpg' })).toHaveAttribute('data-code', 'no-face');
  await expect(page.getByTestId('gallery-count')).toContainText(`${good.length} images`);
});

test('WebGPU and CPU EMD give the same top-5 and scores within 1e-4', async ({ page }, info) => {
  test.skip(!(info.project.metadata.webgpu as boolean), 'needs a WebGPU adapter');
  test.setTimeout(300_000);
  await openApp(page, true);
  await page.getByTestId('gallery-folder-input').setInputFiles(requireLfwMini());
  await waitForImport(page);
  await queryWithMirrored(page);
  await page.locator('details.advanced summary').click();
  await page.getByTestId('emd-backend').selectOption('webgpu');
  await expect(page.getByTestId('status-emd-backend')).toHaveText('WebGPU', { timeout: 60_000 });
  const gpu = await readRow(page, 2);
  await page.getByTestId('emd-backend').selectOption('cpu');
  await expect(page.getByTestId('status-emd-backend')).toHaveText('CPU');
  const cpu = await readRow(page, 2);
  expect(cpu.map((r) => r.label)).toEqual(gpu.map((r) => r.label));
  cpu.forEach((r, i) => expect(Math.abs(r.score - gpu[i].score)).toBeLessThanOrEqual(1e-4));
});

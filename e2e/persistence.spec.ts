/**
 * Issue 7, item 2: the gallery survives a browser restart (a persistent
 * profile), and an exported gallery file imported into an empty gallery gives
 * the same results without re-indexing.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type Page } from '@playwright/test';
import { dropFiles, lfwMiniFiles, mirroredJpeg, readRow, requireLfwMini, zipOf } from './support/fixtures.ts';

async function ready(page: Page) {
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
}

async function query(page: Page) {
  await page.getByTestId('query-input').setInputFiles({ name: 'Alec_Baldwin_0002.jpg', mimeType: 'image/jpeg', buffer: mirroredJpeg(join(requireLfwMini(), 'Alec_Baldwin', 'Alec_Baldwin_0002.jpg')) });
  await expect(page.getByTestId('stage2-result')).toHaveCount(5, { timeout: 60_000 });
  return readRow(page, 2);
}

test('the gallery survives a browser restart', async ({ baseURL }, info) => {
  test.setTimeout(240_000);
  const profile = mkdtempSync(join(tmpdir(), 'dfemd-profile-'));
  const launch = () => chromium.launchPersistentContext(profile, { ...info.project.use.launchOptions, baseURL });
  let ctx = await launch();
  let page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().filter((f) => /^(Alec_Baldwin|Abdullah|Ai_Sugiyama|Aaron_Tippin)\//.test(f.path));
  await dropFiles(page, 'gallery-drop', [{ name: 'g.zip', bytes: zipOf(files) }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 120_000 });
  const count = await page.getByTestId('gallery-count').innerText();
  const before = await query(page);
  await ctx.close();

  ctx = await launch();
  page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto('/?backend=wasm');
  await ready(page);
  await expect(page.getByTestId('gallery-count')).toHaveText(count);
  expect(await query(page)).toEqual(before);
  await ctx.close();
});

test('export the gallery to one file, clear, import it: same gallery, same results', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().filter((f) => /^(Alec_Baldwin|Abdullah|Ai_Sugiyama|Angela_Merkel)\//.test(f.path));
  await dropFiles(page, 'gallery-drop', [{ name: 'g.zip', bytes: zipOf(files) }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 120_000 });
  const count = await page.getByTestId('gallery-count').innerText();
  const before = await query(page);

  const download = page.waitForEvent('download');
  await page.getByTestId('gallery-export').click();
  const file = await (await download).path();

  page.on('dialog', (d) => void d.accept());
  await page.getByTestId('gallery-clear').click();
  await expect(page.getByTestId('gallery-count')).toHaveText(/^0 images/);

  await page.getByTestId('gallery-import-file').setInputFiles(file);
  await expect(page.getByTestId('gallery-notice')).toContainText(`${files.length} faces added`);
  await expect(page.getByTestId('gallery-count')).toHaveText(count);
  expect(await query(page)).toEqual(before);
});

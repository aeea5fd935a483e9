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
  // The same ranking; scores equal up to float32 rounding (the export holds the stored values dequantised, and
  // importing quantises them again: the same codes, a patch scale possibly one float32 step off).
  const after = await query(page);
  expect(after.map((r) => ({ ...r, score: 0 }))).toEqual(before.map((r) => ({ ...r, score: 0 })));
  after.forEach((r, i) => expect(Math.abs(r.score - before[i].score)).toBeLessThan(1e-5));
});

test('a reload mid-import says how far it got; dropping the same files again finishes it', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().slice(0, 24);
  const zip = { name: 'big.zip', bytes: zipOf(files) };
  await dropFiles(page, 'gallery-drop', [zip]);
  // Reload once a few images are indexed, with most still to go.
  await expect(page.getByTestId('import-counts')).toHaveText(/^([3-9]|1\d) \/ 24/, { timeout: 120_000 });
  await page.reload();
  await ready(page);
  const notice = page.getByTestId('gallery-notice');
  await expect(notice).toHaveText(/The last import stopped after (\d+) of 24 files .*Drop the folder again to finish/, { timeout: 30_000 });
  const done = Number(/after (\d+) of/.exec(await notice.innerText())?.[1]);
  expect(done).toBeGreaterThanOrEqual(3);
  expect(done).toBeLessThan(24);
  // Nothing finished was lost, and the second drop skips it.
  const kept = Number(
    await page
      .getByTestId('gallery-count')
      .innerText()
      .then((t) => /\d+/.exec(t)?.[0]),
  );
  expect(kept).toBeGreaterThanOrEqual(done - 3); // refused images count as done but add nothing
  await dropFiles(page, 'gallery-drop', [zip]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('import-counts')).toContainText(`${kept} duplicates skipped`);
  // Shown once: the next load has nothing to report.
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('gallery-count')).toBeVisible();
  await expect(page.getByTestId('gallery-notice')).toHaveCount(0);
});

/**
 * Issue 15, items 7-10 through the real UI: "use as query" on result cards
 * and gallery identities, a failed query marks the old results as the
 * previous query's, the flow view's hover box follows grid changes and
 * clears on leaving, and the weights and scores are explained.
 */
import { join } from 'node:path';
import { expect, test, type Page } from '@playwright/test';
import { dropFiles, faceless, lfwMiniFiles, mirroredJpeg, requireLfwMini, zipOf } from './support/fixtures.ts';

async function galleryAndQuery(page: Page) {
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
  const files = lfwMiniFiles().filter((f) => /^(Alec_Baldwin|Abdullah|Ai_Sugiyama|Angela_Merkel)\//.test(f.path));
  await dropFiles(page, 'gallery-drop', [{ name: 'g.zip', bytes: zipOf(files) }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 170_000 });
  const bytes = mirroredJpeg(join(requireLfwMini(), 'Angela_Merkel', 'Angela_Merkel_0002.jpg'));
  await page.getByTestId('query-input').setInputFiles({ name: 'Angela_Merkel_0002.jpg', mimeType: 'image/jpeg', buffer: bytes });
  await expect(page.getByTestId('stage2-result')).toHaveCount(5, { timeout: 60_000 });
}

test('use as query: a result card and a gallery identity become the query', async ({ page }) => {
  test.setTimeout(300_000);
  await galleryAndQuery(page);
  // The third stage-2 card: another person than the query, so the change is visible.
  const card = page.getByTestId('stage2-result').nth(2);
  const key = await card.getAttribute('data-key');
  const label = await card.getByTestId('result-label').innerText();
  await card.getByTestId('use-as-query').click();
  await expect(page.getByTestId('query-identity')).toHaveText(label);
  // A gallery face as the query finds itself first.
  await expect(page.getByTestId('stage1-result').first()).toHaveAttribute('data-key', key ?? '');
  const identity = page.getByTestId('identity').filter({ hasText: 'Abdullah' });
  await identity.getByTestId('identity-use-as-query').click();
  await expect(page.getByTestId('query-identity')).toHaveText('Abdullah');
  await expect(page.getByTestId('stage1-result').first().getByTestId('result-label')).toHaveText('Abdullah');
});

test('a failed query greys out the previous results and says whose they are; the next good query clears that', async ({ page }) => {
  test.setTimeout(300_000);
  await galleryAndQuery(page);
  await expect(page.getByTestId('results-stale')).toHaveCount(0);
  await page.getByTestId('query-input').setInputFiles({ name: 'wall.png', mimeType: 'image/png', buffer: faceless() });
  await expect(page.getByTestId('error-banner')).toContainText('wall.png');
  await expect(page.getByTestId('results-stale')).toContainText("previous query's results");
  await expect(page.getByTestId('results-stale')).toContainText('wall.png');
  await expect(page.getByTestId('results')).toHaveClass(/stale/);
  const bytes = mirroredJpeg(join(requireLfwMini(), 'Alec_Baldwin', 'Alec_Baldwin_0002.jpg'));
  await page.getByTestId('query-input').setInputFiles({ name: 'Alec_Baldwin_0002.jpg', mimeType: 'image/jpeg', buffer: bytes });
  await expect(page.getByTestId('query-identity')).toHaveText('Alec_Baldwin');
  await expect(page.getByTestId('results-stale')).toHaveCount(0);
  await expect(page.getByTestId('results')).not.toHaveClass(/stale/);
});

test('flow view: the hover box clears on leaving and never outlives a grid change; weights have a legend', async ({ page }) => {
  test.setTimeout(300_000);
  await galleryAndQuery(page);
  await page.getByTestId('stage2-result').first().getByTestId('result-select').click();
  const canvas = page.getByTestId('pair-query');
  await expect(canvas).toBeVisible({ timeout: 60_000 });
  const box = await canvas.boundingBox();
  if (!box) throw new Error('the query canvas has no box');
  // Bottom-right patch at 7x7 (hover() scrolls the canvas into view first).
  const bottomRight = { position: { x: box.width * 0.95, y: box.height * 0.95 } };
  await canvas.hover(bottomRight);
  await expect(page.getByTestId('hover-cell')).toHaveCount(1);
  await page.getByTestId('pair-summary').hover();
  await expect(page.getByTestId('hover-cell')).toHaveCount(0);
  await canvas.hover(bottomRight);
  await expect(page.getByTestId('hover-cell')).toHaveCount(1);
  const heightBefore = await page.evaluate(() => document.documentElement.scrollHeight);
  for (const grid of ['4', '1']) {
    await page.getByTestId('grid').selectOption(grid);
    await expect(page.getByTestId('pair-summary')).toContainText(`grid ${grid}×${grid}`, { timeout: 60_000 });
    await expect(page.getByTestId('hover-cell')).toHaveCount(0);
    expect(await page.evaluate(() => document.documentElement.scrollHeight)).toBeLessThanOrEqual(heightBefore + 50);
  }
  await expect(page.getByTestId('weight-legend')).toContainText('low weight');
  await expect(page.getByTestId('weight-legend')).toContainText('high weight');
  const gradient = await page
    .getByTestId('weight-legend')
    .locator('.colour-bar')
    .evaluate((el) => getComputedStyle(el).backgroundImage);
  expect(gradient).toContain('linear-gradient');
  await expect(page.getByTestId('score-help')).toContainText('s_emd');
  await page.getByTestId('pair-help').locator('summary').click();
  await expect(page.getByTestId('pair-help')).toContainText('marginal error');
});

test('unknown person: a stranger’s closest face is not presented as a match; a known face is', async ({ page }) => {
  test.setTimeout(300_000);
  await galleryAndQuery(page);
  await expect(page.getByTestId('unknown-person')).toHaveCount(0);
  // Aaron_Tippin is in lfw-mini but not in this gallery.
  const bytes = mirroredJpeg(join(requireLfwMini(), 'Aaron_Tippin', 'Aaron_Tippin_0001.jpg'));
  await page.getByTestId('query-input').setInputFiles({ name: 'stranger.jpg', mimeType: 'image/jpeg', buffer: bytes });
  await expect(page.getByTestId('query-view')).toContainText('stranger.jpg');
  const note = page.getByTestId('unknown-person');
  await expect(note).toBeVisible({ timeout: 60_000 });
  await expect(note).toContainText('not in the gallery');
  await expect(note).toHaveAttribute('data-verdict', /unknown/);
});

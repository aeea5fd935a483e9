/**
 * Issue 8 through the UI: the three recognizers are selectable; switching
 * loads the other model, keeps a separate gallery, and applies that
 * recognizer's native grid and alpha (src/models/recommended.ts).
 */
import { expect, test, type Page } from '@playwright/test';
import { lfwMiniFiles, zipOf, dropFiles } from './support/fixtures.ts';

async function ready(page: Page) {
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 90_000 });
}

test('switching recognizer: its own grid, alpha and gallery; switching back restores the first gallery', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/?backend=wasm');
  await ready(page);
  const picker = page.getByTestId('recognizer');
  await page.locator('details.advanced > summary').click();
  expect((await picker.locator('option').allTextContents()).length).toBe(3);
  await expect(page.getByTestId('grid')).toHaveValue('7');
  await expect(page.getByTestId('alpha-value')).toHaveText('0.70');

  const files = lfwMiniFiles().filter((f) => /^(Alec_Baldwin|Abdullah)\//.test(f.path));
  await dropFiles(page, 'gallery-drop', [{ name: 'g.zip', bytes: zipOf(files) }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 120_000 });
  // Every dropped file holds one clear face; the count can trail the "done" banner by a render, so wait for it.
  const first = `${files.length} images, 2 identities`;
  await expect(page.getByTestId('gallery-count')).toHaveText(first);

  await picker.selectOption('dlib-resnet');
  await ready(page);
  await expect(page.getByTestId('grid')).toHaveValue('8');
  await expect(page.getByTestId('alpha-value')).toHaveText('0.20');
  await expect(page.getByTestId('gallery-count')).toHaveText(/^0 images/);
  await expect(page.getByText(/dlib-resnet/).first()).toBeVisible();

  await page.getByTestId('recognizer').selectOption('faceres');
  await ready(page);
  await expect(page.getByTestId('grid')).toHaveValue('7');
  await expect(page.getByTestId('alpha-value')).toHaveText('0.70');

  await page.getByTestId('recognizer').selectOption('mobilefacenet-arcface');
  await ready(page);
  await expect(page.getByTestId('gallery-count')).toHaveText(first);
});

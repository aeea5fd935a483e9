/**
 * Recognizers and presets through the UI: the default fused pipeline and the
 * three recognizers are selectable; switching loads the other model(s),
 * keeps a separate gallery, and applies that recognizer's native grid and
 * alpha (src/models/recommended.ts). The results say which policy ranked
 * them and which alpha this query got; the paper preset switches to the
 * published method.
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
  expect(await picker.locator('option').allTextContents()).toEqual(['mfn-faceres', 'mobilefacenet-arcface', 'dlib-resnet', 'faceres']);
  await expect(picker).toHaveValue('mfn-faceres');
  await expect(page.getByTestId('grid')).toHaveValue('7');
  await expect(page.getByTestId('alpha-value')).toHaveText('auto (by damage kind)');
  await expect(page.getByTestId('preset')).toHaveValue('default');

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
  await expect(page.getByTestId('preset')).toHaveValue('custom');

  await page.getByTestId('recognizer').selectOption('faceres');
  await ready(page);
  await expect(page.getByTestId('grid')).toHaveValue('7');
  await expect(page.getByTestId('alpha-value')).toHaveText('0.70');

  await page.getByTestId('recognizer').selectOption('mfn-faceres');
  await ready(page);
  await expect(page.getByTestId('gallery-count')).toHaveText(first);
  await expect(page.getByTestId('alpha-value')).toHaveText('auto (by damage kind)');
  await expect(page.getByTestId('preset')).toHaveValue('default');
});

test('the results name the policy and the alpha this query got; the paper preset switches to the published method', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().filter((f) => /^(Alec_Baldwin|Abdullah|Angela_Merkel)\//.test(f.path));
  const [query, ...gallery] = files;
  await dropFiles(page, 'gallery-drop', [{ name: 'g.zip', bytes: zipOf(gallery) }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 120_000 });
  await page.getByTestId('query-input').setInputFiles({ name: query.path.split('/')[1], mimeType: 'image/jpeg', buffer: Buffer.from(query.bytes) });
  await expect(page.getByTestId('stage2-result')).not.toHaveCount(0, { timeout: 60_000 });
  const policy = page.getByTestId('ranking-policy');
  await expect(policy).toContainText('the default preset');
  // The reason names what the damage detector read in the query, and the alpha shown is the one the default gives that kind.
  const reason = page.getByTestId('alpha-reason');
  await expect(reason).toContainText(/the damage detector reads the query as (clean|cropped|masked|wearing sunglasses) \(p [01]\.\d\d\)/);
  const read = /reads the query as (clean|cropped|masked|wearing sunglasses)/.exec((await reason.textContent()) ?? '')?.[1];
  const byWord: Record<string, number> = { clean: 0, cropped: 0.8, masked: 0.6, 'wearing sunglasses': 0.6 };
  // A clean photo of a face: the detector is right on 99.6% of lfw-dev's held-out clean faces.
  expect(read).toBe('clean');
  await expect(page.getByTestId('query-alpha')).toHaveText(byWord[read ?? ''].toFixed(2));
  await expect(reason).not.toContainText('second recognizer');
  // The same photo with the app's mask drawn on: read as masked; every face was indexed with MobileFaceNet's embedding of the
  // upper face, so stage 2 weighs the part the mask leaves visible with the mask's alpha and cosine weight.
  await page.getByTestId('ood-select').selectOption('mask');
  await expect(reason).toContainText(
    /reads the query as masked \(p [01]\.\d\d\), so stage 2 blends the patch EMD \(alpha 0\.1\), the cosine of only the part the mask leaves visible \(weight 0\.8\) and the cosine with the second recognizer at weight 0\.6 \(stage 1's: 0\.4\)/,
    { timeout: 60_000 },
  );
  await expect(page.getByTestId('query-alpha')).toHaveText('0.10');
  await page.getByTestId('ood-select').selectOption('none');
  await expect(reason).toContainText('reads the query as clean', { timeout: 60_000 });

  // Turning the rule off: a fixed alpha, no reason, the policy becomes custom.
  await page.getByTestId('alpha-adaptive').uncheck();
  await expect(page.getByTestId('query-alpha')).toHaveText('0.70');
  await expect(page.getByTestId('alpha-reason')).toHaveCount(0);
  await expect(policy).toContainText('custom settings on mfn-faceres');

  await page.getByTestId('preset').selectOption('paper');
  await ready(page);
  await page.locator('details.advanced > summary').click();
  await expect(page.getByTestId('recognizer')).toHaveValue('mobilefacenet-arcface');
  await expect(page.getByTestId('alpha-value')).toHaveText('0.70');
  await expect(page.getByTestId('preset')).toHaveValue('paper');
  await expect(page.getByTestId('preset-summary')).toContainText('alpha 0.7');
});

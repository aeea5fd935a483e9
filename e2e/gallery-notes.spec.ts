/**
 * Issue 15, item 11 through the real UI: a labelled photo with a second real
 * face is indexed under its central face and listed with a note; a sign at
 * the edge that the detector took for a face no longer refuses the photo.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { dropFiles, sharedData, zipOf } from './support/fixtures.ts';

const lfwDev = join(sharedData, 'lfw-dev');
const photo = (id: string, n: number) => ({ path: `${id}/${id}_${String(n).padStart(4, '0')}.jpg`, bytes: new Uint8Array(readFileSync(join(lfwDev, id, `${id}_${String(n).padStart(4, '0')}.jpg`))) });

test('group photos in a labelled folder: the central face is indexed with a note; a detector false positive is ignored', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
  // Both were refused as "several faces" before: Whoopi_Goldberg_0001 has a second real face, Eddie_Murray_0001 a sign at its edge.
  await dropFiles(page, 'gallery-drop', [{ name: 'group.zip', bytes: zipOf([photo('Whoopi_Goldberg', 1), photo('Eddie_Murray', 1)]) }]);
  await expect(page.getByTestId('import-done')).toHaveText(/done: 2 added/, { timeout: 120_000 });
  const note = page.locator('li[data-code="several-faces-indexed-central"]');
  await expect(note).toHaveCount(1);
  await expect(note).toHaveAttribute('data-file', 'group/Whoopi_Goldberg/Whoopi_Goldberg_0001.jpg');
  await expect(note).toContainText('indexed the central one');
  await expect(page.locator('li[data-code="several-faces"]')).toHaveCount(0);
  await expect(page.getByTestId('gallery-count')).toContainText('2 images, 2 identities');
});

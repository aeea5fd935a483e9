import { expect, test } from '@playwright/test';

/** Issue 2: the shell reports "models ready", the backend in use and each model's load time. */
test('the page loads every model and says which backend runs them', async ({ page }, info) => {
  const webgpu = info.project.metadata.webgpu as boolean;
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // With --enable-unsafe-webgpu ask for WebGPU explicitly so this path is the one tested.
  await page.goto(webgpu ? '/?backend=webgpu' : '/');
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
  await expect(page.getByTestId('backend-in-use')).toHaveText(webgpu ? 'WebGPU' : 'WASM');
  for (const id of ['mobilefacenet-arcface', 'ultraface-detector', 'pfld-landmarks68']) {
    await expect(page.getByTestId(`model-${id}`)).toContainText(/\d+(\.\d+)? m?s/);
  }
  const text = await page.locator('.model-list').innerText();
  console.log(`[${info.project.name}] ${text.replace(/\n/g, '; ')}`);
  expect(errors).toEqual([]);
});

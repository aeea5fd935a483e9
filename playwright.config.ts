import { defineConfig } from '@playwright/test';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * A port nothing listens on now. Synchronous (a child process binds port 0),
 * because the config is plain module code; the result goes into the
 * environment, which Playwright's worker processes inherit, so they read the
 * same ports when they load this config again.
 */
function freePort(): string {
  const probe = "const s = require('node:net').createServer(); s.listen(0, '127.0.0.1', () => { process.stdout.write(String(s.address().port)); s.close(); });";
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8' });
  if (r.status !== 0 || !/^\d+$/.test(r.stdout)) throw new Error(`could not find a free port for the test servers: ${r.stderr}`);
  return r.stdout;
}
// Not Vite's defaults (5173, 4173): the tests must run while `npm start` is serving the app.
process.env.E2E_DEV_PORT ??= freePort();
while (process.env.E2E_PREVIEW_PORT === undefined || process.env.E2E_PREVIEW_PORT === process.env.E2E_DEV_PORT) process.env.E2E_PREVIEW_PORT = freePort();
const devUrl = `http://localhost:${process.env.E2E_DEV_PORT}`;
const previewUrl = `http://localhost:${process.env.E2E_PREVIEW_PORT}`;

const executablePath = process.env.CHROMIUM_PATH ?? ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p)) ?? '/usr/bin/chromium';

// Debian's chromium, never a downloaded browser. WebGPU without a GPU is SwiftShader behind one flag.
const webgpu = ['--enable-unsafe-webgpu'];
const common = ['--disable-gpu-sandbox', '--no-first-run', '--disable-component-update', '--disable-sync'];

export default defineConfig({
  timeout: 180_000,
  expect: { timeout: 60_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  outputDir: 'test-results/artifacts',
  use: { trace: 'off', screenshot: 'only-on-failure' },
  webServer: [
    // GPU-kernel tests import src/ modules through Vite's dev server.
    { command: `npx vite --port ${process.env.E2E_DEV_PORT} --strictPort`, url: `${devUrl}/tests/gpu/harness.html`, reuseExistingServer: !process.env.CI, timeout: 120_000 },
    // End-to-end tests run the production build, as a user gets it.
    { command: `npx vite build && npx vite preview --port ${process.env.E2E_PREVIEW_PORT} --strictPort`, url: previewUrl, reuseExistingServer: !process.env.CI, timeout: 300_000 },
  ],
  projects: [
    // Command-line tools that drive the app themselves (they start their own server and browser).
    { name: 'cli', testDir: 'tests/cli' },
    {
      name: 'gpu',
      testDir: 'tests/gpu',
      use: { baseURL: devUrl, launchOptions: { executablePath, args: [...common, ...webgpu] } },
    },
    {
      name: 'e2e-webgpu',
      testDir: 'e2e',
      use: { baseURL: previewUrl, launchOptions: { executablePath, args: [...common, ...webgpu] } },
      metadata: { webgpu: true },
    },
    {
      name: 'e2e-wasm',
      testDir: 'e2e',
      use: { baseURL: previewUrl, launchOptions: { executablePath, args: common } },
      metadata: { webgpu: false },
    },
  ],
});

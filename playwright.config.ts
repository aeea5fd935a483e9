import { defineConfig } from '@playwright/test';
import { existsSync } from 'node:fs';

const executablePath =
  process.env.CHROMIUM_PATH ?? ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p)) ?? '/usr/bin/chromium';

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
    { command: 'npx vite --port 5173 --strictPort', url: 'http://localhost:5173/tests/gpu/harness.html', reuseExistingServer: !process.env.CI, timeout: 120_000 },
    // End-to-end tests run the production build, as a user gets it.
    { command: 'npx vite build && npx vite preview --port 4173 --strictPort', url: 'http://localhost:4173', reuseExistingServer: !process.env.CI, timeout: 300_000 },
  ],
  projects: [
    // Command-line tools that drive the app themselves (they start their own server and browser).
    { name: 'cli', testDir: 'tests/cli' },
    {
      name: 'gpu',
      testDir: 'tests/gpu',
      use: { baseURL: 'http://localhost:5173', launchOptions: { executablePath, args: [...common, ...webgpu] } },
    },
    {
      name: 'e2e-webgpu',
      testDir: 'e2e',
      use: { baseURL: 'http://localhost:4173', launchOptions: { executablePath, args: [...common, ...webgpu] } },
      metadata: { webgpu: true },
    },
    {
      name: 'e2e-wasm',
      testDir: 'e2e',
      use: { baseURL: 'http://localhost:4173', launchOptions: { executablePath, args: common } },
      metadata: { webgpu: false },
    },
  ],
});

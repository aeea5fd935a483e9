/**
 * Transparent fallback: a device lost mid-batch, no adapter, and a batch the
 * GPU refuses all still answer the query with the CPU's numbers, and the
 * result says why. After a loss the next query gets a fresh device.
 */
import { expect, test } from '@playwright/test';

test.describe.configure({ mode: 'serial' });

test('a device lost mid-batch still returns the CPU answer, says why, and the next query uses a new device', async ({ page }) => {
  await page.goto('/tests/gpu/harness.html');
  const r = await page.evaluate(async () => {
    // Paths the page's Vite server resolves; typed as plain strings so that tsc does not look them up as modules.
    const gpuStage2Url: string = '/src/gpu/gpuStage2.ts';
    const { GpuStage2 }: typeof import('../../src/gpu/gpuStage2.ts') = await import(gpuStage2Url);
    const searchEngineUrl: string = '/src/engine/searchEngine.ts';
    const { SearchEngine }: typeof import('../../src/engine/searchEngine.ts') = await import(searchEngineUrl);
    const typesUrl: string = '/src/core/types.ts';
    const { DEFAULT_SETTINGS }: typeof import('../../src/core/types.ts') = await import(typesUrl);
    const randomUrl: string = '/src/core/random.ts';
    const { seededRandom }: typeof import('../../src/core/random.ts') = await import(randomUrl);
    // A small synthetic gallery (7x7x64): 30 faces of 10 identities.
    const rand = seededRandom(7);
    // 1 - rand() lies in (0, 1], so the logarithm stays finite.
    const gauss = () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    const face = (base: Float32Array, emb: Float32Array) => ({
      embedding: emb.map((x) => x + 0.5 * gauss()),
      patches: { h: 7, w: 7, c: 64, data: base.map((x) => Math.max(0, x + 0.5 * gauss())) },
      cropSize: 112,
    });
    const bases = Array.from({ length: 10 }, () => ({ p: Float32Array.from({ length: 49 * 64 }, () => Math.max(0, gauss())), e: Float32Array.from({ length: 64 }, gauss) }));
    const items = bases.flatMap((b, i) => [0, 1, 2].map((t) => ({ id: `f${i}_${t}`, label: `id${i}`, features: face(b.p, b.e) })));
    const query = face(bases[4].p, bases[4].e);
    const settings = { ...DEFAULT_SETTINGS, k: 20 };

    const cpuEngine = new SearchEngine({ accelerator: null });
    cpuEngine.add(items);
    const cpu = await cpuEngine.search(query, { ...settings, backend: 'cpu' });

    const gpu = new GpuStage2();
    const engine = new SearchEngine({ accelerator: gpu });
    engine.add(items);
    const healthy = await engine.search(query, { ...settings, backend: 'webgpu' });
    const firstDevice = gpu.device;
    gpu.testHooks.afterSubmit = (device) => device.destroy();
    const lost = await engine.search(query, { ...settings, backend: 'webgpu' });
    gpu.testHooks.afterSubmit = undefined;
    const after = await engine.search(query, { ...settings, backend: 'webgpu' });
    const sEmd = (x: typeof cpu) => x.stage2.map((h) => [h.id, h.sEmd] as const);
    return {
      cpu: sEmd(cpu),
      healthy: { backend: healthy.backendUsed, reason: healthy.fallbackReason, s: sEmd(healthy) },
      lost: { backend: lost.backendUsed, reason: lost.fallbackReason, s: sEmd(lost) },
      after: { backend: after.backendUsed, reason: after.fallbackReason, s: sEmd(after), newDevice: gpu.device !== null && gpu.device !== firstDevice },
    };
  });
  expect(r.healthy.backend).toBe('webgpu');
  expect(r.healthy.reason).toBeUndefined();
  expect(r.lost.backend).toBe('cpu');
  expect(r.lost.reason).toMatch(/lost/i);
  // The CPU answer exactly (same code path as the CPU-only engine).
  expect(r.lost.s).toEqual(r.cpu);
  expect(r.after.backend).toBe('webgpu');
  expect(r.after.newDevice).toBe(true);
  for (const [i, [id, s]] of r.healthy.s.entries()) {
    expect(id).toBe(r.cpu[i][0]);
    expect(Math.abs(s - r.cpu[i][1])).toBeLessThanOrEqual(1e-4);
  }
});

test('no adapter, and a batch the GPU cannot run, fall back to the CPU with a reason', async ({ page }) => {
  await page.goto('/tests/gpu/harness.html');
  const r = await page.evaluate(async () => {
    // Paths the page's Vite server resolves; typed as plain strings so that tsc does not look them up as modules.
    const gpuStage2Url: string = '/src/gpu/gpuStage2.ts';
    const { GpuStage2 }: typeof import('../../src/gpu/gpuStage2.ts') = await import(gpuStage2Url);
    const searchEngineUrl: string = '/src/engine/searchEngine.ts';
    const { SearchEngine }: typeof import('../../src/engine/searchEngine.ts') = await import(searchEngineUrl);
    const typesUrl: string = '/src/core/types.ts';
    const { DEFAULT_SETTINGS }: typeof import('../../src/core/types.ts') = await import(typesUrl);
    const randomUrl: string = '/src/core/random.ts';
    const { seededRandom }: typeof import('../../src/core/random.ts') = await import(randomUrl);
    const face = (seed: number) => {
      const rand = seededRandom(seed);
      return { embedding: Float32Array.from({ length: 32 }, () => rand() - 0.5), patches: { h: 4, w: 4, c: 32, data: Float32Array.from({ length: 512 }, rand) }, cropSize: 112 };
    };
    const items = Array.from({ length: 12 }, (_, i) => ({ id: `g${i}`, label: `l${i % 4}`, features: face(i + 1) }));
    const settings = { ...DEFAULT_SETTINGS, k: 8, grid: 4 };

    // Reference Sinkhorn at eps 0.01 underflows float32 on the GPU: refused, CPU answers.
    const engine = new SearchEngine({ accelerator: new GpuStage2() });
    engine.add(items);
    const refused = await engine.search(face(99), { ...settings, backend: 'webgpu', sinkhorn: { mode: 'reference', eps: 0.01, maxIter: 100 } });

    // No adapter at all.
    const gpuApi = navigator.gpu;
    const original = gpuApi.requestAdapter.bind(gpuApi);
    gpuApi.requestAdapter = async () => null;
    const noAdapter = new SearchEngine({ accelerator: new GpuStage2() });
    noAdapter.add(items);
    const none = await noAdapter.search(face(99), { ...settings, backend: 'auto' });
    gpuApi.requestAdapter = original;

    // The default constructor finds WebGPU on its own here; 'auto' declines SwiftShader's software adapter.
    const auto = new SearchEngine();
    auto.add(items);
    const automatic = await auto.search(face(99), { ...settings, backend: 'auto' });
    const forced = await auto.search(face(99), { ...settings, backend: 'webgpu' });
    return {
      refused: { backend: refused.backendUsed, reason: refused.fallbackReason },
      none: { backend: none.backendUsed, reason: none.fallbackReason, n: none.stage2.length },
      automatic: { backend: automatic.backendUsed, reason: automatic.fallbackReason },
      forced: forced.backendUsed,
    };
  });
  expect(r.refused.backend).toBe('cpu');
  expect(r.refused.reason).toMatch(/float32/);
  expect(r.none.backend).toBe('cpu');
  expect(r.none.reason).toMatch(/no WebGPU adapter/);
  expect(r.none.n).toBe(8);
  expect(r.automatic.backend).toBe('cpu');
  expect(r.automatic.reason).toMatch(/software fallback/);
  expect(r.forced).toBe('webgpu');
});

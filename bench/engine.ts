/**
 * Engine benchmark: stage 2 (k = 100; 7x7x512 and 4x4x512; CPU and WebGPU)
 * and stage 1 (10k and 100k x 512), median ms per query, measured in Debian's
 * Chromium (headless, --enable-unsafe-webgpu) against a Vite dev server this
 * script starts on port 5174 and stops at the end.
 *
 *   npx tsx bench/engine.ts [--json FILE] [--queries N] [--gpu-queries N]
 *
 * On a machine without a GPU, WebGPU is SwiftShader (a CPU emulation): its
 * numbers show the GPU path works, not how fast a GPU is.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Stage1Row, Stage2Row } from './enginePage.ts';

export interface EngineBenchOptions {
  /** Queries per stage-2 CPU row and per stage-1 row (>= 20). */
  readonly queries?: number;
  /** Queries per WebGPU row (>= 20; SwiftShader takes seconds each). */
  readonly gpuQueries?: number;
  readonly port?: number;
  readonly executablePath?: string;
  readonly log?: (line: string) => void;
}

export interface EngineBenchResult {
  readonly name: 'engine';
  readonly when: string;
  readonly machine: { readonly cpuModel: string; readonly cpuCount: number; readonly browser: string; readonly webgpuAdapter: string };
  readonly stage2: readonly Stage2Row[];
  readonly stage1: readonly Stage1Row[];
  readonly targets: {
    readonly stage2CpuMs7x7: { readonly limit: number; readonly measured: number | null; readonly met: boolean };
    readonly stage1Ms100k: { readonly limit: number; readonly measured: number | null; readonly met: boolean };
  };
  readonly notes: readonly string[];
}

const STAGE2_TARGET_MS = 40;
const STAGE1_TARGET_MS = 30;

async function waitForServer(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`the Vite dev server exited early (code ${child.exitCode}); is port busy?`);
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not up yet
    }
    await new Promise((res) => setTimeout(res, 250));
  }
  throw new Error(`the Vite dev server did not answer at ${url} within ${timeoutMs / 1000} s`);
}

function stopServer(child: ChildProcess): void {
  if (child.exitCode !== null || child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGTERM'); // the whole group: npx and vite
  } catch {
    child.kill('SIGTERM');
  }
}

export async function runEngineBench(opts: EngineBenchOptions = {}): Promise<EngineBenchResult> {
  const queries = Math.max(20, opts.queries ?? 20);
  const gpuQueries = Math.max(20, opts.gpuQueries ?? 20);
  const port = opts.port ?? 5174;
  const log = opts.log ?? ((line: string) => console.error(line));
  const base = `http://localhost:${port}`;
  const server = spawn('npx', ['vite', '--port', String(port), '--strictPort'], { stdio: 'ignore', detached: true });
  const browser = await (async () => {
    await waitForServer(`${base}/bench/engine.html`, server, 60_000);
    return chromium.launch({ executablePath: opts.executablePath ?? '/usr/lib/chromium/chromium', args: ['--enable-unsafe-webgpu'] });
  })().catch((e) => {
    stopServer(server);
    throw e;
  });
  try {
    const page = await browser.newPage();
    await page.goto(`${base}/bench/engine.html`);
    const bench = '/bench/enginePage.ts';
    const stage2: Stage2Row[] = [];
    const galleryFaces = 300;
    for (const grid of [7, 4]) {
      for (const backend of ['cpu', 'webgpu'] as const) {
        log(`stage 2: ${grid}x${grid}x512, k 100, ${backend} ...`);
        const n = backend === 'cpu' ? queries : gpuQueries;
        stage2.push(
          await page.evaluate(
            async ({ bench, o }) => {
              const m: typeof import('./enginePage.ts') = await import(bench);
              return m.benchStage2(o);
            },
            { bench, o: { grid, k: 100, mode: 'reference' as const, backend, queries: n, warmup: 2, galleryFaces } },
          ),
        );
      }
    }
    for (const k of [50, 200]) {
      log(`stage 2: 7x7x512, k ${k}, cpu ...`);
      stage2.push(
        await page.evaluate(
          async ({ bench, o }) => {
            const m: typeof import('./enginePage.ts') = await import(bench);
            return m.benchStage2(o);
          },
          { bench, o: { grid: 7, k, mode: 'reference' as const, backend: 'cpu' as const, queries, warmup: 2, galleryFaces } },
        ),
      );
    }
    log('stage 2: 7x7x512, k 100, converged, cpu ...');
    stage2.push(
      await page.evaluate(
        async ({ bench, o }) => {
          const m: typeof import('./enginePage.ts') = await import(bench);
          return m.benchStage2(o);
        },
        { bench, o: { grid: 7, k: 100, mode: 'converged' as const, backend: 'cpu' as const, queries, warmup: 2, galleryFaces } },
      ),
    );
    const stage1: Stage1Row[] = [];
    for (const rows of [10_000, 20_000, 100_000]) {
      log(`stage 1: ${rows} x 512 ...`);
      stage1.push(
        await page.evaluate(
          async ({ bench, o }) => {
            const m: typeof import('./enginePage.ts') = await import(bench);
            return m.benchStage1(o);
          },
          { bench, o: { rows, dim: 512, k: 100, queries, warmup: 3 } },
        ),
      );
    }
    const adapter = await page.evaluate(async (bench) => {
      const m: typeof import('./enginePage.ts') = await import(bench);
      return m.adapterDescription();
    }, bench);
    const cpu7 = stage2.find((r) => r.grid === 7 && r.backendUsed === 'cpu' && r.backendAsked === 'cpu' && r.mode === 'reference')?.medianMs ?? null;
    const s100k = stage1.find((r) => r.galleryRows === 100_000)?.medianMs ?? null;
    return {
      name: 'engine',
      when: new Date().toISOString(),
      machine: { cpuModel: cpus()[0]?.model ?? 'unknown', cpuCount: cpus().length, browser: `chromium ${browser.version()}`, webgpuAdapter: adapter },
      stage2,
      stage1,
      targets: {
        stage2CpuMs7x7: { limit: STAGE2_TARGET_MS, measured: cpu7, met: cpu7 !== null && cpu7 <= STAGE2_TARGET_MS },
        stage1Ms100k: { limit: STAGE1_TARGET_MS, measured: s100k, met: s100k !== null && s100k <= STAGE1_TARGET_MS },
      },
      notes: [
        'Stage 2 = SearchEngine timings.stage2Ms: weights, gathering the candidates, k cost matrices, Sinkhorn for k pairs, blend and re-sort.',
        `Synthetic gallery of ${galleryFaces} faces (rectified Gaussian 7x7x512 maps), APC weights, eps 0.05, maxIter 100.`,
        'WebGPU on a machine without a GPU is SwiftShader (CPU emulation): correctness only, not GPU speed.',
      ],
    };
  } finally {
    await browser.close();
    stopServer(server);
  }
}

export function engineBenchTable(r: EngineBenchResult): string {
  const lines = [
    `Engine benchmark (${r.machine.browser}, ${r.machine.cpuCount} x ${r.machine.cpuModel}; WebGPU adapter: ${r.machine.webgpuAdapter})`,
    '',
    '| stage | shape | k | Sinkhorn | backend | queries | median ms | p90 ms |',
    '|---|---|---|---|---|---|---|---|',
    ...r.stage2.map(
      (s) =>
        `| 2 | ${s.grid}x${s.grid}x${s.c} | ${s.k} | ${s.mode} | ${s.backendUsed}${s.backendUsed !== s.backendAsked ? ` (asked ${s.backendAsked}: ${s.fallbackReason ?? '?'})` : ''} | ${s.queries} | ${s.medianMs.toFixed(1)} | ${s.p90Ms.toFixed(1)} |`,
    ),
    ...r.stage1.map((s) => `| 1 | ${s.galleryRows.toLocaleString('en')} x ${s.dim} | 100 | - | cpu | ${s.queries} | ${s.medianMs.toFixed(1)} | ${s.p90Ms.toFixed(1)} |`),
    '',
    `Targets (CPU path in Chromium): stage 2 7x7x512 k=100 <= ${r.targets.stage2CpuMs7x7.limit} ms: ${r.targets.stage2CpuMs7x7.measured?.toFixed(1)} ms ${r.targets.stage2CpuMs7x7.met ? 'MET' : 'MISSED'}; stage 1 100k <= ${r.targets.stage1Ms100k.limit} ms: ${r.targets.stage1Ms100k.measured?.toFixed(1)} ms ${r.targets.stage1Ms100k.met ? 'MET' : 'MISSED'}.`,
  ];
  return lines.join('\n');
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const value = (flag: string) => {
    const i = args.indexOf(flag);
    return i >= 0 ? args[i + 1] : undefined;
  };
  const result = await runEngineBench({ queries: Number(value('--queries') ?? 20), gpuQueries: Number(value('--gpu-queries') ?? 20) });
  console.log(engineBenchTable(result));
  const json = value('--json');
  if (json) {
    writeFileSync(json, `${JSON.stringify(result, null, 2)}\n`);
    console.log(`\nwrote ${json}`);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((e) => {
    console.error(e);
    process.exit(1);
  });
}

/**
 * Shared by the command-line tools that drive the real app: builds it when
 * the build is missing or older than the sources, serves it with
 * `vite preview` on a free local port, and launches Debian's chromium.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

export const repoRoot = resolve(import.meta.dirname, '..');

export function chromiumPath(): string {
  const p = process.env.CHROMIUM_PATH ?? ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((x) => existsSync(x));
  if (!p) throw new Error('Chromium not found. Fix: `apt-get install chromium`, or set CHROMIUM_PATH.');
  return p;
}

function newestMtime(dir: string): number {
  let m = 0;
  for (const f of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, f.name);
    m = Math.max(m, f.isDirectory() ? newestMtime(p) : statSync(p).mtimeMs);
  }
  return m;
}

export function ensureBuilt(): void {
  const dist = join(repoRoot, 'dist/index.html');
  const sources = Math.max(
    ...['src', 'workers', 'public', 'index.html'].map((p) => {
      const full = join(repoRoot, p);
      return statSync(full).isDirectory() ? newestMtime(full) : statSync(full).mtimeMs;
    }),
  );
  if (existsSync(dist) && statSync(dist).mtimeMs >= sources) return;
  console.error('building the app (vite build)…');
  const r = spawnSync('npx', ['vite', 'build', '--logLevel', 'warn'], { cwd: repoRoot, stdio: 'inherit' });
  if (r.status !== 0) throw new Error('vite build failed');
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? res(a.port) : rej(new Error('no port'))));
    });
  });
}

export interface Served {
  readonly url: string;
  close(): void;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/**
 * Serves dist/ with `vite preview`. Browser storage belongs to an origin,
 * port included: callers that reuse a profile's IndexedDB between runs (the
 * eval's feature cache) must pass the same `port` every time.
 */
export async function servePreview(opts: { port?: number } = {}): Promise<Served> {
  ensureBuilt();
  if (opts.port !== undefined && !(await portIsFree(opts.port))) {
    throw new Error(`port ${opts.port} is busy; is another eval on the same gallery and model still running? (its cached gallery lives on that port's origin)`);
  }
  const port = opts.port ?? (await freePort());
  const child: ChildProcess = spawn('npx', ['vite', 'preview', '--port', String(port), '--strictPort', '--host', '127.0.0.1'], { cwd: repoRoot, stdio: 'ignore', detached: true });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`vite preview did not start on ${url}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return {
    url,
    close: () => {
      try {
        // The whole process group (npx and the server under it); without a pid there is only the child.
        if (child.pid === undefined) child.kill('SIGTERM');
        else process.kill(-child.pid, 'SIGTERM');
      } catch {
        child.kill('SIGTERM');
      }
    },
  };
}

export async function launchApp(opts: { profileDir?: string; webgpu?: boolean }): Promise<BrowserContext> {
  const args = ['--no-first-run', '--disable-component-update', '--disable-sync', ...(opts.webgpu ? ['--enable-unsafe-webgpu'] : [])];
  if (opts.profileDir) return chromium.launchPersistentContext(opts.profileDir, { executablePath: chromiumPath(), headless: true, args });
  const browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args });
  return browser.newContext();
}

/** `--json FILE`: writes `value` there as indented JSON and says so. */
export function writeJsonIfAsked(args: readonly string[], value: unknown): void {
  const json = argValue(args, 'json');
  if (!json) return;
  writeFileSync(json, JSON.stringify(value, null, 2) + '\n');
  console.log(`wrote ${json}`);
}

/** Runs a CLI's main when the file is the program, exiting 1 with one line naming the CLI on failure. */
export function runCliMain(name: string, moduleUrl: string, main: () => Promise<void>): void {
  if (moduleUrl !== `file://${process.argv[1]}`) return;
  main().catch((e: unknown) => {
    console.error(`${name} failed: ${e instanceof Error ? e.message : String(e)}`);
    process.exit(1);
  });
}

export function argValue(args: readonly string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  const eq = args.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

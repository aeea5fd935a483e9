/**
 * Loads the manifest and the models in a worker: the browser's side (files
 * fetched from /models, onnxruntime-web, the WebGPU probe) wired to the
 * loader and the choices in src/models.
 */
import type { ModelsStatus, OrtBackendChoice } from '../src/app/engineApi.ts';
import type { PlainNotice } from '../src/core/errors.ts';
import { sha256Hex } from '../src/core/hash.ts';
import { probeWebGpu } from '../src/gpu/adapter.ts';
import type { ModelManifest } from '../src/models/manifest.ts';
import { DEFAULT_RECOGNIZER_ID } from '../src/models/pipelines.ts';
import { chooseExecutionBackend, loadModel, readManifest, type ExecutionBackend, type LoadedModel, type ModelLoaderDeps } from '../src/models/loadModels.ts';
import { modelsToLoad, resolveRecognizer, selectableRecognizers } from '../src/models/recognizers.ts';
import { ort, ortFor } from './ortBrowser.ts';

async function fetchModelFile(name: string): Promise<Uint8Array> {
  const url = new URL(`/models/${name}`, self.location.origin);
  const attempt = async (init?: RequestInit) => {
    const res = await fetch(url, init);
    if (!res.ok) throw new Error(`HTTP ${res.status} for /models/${name}`);
    return new Uint8Array(await res.arrayBuffer());
  };
  try {
    return await attempt();
  } catch (first) {
    if (!(first instanceof TypeError)) throw first;
    // Each extraction worker loads the models at once; Chromium can fail the HTTP-cache write of
    // one of two concurrent 20 MB downloads (net::ERR_CACHE_WRITE_FAILURE, seen for dlib-resnet in
    // a fresh profile). Going past the cache gets the same file from the same origin.
    return attempt({ cache: 'no-store' }).catch(() => {
      throw first;
    });
  }
}

/** The loader's browser side with the default onnxruntime-web build (WebGPU, and WASM behind it). */
export const browserLoaderDeps: ModelLoaderDeps = { ort, readFile: fetchModelFile, sha256Hex };

/** The same with the build for models that run on `backend` (ortBrowser.ts). */
export async function loaderDepsFor(backend: ExecutionBackend): Promise<ModelLoaderDeps> {
  return { ...browserLoaderDeps, ort: await ortFor(backend) };
}

/** Models that moved from WebGPU to WASM since the last photo reported it (src/models/modelSession.ts). */
const modelNotices: PlainNotice[] = [];

/** The oldest such notice not yet handed to an import report, or undefined. */
export function takeModelNotice(): PlainNotice | undefined {
  return modelNotices.shift();
}

export interface LoadedModels {
  readonly manifest: ModelManifest;
  readonly byId: ReadonlyMap<string, LoadedModel>;
  readonly status: ModelsStatus;
}

export async function loadAllModels(choice: OrtBackendChoice, recognizerId?: string): Promise<LoadedModels> {
  const t0 = performance.now();
  const webgpu = await probeWebGpu();
  const { backend, note } = chooseExecutionBackend(choice, webgpu);
  let backendNote = note;
  const manifest = await readManifest(browserLoaderDeps);
  const active = resolveRecognizer(manifest, recognizerId ?? DEFAULT_RECOGNIZER_ID);
  const byId = new Map<string, LoadedModel>();
  const deps = await loaderDepsFor(backend);
  for (const entry of modelsToLoad(manifest, active)) {
    const loaded = await loadModel(deps, entry, backend, (notice) => modelNotices.push(notice));
    if (loaded.fallbackReason) backendNote = loaded.fallbackReason;
    byId.set(entry.id, loaded);
  }
  const models = [...byId.values()].map((m) => ({ id: m.entry.id, title: m.entry.title, role: m.entry.role, backend: m.backend, loadMs: m.loadMs }));
  const used = models.every((m) => m.backend === backend) ? backend : 'wasm';
  const recognizers = selectableRecognizers(manifest);
  return {
    manifest,
    byId,
    status: {
      backend: used,
      models,
      webgpu,
      backendNote,
      totalMs: performance.now() - t0,
      patchGrid: active.patchGrid,
      embeddingDim: active.embeddingDim,
      active: { id: active.id, title: active.title, ...(active.fusedCosine ? { fusedCosine: active.fusedCosine } : {}) },
      recognizers,
    },
  };
}

/**
 * Ends this worker when the WebGPU device its models run on is lost. In Chromium a run on a lost device never settles
 * and keeps onnxruntime-web's runtime busy ("Session already started" for every later run, a WASM session's too), so
 * nothing in this worker could run again; the photo would wait for the pool's per-image limit (60 s). An uncaught error
 * instead makes the pool start a fresh worker at once (a new device, or WASM where no GPU is left) and retry the photo
 * there (src/app/workerPool.ts). No-op when no model runs on WebGPU.
 */
export function restartOnGpuDeviceLoss(models: LoadedModels): void {
  if (typeof GPUDevice === 'undefined' || !models.status.models.some((m) => m.backend === 'webgpu')) return;
  // Once a WebGPU session exists, onnxruntime-web's env property holds the GPUDevice itself.
  const device = ort.env.webgpu.device as unknown;
  if (!(device instanceof GPUDevice)) return;
  void device.lost.then((info) => {
    setTimeout(() => {
      throw new Error(`the GPU device was lost (${info.message || info.reason || 'no reason given'}); this extraction worker restarts`);
    });
  });
}

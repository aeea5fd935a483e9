/**
 * Loads the manifest and the models in a worker, choosing the execution
 * backend: WebGPU when an adapter exists and the user did not force WASM.
 */
import { AppError } from '../src/core/errors.ts';
import type { ModelsStatus, OrtBackendChoice } from '../src/app/engineApi.ts';
import type { ModelManifest, PatchGridSpec } from '../src/models/manifest.ts';
import { DEFAULT_RECOGNIZER_ID, FUSED_PIPELINES, fusedPipeline } from '../src/models/pipelines.ts';
import { loadModel, readManifest, type LoadedModel, type ModelLoaderDeps, type ExecutionBackend } from '../src/models/loadModels.ts';
import { ort } from './ortBrowser.ts';
import { probeWebGpu } from './webgpuProbe.ts';

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

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

export const browserLoaderDeps: ModelLoaderDeps = { ort, readFile: fetchModelFile, sha256Hex };

export interface LoadedModels {
  readonly manifest: ModelManifest;
  readonly byId: ReadonlyMap<string, LoadedModel>;
  readonly status: ModelsStatus;
}

export async function loadAllModels(choice: OrtBackendChoice, recognizerId?: string): Promise<LoadedModels> {
  const t0 = performance.now();
  const webgpu = await probeWebGpu();
  let backend: ExecutionBackend;
  let backendNote: string | undefined;
  if (choice === 'webgpu') {
    if (!webgpu.available) {
      throw new AppError('no-webgpu', `WebGPU was requested but ${webgpu.description}`, 'Choose the WASM or auto backend, or start Chromium with WebGPU enabled (--enable-unsafe-webgpu on Linux).');
    }
    backend = 'webgpu';
  } else if (choice === 'wasm') {
    backend = 'wasm';
  } else if (webgpu.available && !webgpu.isFallbackAdapter) {
    backend = 'webgpu';
  } else if (webgpu.available) {
    // A software adapter (SwiftShader) runs these networks ~50x slower than WASM.
    backend = 'wasm';
    backendNote = `auto: ${webgpu.description} is a software adapter; using WASM (choose WebGPU to force it)`;
  } else {
    backend = 'wasm';
    backendNote = `auto: ${webgpu.description}; using WASM`;
  }
  const manifest = await readManifest(browserLoaderDeps);
  const active = resolveRecognizer(manifest, recognizerId ?? DEFAULT_RECOGNIZER_ID);
  const wanted = manifest.models.filter((m) => m.role !== 'recognizer' || active.modelIds.includes(m.id));
  const byId = new Map<string, LoadedModel>();
  for (const entry of wanted) {
    const loaded = await loadModel(browserLoaderDeps, entry, backend);
    if (loaded.fallbackReason) backendNote = loaded.fallbackReason;
    byId.set(entry.id, loaded);
  }
  const models = [...byId.values()].map((m) => ({ id: m.entry.id, title: m.entry.title, role: m.entry.role, backend: m.backend, loadMs: m.loadMs }));
  const used = models.every((m) => m.backend === backend) ? backend : 'wasm';
  const recognizers = [
    ...FUSED_PIPELINES.filter((p) => manifest.models.some((m) => m.id === p.primary) && manifest.models.some((m) => m.id === p.secondary)).map((p) => ({ id: p.id, title: p.title })),
    ...manifest.models.filter((m) => m.role === 'recognizer').map((m) => ({ id: m.id, title: m.title })),
  ];
  return {
    manifest,
    byId,
    status: { backend: used, models, webgpu, backendNote, totalMs: performance.now() - t0, patchGrid: active.patchGrid, embeddingDim: active.embeddingDim, active: { id: active.id, title: active.title }, recognizers },
  };
}

export interface ActiveRecognizer {
  readonly id: string;
  readonly title: string;
  /** Manifest recognizers it runs (one, or a fused pipeline's primary then secondary). */
  readonly modelIds: readonly string[];
  readonly patchGrid: PatchGridSpec;
  readonly embeddingDim: number;
}

/** A manifest recognizer or a fused pipeline (src/models/pipelines.ts), checked against the manifest. */
export function resolveRecognizer(manifest: ModelManifest, id: string): ActiveRecognizer {
  const recognizerIds = manifest.models.filter((m) => m.role === 'recognizer').map((m) => m.id);
  const entry = (rid: string) => manifest.models.find((m) => m.role === 'recognizer' && m.id === rid);
  const fused = fusedPipeline(id);
  const missing = (what: string) =>
    new AppError('model-missing', `no recognizer "${what}" in the manifest`, `Pick one of: ${[...FUSED_PIPELINES.map((p) => p.id), ...recognizerIds].join(', ')}; or rebuild with \`npm run models\`.`, { file: 'models/manifest.json' });
  if (fused) {
    const primary = entry(fused.primary);
    const secondary = entry(fused.secondary);
    if (!primary) throw missing(fused.primary);
    if (!secondary) throw missing(fused.secondary);
    return { id: fused.id, title: fused.title, modelIds: [primary.id, secondary.id], patchGrid: primary.patchGrids![0], embeddingDim: primary.embedding!.dim + secondary.embedding!.dim };
  }
  const single = entry(id);
  if (!single) throw missing(id);
  return { id, title: single.title, modelIds: [id], patchGrid: single.patchGrids![0], embeddingDim: single.embedding!.dim };
}

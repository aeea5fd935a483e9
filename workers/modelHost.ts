/**
 * Loads the manifest and the models in a worker, choosing the execution
 * backend: WebGPU when an adapter exists and the user did not force WASM.
 */
import { AppError } from '../src/core/errors.ts';
import type { ModelsStatus, OrtBackendChoice } from '../src/app/engineApi.ts';
import type { ModelManifest } from '../src/models/manifest.ts';
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
  const recognizer = recognizerId ?? manifest.models.find((m) => m.role === 'recognizer')?.id;
  if (!manifest.models.some((m) => m.role === 'recognizer' && m.id === recognizer)) {
    throw new AppError('model-missing', `no recognizer "${recognizer}" in the manifest`, `Pick one of: ${manifest.models.filter((m) => m.role === 'recognizer').map((m) => m.id).join(', ')}; or rebuild with \`npm run models\`.`, { file: 'models/manifest.json' });
  }
  const recEntry = manifest.models.find((m) => m.id === recognizer)!;
  const wanted = manifest.models.filter((m) => m.role !== 'recognizer' || m.id === recognizer);
  const byId = new Map<string, LoadedModel>();
  for (const entry of wanted) {
    const loaded = await loadModel(browserLoaderDeps, entry, backend);
    if (loaded.fallbackReason) backendNote = loaded.fallbackReason;
    byId.set(entry.id, loaded);
  }
  const models = [...byId.values()].map((m) => ({ id: m.entry.id, title: m.entry.title, role: m.entry.role, backend: m.backend, loadMs: m.loadMs }));
  const used = models.every((m) => m.backend === backend) ? backend : 'wasm';
  return { manifest, byId, status: { backend: used, models, webgpu, backendNote, totalMs: performance.now() - t0, patchGrid: recEntry.patchGrids![0], embeddingDim: recEntry.embedding!.dim, recognizers: manifest.models.filter((m) => m.role === 'recognizer').map((m) => ({ id: m.id, title: m.title })) } };
}

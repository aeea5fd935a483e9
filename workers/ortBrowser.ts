/**
 * onnxruntime-web as the workers use it. One thread per worker: the app runs
 * one extraction worker per core instead, which avoids ORT's helper threads
 * re-loading the bundled worker script (browser.md) and measured no slower.
 *
 * Two builds. The default one (`ort`) carries the WebGPU backend (JSEP), and
 * its WASM kernels pay for that: in Chromium on the 2-core VM, one worker,
 * the same models and inputs, the detector ran 23.5-26.1 ms a photo against
 * 10.5-11.5 for the WASM-only build, the landmarks 2.9-4.1 against 1.8-2.1,
 * MobileFaceNet 27-55 against 24-26 (FaceRes ~48 in both). So models that run
 * on WASM get the WASM-only build (`ortFor('wasm')`), and those on WebGPU the
 * default one, whose WASM backend still takes a model whose WebGPU run fails.
 * Both read the same input tensors (tests/gpu/modelsWebgpu.spec.ts).
 */
import * as ort from 'onnxruntime-web';
import type { ExecutionBackend } from '../src/models/loadModels.ts';

function configure(o: typeof ort): typeof ort {
  o.env.wasm.wasmPaths = new URL('/ort/', self.location.origin).href;
  o.env.wasm.numThreads = 1;
  o.env.wasm.proxy = false;
  o.env.logLevel = 'error';
  return o;
}

configure(ort);

let wasmOnly: Promise<typeof ort> | undefined;

/** The build for models that run on `backend`. */
export function ortFor(backend: ExecutionBackend): Promise<typeof ort> {
  if (backend === 'webgpu') return Promise.resolve(ort);
  wasmOnly ??= import('onnxruntime-web/wasm').then((m) => configure(m as unknown as typeof ort));
  return wasmOnly;
}

export { ort };

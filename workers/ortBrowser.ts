/**
 * onnxruntime-web as the workers use it. One thread per worker: the app runs
 * one extraction worker per core instead, which avoids ORT's helper threads
 * re-loading the bundled worker script (browser.md) and measured no slower.
 */
import * as ort from 'onnxruntime-web';

ort.env.wasm.wasmPaths = new URL('/ort/', self.location.origin).href;
ort.env.wasm.numThreads = 1;
ort.env.wasm.proxy = false;
ort.env.logLevel = 'error';

export { ort };

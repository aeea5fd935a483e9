import { defineConfig } from 'vite';

// Cross-origin isolation lets onnxruntime-web use threads (SharedArrayBuffer);
// the CSP makes the privacy promise enforceable: the page may fetch only its own origin.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  // ../shared is readable by the dev server so browser-tier tests can load real faces in place.
  server: { headers: isolation, port: 5173, strictPort: false, fs: { allow: ['.', '../shared'] } },
  preview: { headers: isolation, port: 4173 },
  worker: { format: 'es' },
  build: { target: 'es2022', chunkSizeWarningLimit: 2000 },
  optimizeDeps: {
    exclude: ['onnxruntime-web', 'onnxruntime-web/wasm'],
    // Scanned at start-up for the packages to pre-bundle. Left to index.html alone, the dev server found
    // the workers' and the GPU-kernel test pages' imports (crc-32, idb, ...) only when first loaded, then
    // re-bundled and reloaded the page under a running test (tests/gpu/opfsStore.spec.ts in a clean clone).
    entries: ['index.html', 'workers/*.worker.ts', 'tests/gpu/harness.html', 'tests/gpu/*Worker.ts', 'tests/gpu/pageHelpers.ts', 'tests/gpu/faceModules.ts'],
  },
  assetsInclude: ['**/*.onnx'],
});

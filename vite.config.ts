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
  optimizeDeps: { exclude: ['onnxruntime-web'] },
  assetsInclude: ['**/*.onnx'],
});

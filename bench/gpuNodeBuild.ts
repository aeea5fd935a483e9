/**
 * Bundles bench/gpuNode.ts into one Node script (.cache/gpuNode/gpuNode.mjs)
 * that needs no node_modules: onnxruntime-web resolves to the JSEP build the
 * app's browser bundle uses (its Node entry has no WebGPU), and the engine's
 * `?raw` WGSL imports load as text, as Vite loads them.
 */
import { build, type PluginBuild } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const rawText = {
  name: 'raw-text',
  setup(b: PluginBuild) {
    b.onResolve({ filter: /\?raw$/ }, (a) => ({ path: resolve(a.resolveDir, a.path.replace(/\?raw$/, '')), namespace: 'raw-text' }));
    b.onLoad({ filter: /.*/, namespace: 'raw-text' }, async (a) => ({ contents: await readFile(a.path, 'utf8'), loader: 'text' as const }));
  },
};

await build({
  entryPoints: [resolve(root, 'bench/gpuNode.ts')],
  outfile: resolve(root, '.cache/gpuNode/gpuNode.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  alias: { 'onnxruntime-web': resolve(root, 'node_modules/onnxruntime-web/dist/ort.min.mjs') },
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  plugins: [rawText],
  logLevel: 'warning',
});
console.log('wrote .cache/gpuNode/gpuNode.mjs');

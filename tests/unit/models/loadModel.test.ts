/**
 * loadModel with in-memory ports: which file it reads for which backend,
 * what it checks, and when it falls back to WASM. The onnxruntime stand-in
 * records what it was asked to create; sha256 is the real one.
 */
import { describe, expect, it } from 'vitest';
import type * as Ort from 'onnxruntime-web';
import { AppError, type PlainNotice } from '../../../src/core/errors.ts';
import { sha256Hex } from '../../../src/core/hash.ts';
import { loadModel, type ModelLoaderDeps } from '../../../src/models/loadModels.ts';
import type { ModelEntry } from '../../../src/models/manifest.ts';
import { parseManifest } from '../../../src/models/manifestSchema.ts';
import { manifestFixture } from './manifestFixture.ts';

const mainBytes = new TextEncoder().encode('main graph');
const webgpuBytes = new TextEncoder().encode('graph for webgpu');

async function entryWithWebgpuFile(): Promise<ModelEntry> {
  const m = manifestFixture();
  const e = m.models[0] as Record<string, unknown>;
  e.file = 'model.onnx';
  e.sha256 = await sha256Hex(mainBytes);
  e.webgpu = { file: 'model.webgpu.onnx', sha256: await sha256Hex(webgpuBytes), bytes: webgpuBytes.byteLength };
  return parseManifest(JSON.stringify(m)).models[0];
}

interface Created {
  readonly text: string;
  readonly backend: string;
}

/** `failOn`: the backend whose sessions cannot be created; `runFailsOn`: the one whose sessions are created but fail to run. */
function ports(files: Record<string, Uint8Array>, failOn: string | null = null, runFailsOn: string | null = null): { deps: ModelLoaderDeps; created: Created[] } {
  const created: Created[] = [];
  const ort = {
    InferenceSession: {
      create: (bytes: Uint8Array, options: { executionProviders: string[] }) => {
        const backend = options.executionProviders[0];
        if (backend === failOn) return Promise.reject(new Error(`no ${backend} adapter`));
        const text = new TextDecoder().decode(bytes);
        created.push({ text, backend });
        const run = () => (backend === runFailsOn ? Promise.reject(new Error('device lost')) : Promise.resolve({ out: { data: text } }));
        return Promise.resolve({ inputNames: ['input'], outputNames: ['out'], run } as unknown as Ort.InferenceSession);
      },
    },
  } as unknown as typeof Ort;
  const readFile = (name: string) => (files[name] ? Promise.resolve(files[name]) : Promise.reject(new Error(`404 ${name}`)));
  return { deps: { ort, readFile, sha256Hex }, created };
}

describe('loadModel', () => {
  it('on WebGPU reads the WebGPU file, on WASM the main file', async () => {
    const entry = await entryWithWebgpuFile();
    const files = { 'model.onnx': mainBytes, 'model.webgpu.onnx': webgpuBytes };
    const gpu = ports(files);
    expect((await loadModel(gpu.deps, entry, 'webgpu')).backend).toBe('webgpu');
    expect(gpu.created).toEqual([{ text: 'graph for webgpu', backend: 'webgpu' }]);
    const wasm = ports(files);
    expect((await loadModel(wasm.deps, entry, 'wasm')).backend).toBe('wasm');
    expect(wasm.created).toEqual([{ text: 'main graph', backend: 'wasm' }]);
  });

  it('a model without a WebGPU file runs its main file on WebGPU', async () => {
    const entry = await entryWithWebgpuFile();
    const { webgpu: _dropped, ...plain } = entry;
    const p = ports({ 'model.onnx': mainBytes });
    await loadModel(p.deps, plain, 'webgpu');
    expect(p.created).toEqual([{ text: 'main graph', backend: 'webgpu' }]);
  });

  it('a WebGPU session that fails falls back to the main file on WASM and says why', async () => {
    const entry = await entryWithWebgpuFile();
    const p = ports({ 'model.onnx': mainBytes, 'model.webgpu.onnx': webgpuBytes }, 'webgpu');
    const loaded = await loadModel(p.deps, entry, 'webgpu');
    expect(loaded.backend).toBe('wasm');
    expect(loaded.fallbackReason).toMatch(/WebGPU session failed \(no webgpu adapter\); using WASM/);
    expect(p.created).toEqual([{ text: 'main graph', backend: 'wasm' }]);
  });

  it('a WebGPU session whose run fails answers from the main file on WASM and hands on one notice', async () => {
    const entry = await entryWithWebgpuFile();
    const p = ports({ 'model.onnx': mainBytes, 'model.webgpu.onnx': webgpuBytes }, null, 'webgpu');
    const notices: PlainNotice[] = [];
    const loaded = await loadModel(p.deps, entry, 'webgpu', (n) => notices.push(n));
    expect(loaded.backend).toBe('webgpu');
    const out = await loaded.session.run({});
    expect((out.out as unknown as { data: string }).data).toBe('main graph');
    expect(p.created).toEqual([
      { text: 'graph for webgpu', backend: 'webgpu' },
      { text: 'main graph', backend: 'wasm' },
    ]);
    expect(notices.map((n) => n.code)).toEqual(['webgpu-run-failed']);
  });

  it('a damaged WebGPU file is a checksum error naming that file, not a silent fallback', async () => {
    const entry = await entryWithWebgpuFile();
    const p = ports({ 'model.onnx': mainBytes, 'model.webgpu.onnx': new TextEncoder().encode('graph for webgpX') });
    const err = await loadModel(p.deps, entry, 'webgpu').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('model-checksum');
    expect((err as AppError).file).toBe('models/model.webgpu.onnx');
    expect((err as AppError).hint).toMatch(/npm run models/);
    expect(p.created).toEqual([]);
  });

  it('a missing WebGPU file is model-missing naming that file', async () => {
    const entry = await entryWithWebgpuFile();
    const p = ports({ 'model.onnx': mainBytes });
    const err = await loadModel(p.deps, entry, 'webgpu').catch((e: unknown) => e);
    expect((err as AppError).code).toBe('model-missing');
    expect((err as AppError).file).toBe('models/model.webgpu.onnx');
  });
});

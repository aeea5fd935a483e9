import { describe, expect, it } from 'vitest';
import type { ModelsStatus } from '../../../src/app/engineApi.ts';
import { MODEL_MOVE_CODE, statusAfterModelMoves } from '../../../src/app/modelMoves.ts';

const status: ModelsStatus = {
  backend: 'webgpu',
  models: [
    { id: 'ultraface-detector', title: 'detector', role: 'detector', backend: 'webgpu', loadMs: 5 },
    { id: 'pfld-landmarks68', title: 'landmarks', role: 'landmarks', backend: 'webgpu', loadMs: 5 },
    { id: 'faceres', title: 'FaceRes', role: 'recognizer', backend: 'webgpu', loadMs: 5 },
  ],
  webgpu: { available: true, isFallbackAdapter: false, description: 'test adapter' },
  totalMs: 20,
  patchGrid: { h: 7, w: 7, c: 1024 },
  embeddingDim: 1024,
  active: { id: 'faceres', title: 'FaceRes' },
  recognizers: [],
};

// The message as src/models/modelSession.ts words it.
const move = (id: string) => ({ code: MODEL_MOVE_CODE, message: `the ${id} model failed on WebGPU (device lost); it runs on WASM from now on` });

describe('statusAfterModelMoves', () => {
  it('a move makes the backend in use WASM, names why, and marks the model it names', () => {
    const after = statusAfterModelMoves(status, [{ code: 'duplicate-image', message: 'x' }, move('ultraface-detector')]);
    expect(after.backend).toBe('wasm');
    expect(after.backendNote).toBe(move('ultraface-detector').message);
    expect(after.models.map((m) => m.backend)).toEqual(['wasm', 'webgpu', 'webgpu']);
    // a second model's move, later: both marked, the note is the newest
    const later = statusAfterModelMoves(after, [move('faceres')]);
    expect(later.models.map((m) => m.backend)).toEqual(['wasm', 'webgpu', 'wasm']);
    expect(later.backendNote).toMatch(/the faceres model/);
  });

  it('leaves the status as it is (the same object) without a move, or when it already says all of it', () => {
    expect(statusAfterModelMoves(status, [])).toBe(status);
    expect(statusAfterModelMoves(status, [{ code: 'several-faces-indexed-central', message: 'the faceres model ' }])).toBe(status);
    const after = statusAfterModelMoves(status, [move('faceres')]);
    expect(statusAfterModelMoves(after, [move('faceres')])).toBe(after);
  });

  it('a move naming no listed model still changes the backend in use, not the models', () => {
    const after = statusAfterModelMoves(status, [move('some-other-model')]);
    expect(after.backend).toBe('wasm');
    expect(after.models).toEqual(status.models);
  });
});

import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { chooseExecutionBackend, loadedModel, loadedModelOfRole, type LoadedModel } from '../../../src/models/loadModels.ts';
import type { ModelEntry, ModelManifest } from '../../../src/models/manifest.ts';
import { parseManifest } from '../../../src/models/manifestSchema.ts';
import { FUSED_PIPELINES } from '../../../src/models/pipelines.ts';
import { asRecognizerEntry, modelsToLoad, nativePatchGrid, recognizerEntries, recognizerEntry, resolveRecognizer, selectableRecognizers } from '../../../src/models/recognizers.ts';
import { manifestFixture } from './manifestFixture.ts';

const manifest = (): ModelManifest => parseManifest(JSON.stringify(manifestFixture()));
const withoutModel = (id: string): ModelManifest => {
  const m = manifestFixture();
  return parseManifest(JSON.stringify({ ...m, models: m.models.filter((e) => e.id !== id) }));
};

/** The fixture's entry `id`, looked up here so the tests do not lean on the lookups they test. */
function entryById(m: ModelManifest, id: string): ModelEntry {
  const entry = m.models.find((e) => e.id === id);
  if (!entry) throw new Error(`the fixture has no ${id}`);
  return entry;
}

function appError(run: () => unknown): AppError {
  try {
    run();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('no error');
}

describe('recognizer lookups', () => {
  it('finds a recognizer with its embedding and native (first) patch grid', () => {
    const mfn = recognizerEntry(manifest(), 'mobilefacenet-arcface');
    expect(mfn.embedding.dim).toBe(512);
    expect(nativePatchGrid(mfn)).toEqual({ output: '507', h: 7, w: 7, c: 512 });
    expect(recognizerEntries(manifest()).map((m) => m.id)).toEqual(['faceres', 'mobilefacenet-arcface']);
  });

  it('a missing id, or a model that is not a recognizer, is model-missing with the choices in the hint', () => {
    for (const id of ['nope', 'ultraface-detector']) {
      const e = appError(() => recognizerEntry(manifest(), id));
      expect(e.code).toBe('model-missing');
      expect(e.message).toContain(`"${id}"`);
      expect(e.hint).toContain('mfn-faceres, faceres, mobilefacenet-arcface');
    }
  });

  it('asRecognizerEntry refuses a detector with a typed error', () => {
    expect(appError(() => asRecognizerEntry(entryById(manifest(), 'ultraface-detector'))).code).toBe('model-load-failed');
  });
});

describe('resolveRecognizer', () => {
  it('a single recognizer: its own grid and embedding size', () => {
    expect(resolveRecognizer(manifest(), 'faceres')).toEqual({ id: 'faceres', title: 'FaceRes', modelIds: ['faceres'], patchGrid: { output: 'patches', h: 7, w: 7, c: 1024 }, embeddingDim: 1024 });
  });

  it("the fused pipeline: the primary's grid, the two embedding sizes added, primary first", () => {
    const pipeline = FUSED_PIPELINES[0];
    const r = resolveRecognizer(manifest(), pipeline.id);
    expect(r.modelIds).toEqual([pipeline.primary, pipeline.secondary]);
    // faceres (1024) + mobilefacenet-arcface (512) in the fixture.
    expect(r.embeddingDim).toBe(1536);
    expect(r.patchGrid).toEqual({ output: 'patches', h: 7, w: 7, c: 1024 });
    // The fused vector holds the secondary's 512 dimensions first, at the pipeline's weight.
    expect(r.fusedCosine).toEqual({ secondaryDims: 512, secondaryWeight: pipeline.secondaryWeight });
    expect(resolveRecognizer(manifest(), 'faceres').fusedCosine).toBeUndefined();
  });

  it('a fused pipeline whose secondary is not built is model-missing naming the secondary', () => {
    const e = appError(() => resolveRecognizer(withoutModel('mobilefacenet-arcface'), 'mfn-faceres'));
    expect(e.code).toBe('model-missing');
    expect(e.message).toContain('"mobilefacenet-arcface"');
  });

  it('loads the detector, the landmarks and only the recognizers the choice runs', () => {
    const m = manifest();
    expect(modelsToLoad(m, resolveRecognizer(m, 'faceres')).map((e) => e.id)).toEqual(['faceres', 'ultraface-detector', 'pfld-landmarks68']);
    expect(modelsToLoad(m, resolveRecognizer(m, 'mfn-faceres')).map((e) => e.id)).toEqual(['faceres', 'mobilefacenet-arcface', 'ultraface-detector', 'pfld-landmarks68']);
  });

  it('the picker lists the fused pipeline only when both its recognizers are built', () => {
    expect(selectableRecognizers(manifest()).map((r) => r.id)).toEqual(['mfn-faceres', 'faceres', 'mobilefacenet-arcface']);
    expect(selectableRecognizers(withoutModel('faceres')).map((r) => r.id)).toEqual(['mobilefacenet-arcface']);
  });
});

describe('loaded models', () => {
  const m = manifest();
  const fake = (id: string) => ({ entry: entryById(m, id), session: {}, backend: 'wasm', loadMs: 1 }) as unknown as LoadedModel;
  const loaded = new Map([
    ['faceres', fake('faceres')],
    ['ultraface-detector', fake('ultraface-detector')],
  ]);

  it('by id and by role, or model-missing', () => {
    expect(loadedModel(loaded, 'faceres').entry.id).toBe('faceres');
    expect(loadedModelOfRole(loaded, 'detector').entry.id).toBe('ultraface-detector');
    expect(appError(() => loadedModel(loaded, 'mobilefacenet-arcface')).code).toBe('model-missing');
    expect(appError(() => loadedModelOfRole(loaded, 'landmarks')).message).toContain('no landmarks model');
  });
});

describe('chooseExecutionBackend', () => {
  const hardware = { available: true, isFallbackAdapter: false, description: 'nvidia / hopper' };
  const software = { available: true, isFallbackAdapter: true, description: 'google / swiftshader' };
  const none = { available: false, isFallbackAdapter: false, description: 'no WebGPU adapter is available' };

  it('auto takes a hardware adapter, and WASM on a software adapter or none, saying why', () => {
    expect(chooseExecutionBackend('auto', hardware)).toEqual({ backend: 'webgpu' });
    const onSoftware = chooseExecutionBackend('auto', software);
    expect(onSoftware.backend).toBe('wasm');
    expect(onSoftware.note).toMatch(/google \/ swiftshader is a software fallback adapter/);
    expect(chooseExecutionBackend('auto', none)).toEqual({ backend: 'wasm', note: 'auto: no WebGPU adapter is available; using WASM' });
  });

  it('a named backend is obeyed, software adapter or not; WebGPU named but absent is no-webgpu', () => {
    expect(chooseExecutionBackend('webgpu', software)).toEqual({ backend: 'webgpu' });
    expect(chooseExecutionBackend('wasm', hardware)).toEqual({ backend: 'wasm' });
    expect(appError(() => chooseExecutionBackend('webgpu', none)).code).toBe('no-webgpu');
  });
});

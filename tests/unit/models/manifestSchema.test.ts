import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { readManifest, type ModelLoaderDeps } from '../../../src/models/loadModels.ts';
import { parseManifest } from '../../../src/models/manifestSchema.ts';
import { manifestFixture } from './manifestFixture.ts';

type Key = string | number;

/** The fixture as JSON with the field at `path` set to `value` (removed when undefined). */
function withField(path: readonly Key[], value: unknown): string {
  const root: unknown = manifestFixture();
  let node = root as Record<Key, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<Key, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return JSON.stringify(root);
}

function failure(text: string): AppError {
  try {
    parseManifest(text);
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('the manifest was accepted');
}

describe('parseManifest', () => {
  it('accepts the manifest `npm run models` built', () => {
    const path = resolve('public/models/manifest.json');
    if (!existsSync(path)) throw new Error(`${path} is missing: run npm run models`);
    const manifest = parseManifest(readFileSync(path, 'utf8'), path);
    expect(manifest.schema).toBe(1);
    expect(manifest.models.map((m) => m.role)).toEqual(expect.arrayContaining(['recognizer', 'detector', 'landmarks']));
  });

  it('accepts a hand-written manifest and keeps its values', () => {
    const manifest = parseManifest(JSON.stringify(manifestFixture()));
    expect(manifest.models.map((m) => m.id)).toEqual(['faceres', 'mobilefacenet-arcface', 'ultraface-detector', 'pfld-landmarks68']);
    expect(manifest.models[1].patchGrids).toEqual([
      { output: '507', h: 7, w: 7, c: 512 },
      { output: 'pooled', h: 4, w: 4, c: 512 },
    ]);
  });

  it('fails with a typed error naming the file, the field and the value', () => {
    const e = failure(withField(['models', 0, 'patchGrids', 0, 'h'], '7'));
    expect(e.code).toBe('model-load-failed');
    expect(e.file).toBe('models/manifest.json');
    expect(e.message).toContain('models[0].patchGrids[0].h is "7"');
    expect(e.hint).toMatch(/npm run models/);
  });

  it('names a missing field', () => {
    expect(failure(withField(['models', 2, 'sha256'], undefined)).message).toContain('models[2].sha256 is missing');
    expect(failure(withField(['models', 3, 'normalisation', 'std'], undefined)).message).toContain('models[3].normalisation.std is missing');
  });

  it.each([
    ['a negative grid side', ['models', 0, 'patchGrids', 0, 'h'], -7, 'models[0].patchGrids[0].h is -7'],
    ['an absurd channel count', ['models', 1, 'patchGrids', 1, 'c'], 1e9, 'models[1].patchGrids[1].c is 1000000000'],
    ['a fractional grid side', ['models', 0, 'patchGrids', 0, 'w'], 6.5, 'models[0].patchGrids[0].w is 6.5'],
    ['a zero embedding size', ['models', 1, 'embedding', 'dim'], 0, 'models[1].embedding.dim is 0'],
    ['a negative input dimension', ['models', 0, 'input', 'shape', 2], -5, 'models[0].input.shape[2] is -5'],
    ['a zero standard deviation', ['models', 3, 'normalisation', 'std', 0], 0, 'models[3].normalisation.std[0] is 0'],
    ['an unknown role', ['models', 2, 'role'], 'classifier', 'models[2].role is "classifier"'],
    ['a file outside the models folder', ['models', 0, 'file'], '../secrets.onnx', 'models[0].file is "../secrets.onnx"'],
    ['a checksum that is not sha256 hex', ['models', 1, 'sha256'], 'abc', 'models[1].sha256 is "abc"'],
    ['a newer format', ['schema'], 2, 'schema is 2'],
  ] as const)('refuses %s, naming it', (_what, path, value, expected) => {
    expect(failure(withField(path, value)).message).toContain(expected);
  });

  it('refuses a recognizer without an embedding or without patch grids', () => {
    expect(failure(withField(['models', 0, 'embedding'], undefined)).message).toContain('models[0] is the entry with id "faceres" (a recognizer needs an embedding and at least one patch grid)');
    expect(failure(withField(['models', 1, 'patchGrids'], [])).message).toMatch(/models\[1\] .*a recognizer needs/);
  });

  it('refuses a model id listed twice, and an empty model list', () => {
    expect(failure(withField(['models', 1, 'id'], 'faceres')).message).toContain('lists model id "faceres" twice');
    expect(failure(withField(['models'], [])).message).toMatch(/models .*no models/);
  });

  it('refuses text that is not JSON, and JSON that is not an object', () => {
    expect(failure('{"schema": 1, ').message).toMatch(/not JSON/);
    expect(failure('42').message).toContain('(top level) is 42');
    expect(failure('[1, 2]').message).toContain('schema is missing');
  });

  it('is what readManifest applies to the bytes it reads', async () => {
    const deps = (text: string): ModelLoaderDeps => ({
      ort: {} as ModelLoaderDeps['ort'],
      readFile: async () => new TextEncoder().encode(text),
      sha256Hex: async () => '',
    });
    expect((await readManifest(deps(JSON.stringify(manifestFixture())))).models).toHaveLength(4);
    await expect(readManifest(deps(withField(['models', 0, 'embedding', 'dim'], -1)))).rejects.toThrow(/models\[0\]\.embedding\.dim is -1/);
  });
});

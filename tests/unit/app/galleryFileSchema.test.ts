import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { GALLERY_FILE_SCHEMA, parseGalleryIndex } from '../../../src/app/galleryFileSchema.ts';
import type { StoredFace } from '../../../src/app/storedFace.ts';
import { AppError } from '../../../src/core/errors.ts';
import { readGalleryFile, writeGalleryFile } from '../../../src/app/galleryFile.ts';

type Key = string | number;

/** index.json as an export writes it, by hand: two faces of a 7x7x4 recognizer with an 8-float embedding (schema 2 adds their checksums). */
function indexFixture(schema: 1 | 2 = 1) {
  const sums = (i: number) => (schema === 2 ? { featuresSha256: String(i).repeat(64), thumbnailSha256: 'ab'.repeat(32) } : {});
  const face = (i: number) => ({
    key: `m@1|hash${i}`,
    contentHash: `hash${i}`,
    label: `Person_${i}`,
    fileName: `Person_${i}/Person_${i}_0001.jpg`,
    addedAt: 1_700_000_000_000 + i,
    dim: 8,
    h: 7,
    w: 7,
    c: 4,
    landmarks: 136,
    cropSize: 112,
    ...sums(i),
  });
  return { format: 'deepface-emd-gallery', schema, modelKey: 'm@1', exportedAt: '2026-01-01T00:00:00.000Z', faces: [face(0), face(1)] };
}

function withField(path: readonly Key[], value: unknown, schema: 1 | 2 = 1): string {
  const root: unknown = indexFixture(schema);
  let node = root as Record<Key, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<Key, unknown>;
  const last = path[path.length - 1];
  if (value === undefined) delete node[last];
  else node[last] = value;
  return JSON.stringify(root);
}

function failure(text: string): AppError {
  try {
    parseGalleryIndex(text, 'holiday.gallery.zip');
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('the index was accepted');
}

describe('parseGalleryIndex', () => {
  it('accepts an export’s index and keeps its values, in schema 1 and schema 2', () => {
    for (const schema of [1, 2] as const) {
      const index = parseGalleryIndex(JSON.stringify(indexFixture(schema)), 'holiday.gallery.zip');
      expect(index.modelKey).toBe('m@1');
      expect(index.schema).toBe(schema);
      expect(index.faces[1]).toEqual(indexFixture(schema).faces[1]);
    }
  });

  it('requires schema 2’s checksums, as SHA-256 hex', () => {
    expect(failure(withField(['faces', 1, 'featuresSha256'], undefined, 2)).message).toContain('faces[1].featuresSha256 is missing');
    expect(failure(withField(['faces', 0, 'thumbnailSha256'], 'ABC', 2)).message).toContain('faces[0].thumbnailSha256 is "ABC" (must be a SHA-256');
  });

  it('names the file, the field and the value of a wrong type', () => {
    const e = failure(withField(['faces', 1, 'h'], '7'));
    expect(e.code).toBe('corrupt-archive');
    expect(e.file).toBe('holiday.gallery.zip');
    expect(e.message).toContain('faces[1].h is "7"');
    expect(e.hint).toMatch(/Export gallery/);
  });

  it('names a missing field', () => {
    expect(failure(withField(['faces', 0, 'contentHash'], undefined)).message).toContain('faces[0].contentHash is missing');
    expect(failure(withField(['modelKey'], undefined)).message).toContain('modelKey is missing');
  });

  it.each([
    ['a negative grid side', ['faces', 0, 'w'], -7, 'faces[0].w is -7'],
    ['an absurd channel count', ['faces', 1, 'c'], 1e9, 'faces[1].c is 1000000000'],
    ['a zero embedding size', ['faces', 0, 'dim'], 0, 'faces[0].dim is 0'],
    ['a fractional crop size', ['faces', 0, 'cropSize'], 111.5, 'faces[0].cropSize is 111.5'],
    ['an odd landmark count', ['faces', 1, 'landmarks'], 135, 'faces[1].landmarks is 135'],
    ['a negative time', ['faces', 0, 'addedAt'], -1, 'faces[0].addedAt is -1'],
    ['faces that are not a list', ['faces'], { 0: 'x' }, 'faces is an object'],
    ['another format', ['format'], 'some-other-app', 'format is "some-other-app"'],
  ] as const)('refuses %s, naming it', (_what, path, value, expected) => {
    expect(failure(withField(path, value)).message).toContain(expected);
  });

  it('asks for an app update for a newer schema, whatever else the file holds', () => {
    const e = failure(JSON.stringify({ format: 'deepface-emd-gallery', schema: GALLERY_FILE_SCHEMA + 1, somethingNew: true }));
    expect(e.code).toBe('invalid-argument');
    expect(e.message).toContain(`schema ${GALLERY_FILE_SCHEMA + 1}`);
    expect(e.hint).toMatch(/Update the app/);
  });

  it('refuses text that is not JSON', () => {
    expect(failure('{"format": ').message).toMatch(/index\.json\) is not JSON/);
  });
});

describe('readGalleryFile checks index.json before using it', () => {
  const target = { modelKey: 'm@1', recognizer: 'Test recognizer', embeddingDim: 8, patchGrid: { h: 2, w: 2, c: 4 } };
  const face = (i: number): StoredFace => ({
    key: `m@1|hash${i}`,
    modelKey: 'm@1',
    contentHash: `hash${i}`,
    label: `Person_${i}`,
    fileName: `p${i}.jpg`,
    addedAt: 1000 + i,
    embedding: Float32Array.from({ length: 8 }, (_, k) => i + k / 8),
    patches: { h: 2, w: 2, c: 4, data: Float32Array.from({ length: 16 }, (_, k) => i - k / 16) },
    landmarks68: Float32Array.from({ length: 136 }, (_, k) => k / 2),
    cropSize: 112,
    thumbnail: new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' }),
  });

  /** The export as a schema-1 file (no checksums, so the index is parsed whatever it holds), index.json rewritten by `edit`. */
  async function exportWithIndex(edit: (index: Record<string, unknown>) => void): Promise<Blob> {
    const zip = unzipSync(new Uint8Array(await (await writeGalleryFile('m@1', [face(0), face(1)])).arrayBuffer()));
    const index = JSON.parse(strFromU8(zip['index.json'])) as Record<string, unknown>;
    index.schema = 1;
    delete zip['index.sha256'];
    edit(index);
    zip['index.json'] = strToU8(JSON.stringify(index));
    return new Blob([zipSync(zip)]);
  }

  it('reads back what it wrote', async () => {
    const back = await readGalleryFile(await writeGalleryFile('m@1', [face(0), face(1)]), 'g.zip', target);
    expect(back.map((f) => [f.key, f.label, Array.from(f.embedding), f.patches.h, Array.from(f.patches.data)])).toEqual(
      [0, 1].map((i) => [face(i).key, face(i).label, Array.from(face(i).embedding), 2, Array.from(face(i).patches.data)]),
    );
  });

  it('refuses a damaged index naming the field, before slicing any features', async () => {
    const damaged = await exportWithIndex((index) => {
      (index.faces as Record<string, unknown>[])[1].dim = -3;
    });
    await expect(readGalleryFile(damaged, 'g.zip', target)).rejects.toThrow(/g\.zip: .*faces\[1\]\.dim is -3/);
  });
});

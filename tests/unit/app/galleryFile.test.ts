/**
 * Importing a gallery export that was damaged or edited on its way (issue 15,
 * items 1 and 2): the export is a real one, made by the engine from an
 * in-memory gallery, then damaged; the import must refuse it whole, say
 * which entry is at fault, and leave the gallery and its storage untouched.
 */
import { createHash } from 'node:crypto';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { AppEngine } from '../../../src/app/appEngine.ts';
import { AppError } from '../../../src/core/errors.ts';
import { DEFAULT_SETTINGS } from '../../../src/core/types.ts';
import { EMBED_DIM, GRID, CHANNELS, MemoryEnginePorts, faceFile } from '../../support/appPorts.ts';
import { withEntryHeader } from '../../support/zipFiles.ts';

const people = ['Ann', 'Bob', 'Cid'];
const FACES = 9;

/** An engine with nine faces indexed, and their export. */
async function exported() {
  const ports = new MemoryEnginePorts();
  const engine = new AppEngine(ports, { accelerator: null });
  await engine.init({ ortBackend: 'wasm' });
  await engine.importFiles(
    people.flatMap((p) => [0, 1, 2].map((v) => ({ path: `g/${p}/${p}_000${v}.jpg`, file: faceFile(p, v) }))),
    () => {},
  );
  const file = new Uint8Array(await (await engine.exportGallery()).arrayBuffer());
  await engine.clearGallery();
  return { ports, engine, file };
}

async function importFailure(engine: AppEngine, bytes: Uint8Array): Promise<AppError> {
  try {
    await engine.importGalleryFile('gallery.dfemd.zip', new Blob([bytes as Uint8Array<ArrayBuffer>]));
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('the damaged file was imported');
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

interface IndexJson {
  schema: number;
  faces: Record<string, unknown>[];
}

/**
 * The export unpacked, edited and zipped again as a tool would (fresh CRCs).
 * `rehash`: also write fresh checksums, as someone who knows the format
 * would, so that only the other checks can catch the edit.
 */
function rezip(file: Uint8Array, edit: (files: Record<string, Uint8Array>, index: IndexJson) => void, rehash: boolean): Uint8Array {
  const files = unzipSync(file);
  const index = JSON.parse(strFromU8(files['index.json'])) as IndexJson;
  edit(files, index);
  if (rehash && index.schema >= 2) {
    for (const [i, f] of index.faces.entries()) {
      const name = `faces/${String(i).padStart(6, '0')}`;
      // A deleted entry keeps its old checksum: there is nothing to hash.
      if (files[`${name}.f32`]) f.featuresSha256 = sha256(files[`${name}.f32`]);
      if (files[`${name}.png`]) f.thumbnailSha256 = sha256(files[`${name}.png`]);
    }
  }
  files['index.json'] = strToU8(JSON.stringify(index));
  if (rehash && files['index.sha256']) files['index.sha256'] = strToU8(sha256(files['index.json']));
  return zipSync(files, { level: 0 });
}

/** A schema-1 export, as the app wrote before checksums. */
function asSchema1(file: Uint8Array, edit: (files: Record<string, Uint8Array>, index: IndexJson) => void = () => {}): Uint8Array {
  return rezip(
    file,
    (files, index) => {
      index.schema = 1;
      for (const f of index.faces) {
        delete f.featuresSha256;
        delete f.thumbnailSha256;
      }
      delete files['index.sha256'];
      edit(files, index);
    },
    false,
  );
}

/** Float `at` of face `i`'s features, set to `value`. */
function setFloat(files: Record<string, Uint8Array>, i: number, at: number, value: number) {
  const name = `faces/${String(i).padStart(6, '0')}.f32`;
  const bytes = files[name].slice();
  new DataView(bytes.buffer).setFloat32(at * 4, value, true);
  files[name] = bytes;
}

async function expectNothingImported(ports: MemoryEnginePorts, engine: AppEngine) {
  expect(ports.storage.records.size).toBe(0);
  expect(ports.storage.puts).toBe(FACES);
  expect(engine.galleryInfo().count).toBe(0);
}

describe('a damaged gallery export', () => {
  it('round trip: the export imports into an empty gallery whole', async () => {
    const { engine, file, ports } = await exported();
    expect(await engine.importGalleryFile('gallery.dfemd.zip', new Blob([file]))).toEqual({ added: FACES, skipped: 0 });
    expect(ports.storage.records.size).toBe(FACES);
  });

  it('256 bytes XOR-ed in the middle: refused by the entry’s CRC, the entry and face named, nothing imported', async () => {
    const { engine, file, ports } = await exported();
    const damaged = file.slice();
    const middle = Math.floor(file.length / 2) - 128;
    for (let i = 0; i < 256; i++) damaged[middle + i] ^= (i * 37 + 11) & 0xff || 1;
    const e = await importFailure(engine, damaged);
    expect(e.code).toBe('corrupt-archive');
    expect(e.file).toBe('gallery.dfemd.zip');
    expect(e.message).toMatch(
      /^gallery\.dfemd\.zip: entry faces\/\d{6}\.(f32|png) \(face \d of 9, g\/\w+\/\w+_000\d\.jpg\) is damaged: its CRC-32 is [0-9a-f]{8}, but the archive records [0-9a-f]{8}$/,
    );
    expect(e.hint).toMatch(/damaged or edited after it was exported; nothing was imported/);
    await expectNothingImported(ports, engine);
  });

  it('a patch map value changed and the zip re-made (fresh CRCs): refused by its checksum', async () => {
    const { engine, file, ports } = await exported();
    const e = await importFailure(
      engine,
      rezip(file, (files) => setFloat(files, 4, EMBED_DIM + 10, 912345.7), false),
    );
    expect(e.code).toBe('corrupt-archive');
    expect(e.message).toMatch(/entry faces\/000004\.f32 \(face 5 of 9, g\/\w+\/\w+_000\d\.jpg\) does not match its checksum in index\.json/);
    await expectNothingImported(ports, engine);
  });

  it('index.json edited (a label) and the zip re-made: refused by index.sha256', async () => {
    const { engine, file, ports } = await exported();
    const e = await importFailure(
      engine,
      rezip(
        file,
        (_files, index) => {
          index.faces[0].label = 'Mallory';
        },
        false,
      ),
    );
    expect(e.message).toContain('index.json does not match the checksum written at export (index.sha256)');
    await expectNothingImported(ports, engine);
  });

  it.each([
    ['a value far beyond any recognizer output', 912345.7, 'patch map value 10', EMBED_DIM + 10],
    ['NaN', NaN, 'embedding value 3', 3],
    ['infinity', -Infinity, 'embedding value 0', 0],
  ])('%s, with checksums rewritten to match: refused by the value check, naming entry, face and value', async (_what, value, where, at) => {
    const { engine, file, ports } = await exported();
    const e = await importFailure(
      engine,
      rezip(file, (files) => setFloat(files, 2, at, value), true),
    );
    expect(e.code).toBe('corrupt-archive');
    expect(e.message).toContain(`entry faces/000002.f32 (face 3 of 9, `);
    expect(e.message).toContain(`holds ${Math.fround(value)} at ${where}, beyond anything a recognizer produces (|value| ≤ 10000)`);
    await expectNothingImported(ports, engine);
  });

  it('a thumbnail entry that declares a gigabyte is refused before it is unpacked', async () => {
    const { engine, file, ports } = await exported();
    const e = await importFailure(engine, withEntryHeader(file, 'faces/000001.png', { size: 1e9 }));
    expect(e.message).toMatch(/entry faces\/000001\.png \(face 2 of 9, .*\) declares 1 GB, more than the [\d.]+ MB it can be/);
    await expectNothingImported(ports, engine);
  });

  it('a missing face entry is named', async () => {
    const { engine, file, ports } = await exported();
    const e = await importFailure(
      engine,
      rezip(
        file,
        (files) => {
          delete files['faces/000008.png'];
        },
        true,
      ),
    );
    expect(e.message).toMatch(/entry faces\/000008\.png \(face 9 of 9, .*\) is missing/);
    await expectNothingImported(ports, engine);
  });
});

describe('a gallery export of another shape than the active recognizer makes', () => {
  /** Every face cut to `dim` embedding floats, index and .f32 entries agreeing, checksums rewritten. */
  const withEmbeddingSize = (file: Uint8Array, dim: number) =>
    rezip(
      file,
      (files, index) => {
        for (const [i, f] of index.faces.entries()) {
          const name = `faces/${String(i).padStart(6, '0')}.f32`;
          const floats = new Float32Array(files[name].slice().buffer);
          files[name] = new Uint8Array(Float32Array.from([...floats.subarray(0, dim), ...floats.subarray(EMBED_DIM)]).buffer);
          f.dim = dim;
        }
      },
      true,
    );

  it('an export edited to smaller embeddings is refused before anything is written, with the right reason', async () => {
    const { engine, file, ports } = await exported();
    const e = await importFailure(engine, withEmbeddingSize(file, 4));
    expect(e.code).toBe('corrupt-archive');
    expect(e.message).toMatch(
      new RegExp(`^gallery\\.dfemd\\.zip: index\\.json describes face 1 of 9 \\(g/\\w+/\\w+_000\\d\\.jpg\\) with a 4-D embedding, but test-recognizer makes ${EMBED_DIM}-D ones$`),
    );
    expect(e.hint).not.toMatch(/same recognizer/);
    await expectNothingImported(ports, engine);
    // Search still works: the gallery was never broken.
    await engine.importFiles([{ path: 'g/Ann/Ann_0009.jpg', file: faceFile('Ann', 9) }], () => {});
    await engine.setQuery('q.jpg', faceFile('Ann', 0), 'none');
    const view = await engine.runSearch({ ...DEFAULT_SETTINGS, k: 5 });
    expect(view.stage1[0]?.label).toBe('Ann');
  });

  it('a patch grid or channel count other than the recognizer’s, or a partial landmark set, is refused', async () => {
    const { engine, file } = await exported();
    const edit = (change: (f: Record<string, unknown>) => void) =>
      rezip(
        file,
        (_files, index) => {
          for (const f of index.faces) change(f);
        },
        true,
      );
    // The .f32 sizes no longer agree either; the shape is checked first, so the message names the real cause.
    expect(
      (
        await importFailure(
          engine,
          edit((f) => Object.assign(f, { h: 6, w: 6 })),
        )
      ).message,
    ).toContain(`a 6x6x${CHANNELS} patch map, but test-recognizer makes ${GRID}x${GRID}x${CHANNELS} ones`);
    expect(
      (
        await importFailure(
          engine,
          edit((f) => Object.assign(f, { c: 8 })),
        )
      ).message,
    ).toContain(`a ${GRID}x${GRID}x8 patch map`);
    expect(
      (
        await importFailure(
          engine,
          edit((f) => Object.assign(f, { landmarks: 10 })),
        )
      ).message,
    ).toContain('5 landmarks, but faces carry 68 or none');
  });
});

describe('a schema-1 export (before checksums)', () => {
  it('still imports', async () => {
    const { engine, file, ports } = await exported();
    expect(await engine.importGalleryFile('old.zip', new Blob([asSchema1(file) as Uint8Array<ArrayBuffer>]))).toEqual({ added: FACES, skipped: 0 });
    expect(ports.storage.records.size).toBe(FACES);
  });

  it('is still checked for values, shape and its zip CRCs', async () => {
    const { engine, file, ports } = await exported();
    expect(
      (
        await importFailure(
          engine,
          asSchema1(file, (files) => setFloat(files, 7, EMBED_DIM + 3, 3e7)),
        )
      ).message,
    ).toMatch(/entry faces\/000007\.f32 \(face 8 of 9, .*\) holds 30000000 at patch map value 3/);
    expect(
      (
        await importFailure(
          engine,
          asSchema1(file, (_files, index) => {
            index.faces[5].dim = 128;
          }),
        )
      ).message,
    ).toContain(`face 6 of 9 (`);
    const old = asSchema1(file);
    const damaged = old.slice();
    damaged[Math.floor(old.length / 2)] ^= 0x40;
    expect((await importFailure(engine, damaged)).message).toMatch(/is damaged: its CRC-32 is/);
    await expectNothingImported(ports, engine);
  });
});

describe('thumbnail types (schema 3)', () => {
  it('exports a JPEG thumbnail (the compact storage’s) as faces/NNNNNN.jpg with its type, and imports it back as JPEG', async () => {
    const ports = new MemoryEnginePorts();
    const engine = new AppEngine(ports, { accelerator: null });
    await engine.init({ ortBackend: 'wasm' });
    await engine.importFiles([{ path: 'g/Ann/Ann_0001.jpg', file: faceFile('Ann', 1) }], () => {});
    for (const [k, f] of ports.storage.records) ports.storage.records.set(k, { ...f, thumbnail: new Blob(['jpeg bytes'], { type: 'image/jpeg' }) });
    const file = new Uint8Array(await (await engine.exportGallery()).arrayBuffer());
    const files = unzipSync(file);
    expect(Object.keys(files).filter((n) => n.startsWith('faces/'))).toEqual(['faces/000000.f32', 'faces/000000.jpg']);
    const index = JSON.parse(strFromU8(files['index.json'])) as IndexJson;
    expect(index.schema).toBe(4);
    expect(index.faces[0].thumbnailType).toBe('image/jpeg');
    await engine.clearGallery();
    await engine.importGalleryFile('g.zip', new Blob([file]));
    const [back] = [...ports.storage.records.values()];
    expect(back.thumbnail.type).toBe('image/jpeg');
    expect(await back.thumbnail.text()).toBe('jpeg bytes');
  });

  it('still imports a schema-2 export (PNG thumbnails, no type field), checksums checked', async () => {
    const { engine, file } = await exported();
    const schema2 = rezip(
      file,
      (_, index) => {
        index.schema = 2;
        for (const f of index.faces) delete f.thumbnailType;
      },
      true,
    );
    expect(await engine.importGalleryFile('old.zip', new Blob([schema2 as Uint8Array<ArrayBuffer>]))).toEqual({ added: FACES, skipped: 0 });
    const damaged = rezip(
      schema2,
      (files) => {
        files['faces/000001.png'] = strToU8('not the thumbnail');
      },
      false,
    );
    await engine.clearGallery();
    expect((await importFailure(engine, damaged)).message).toContain('faces/000001.png');
  });
});

describe('visible-part embeddings (schema 4)', () => {
  it('travel with each face after its landmarks and come back exactly; a schema-3 export (none) still imports', async () => {
    const ports = new MemoryEnginePorts();
    const engine = new AppEngine(ports, { accelerator: null });
    await engine.init({ ortBackend: 'wasm' });
    await engine.importFiles(
      [0, 1].map((v) => ({ path: `g/Ann/Ann_000${v}.jpg`, file: faceFile('Ann', v) })),
      () => {},
    );
    const given = new Map<string, Float32Array>();
    for (const [k, f] of ports.storage.records) {
      const sunglasses = Float32Array.from({ length: 7 }, (_, i) => given.size + i - 3.5);
      given.set(k, sunglasses);
      ports.storage.records.set(k, { ...f, visibleEmbeddings: { sunglasses } });
    }
    const file = new Uint8Array(await (await engine.exportGallery()).arrayBuffer());
    const index = JSON.parse(strFromU8(unzipSync(file)['index.json'])) as IndexJson;
    expect(index.faces.map((f) => f.visible)).toEqual([[{ damage: 'sunglasses', dim: 7 }], [{ damage: 'sunglasses', dim: 7 }]]);
    await engine.clearGallery();
    await engine.importGalleryFile('g.zip', new Blob([file]));
    for (const [k, f] of ports.storage.records) expect(f.visibleEmbeddings?.sunglasses).toEqual(given.get(k));

    const schema3 = rezip(
      file,
      (files, idx) => {
        idx.schema = 3;
        for (const [i, f] of idx.faces.entries()) {
          delete f.visible;
          const name = `faces/${String(i).padStart(6, '0')}.f32`;
          files[name] = files[name].slice(0, files[name].length - 7 * 4);
        }
      },
      true,
    );
    await engine.clearGallery();
    expect(await engine.importGalleryFile('old.zip', new Blob([schema3 as Uint8Array<ArrayBuffer>]))).toEqual({ added: 2, skipped: 0 });
    for (const f of ports.storage.records.values()) expect(f.visibleEmbeddings).toBeUndefined();

    const zeroed = rezip(
      file,
      (files) => {
        const f = files['faces/000001.f32'];
        f.fill(0, f.length - 7 * 4);
      },
      true,
    );
    await engine.clearGallery();
    expect((await importFailure(engine, zeroed)).message).toMatch(/faces\/000001\.f32.*zero sunglasses visible-part embedding/);
  });
});

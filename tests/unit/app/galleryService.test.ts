import { describe, expect, it } from 'vitest';
import { GalleryService } from '../../../src/app/galleryService.ts';
import { faceKey, type StoredFace } from '../../../src/app/storedFace.ts';
import { AppError } from '../../../src/core/errors.ts';
import { DEFAULT_SETTINGS } from '../../../src/core/types.ts';
import { MemoryStorage, syntheticFeatures } from '../../support/appPorts.ts';

const MODEL = 'test@v1';

function stored(identity: string, variant: number, modelKey = MODEL): StoredFace {
  const f = syntheticFeatures(identity, variant);
  return {
    key: faceKey(modelKey, `${identity}-${variant}`),
    modelKey,
    contentHash: `${identity}-${variant}`,
    label: identity,
    fileName: `${identity}/${identity}_${variant}.jpg`,
    addedAt: 1,
    embedding: f.embedding,
    patches: f.patches,
    landmarks68: null,
    cropSize: f.cropSize,
    thumbnail: new Blob([`aligned:${identity}:${variant}:none`]),
  };
}

async function loaded(faces: StoredFace[]) {
  const storage = new MemoryStorage();
  for (const f of faces) await storage.put(f);
  const gallery = new GalleryService(storage, MODEL, { accelerator: null });
  await gallery.load();
  return { storage, gallery };
}

const settings = { ...DEFAULT_SETTINGS, k: 10, adaptiveAlpha: null, alpha: 0 };

describe('GalleryService', () => {
  it('loads only the active model’s faces, counts identities and lists items by file name', async () => {
    const { gallery } = await loaded([stored('Bob', 0), stored('Ann', 1), stored('Ann', 0), stored('Cid', 0, 'other@v1')]);
    expect(gallery.info()).toEqual({
      modelKey: MODEL,
      count: 3,
      identities: [
        { label: 'Ann', count: 2 },
        { label: 'Bob', count: 1 },
      ],
    });
    expect(gallery.items().map((i) => i.fileName)).toEqual(['Ann/Ann_0.jpg', 'Ann/Ann_1.jpg', 'Bob/Bob_0.jpg']);
    expect(gallery.items('Bob')).toEqual([{ key: faceKey(MODEL, 'Bob-0'), label: 'Bob', fileName: 'Bob/Bob_0.jpg' }]);
    expect(gallery.index.size).toBe(3);
  });

  it('entries come from the engine and the storage: after load, add, relabel and remove', async () => {
    const { gallery } = await loaded([stored('Ann', 0), stored('Bob', 0)]);
    expect(gallery.entry(faceKey(MODEL, 'Ann-0'))).toEqual({ label: 'Ann', fileName: 'Ann/Ann_0.jpg' });
    expect(gallery.entry(faceKey(MODEL, 'Zed-0'))).toBeUndefined();
    await gallery.add(stored('Cid', 3));
    expect(gallery.entry(faceKey(MODEL, 'Cid-3'))).toEqual({ label: 'Cid', fileName: 'Cid/Cid_3.jpg' });
    await gallery.relabel([faceKey(MODEL, 'Ann-0'), faceKey(MODEL, 'Zed-0')], 'Anna');
    expect(gallery.entry(faceKey(MODEL, 'Ann-0'))).toEqual({ label: 'Anna', fileName: 'Ann/Ann_0.jpg' });
    await gallery.remove([faceKey(MODEL, 'Bob-0')]);
    expect(gallery.entry(faceKey(MODEL, 'Bob-0'))).toBeUndefined();
    expect(gallery.all()).toEqual([
      [faceKey(MODEL, 'Ann-0'), { label: 'Anna', fileName: 'Ann/Ann_0.jpg' }],
      [faceKey(MODEL, 'Cid-3'), { label: 'Cid', fileName: 'Cid/Cid_3.jpg' }],
    ]);
    expect(gallery.identities()).toEqual(new Set(['Anna', 'Cid']));
    expect(await gallery.contains(faceKey(MODEL, 'Cid-3'))).toBe(true);
    expect(await gallery.contains(faceKey(MODEL, 'Bob-0'))).toBe(false);
    expect(() => gallery.fileName(faceKey(MODEL, 'Bob-0'))).toThrow(AppError);
  });

  it('removing an identity removes it from disk and from search', async () => {
    const { gallery, storage } = await loaded([stored('Ann', 0), stored('Ann', 1), stored('Bob', 0), stored('Bob', 1)]);
    expect(await gallery.removeIdentity('Ann')).toBe(2);
    expect([...storage.records.values()].map((f) => f.label)).toEqual(['Bob', 'Bob']);
    const r = await gallery.index.search(syntheticFeatures('Ann', 0), settings);
    expect(r.stage1.map((h) => h.label)).toEqual(['Bob', 'Bob']);
    expect(gallery.info().identities).toEqual([{ label: 'Bob', count: 2 }]);
  });

  it('clear empties this model’s gallery and leaves other models’ records', async () => {
    const { gallery, storage } = await loaded([stored('Ann', 0), stored('Cid', 0, 'other@v1')]);
    await gallery.clear();
    expect(gallery.size).toBe(0);
    expect(gallery.index.size).toBe(0);
    expect([...storage.records.values()].map((f) => f.modelKey)).toEqual(['other@v1']);
  });

  it('adding from an export file skips faces already present', async () => {
    const { gallery, storage } = await loaded([stored('Ann', 0)]);
    expect(await gallery.addAll([stored('Ann', 0), stored('Bob', 0), stored('Bob', 1)])).toEqual({ added: 2, skipped: 1 });
    expect(storage.records.size).toBe(3);
    expect(gallery.index.size).toBe(3);
  });

  it('a failed write leaves memory as it was', async () => {
    const { gallery, storage } = await loaded([stored('Ann', 0)]);
    storage.failPutsAfter = { count: 0, error: new AppError('storage-quota', 'full', 'Free space.') };
    await expect(gallery.add(stored('Bob', 0))).rejects.toMatchObject({ code: 'storage-quota' });
    expect(gallery.size).toBe(1);
    expect(gallery.index.size).toBe(1);
    expect(await gallery.contains(faceKey(MODEL, 'Bob-0'))).toBe(false);
  });

  it('export lists every stored face of the model', async () => {
    const { gallery } = await loaded([stored('Ann', 0), stored('Bob', 0), stored('Cid', 0, 'other@v1')]);
    expect((await gallery.exportAll()).map((f) => f.label).sort()).toEqual(['Ann', 'Bob']);
  });

  it('a face that does not fit the gallery is refused by its file name, never by its internal key', async () => {
    const { gallery } = await loaded([stored('Ann', 0)]);
    const odd = { ...stored('Bob', 0), embedding: new Float32Array(128).fill(0.1) };
    const error = await gallery.add(odd).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'invalid-argument' });
    expect(String((error as Error).message)).toContain('Bob/Bob_0.jpg');
    expect(String((error as Error).message)).not.toContain(odd.key);
    expect(await gallery.contains(odd.key)).toBe(false);
  });
});

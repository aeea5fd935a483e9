/**
 * The library's photo files: written whole or read as absent, whatever byte a
 * crash cuts them at (the in-memory directory dies mid-write, as a killed
 * worker would), and checked field by field on reading.
 */
import { describe, expect, it } from 'vitest';
import { decodeStoredPhoto, encodeStoredPhoto, PhotoStore } from '../../../src/storage/photoStore.ts';
import { MemoryDirectory } from '../../support/memoryFiles.ts';

const HASH = 'ab'.repeat(32);
const JPEG = Uint8Array.from({ length: 300 }, (_, i) => (i * 7) & 255);
const photo = { width: 4000, height: 3000, faces: 3, preview: new Blob([JPEG], { type: 'image/jpeg' }) };

describe('PhotoStore', () => {
  it('reads back what it wrote, after a reopen; a photo without faces has no preview', async () => {
    const dir = new MemoryDirectory();
    const store = await PhotoStore.open(dir);
    await store.put(HASH, photo);
    await store.put('cd'.repeat(32), { width: 10, height: 20, faces: 0, preview: null });
    const again = await PhotoStore.open(dir);
    const got = await again.get(HASH);
    expect(got).toMatchObject({ width: 4000, height: 3000, faces: 3 });
    expect(got?.preview?.type).toBe('image/jpeg');
    expect(new Uint8Array((await got?.preview?.arrayBuffer()) ?? new ArrayBuffer(0))).toEqual(JPEG);
    expect(await again.get('cd'.repeat(32))).toEqual({ width: 10, height: 20, faces: 0, preview: null });
    expect(again.has(HASH)).toBe(true);
    expect(again.has('ef'.repeat(32))).toBe(false);
    expect(await again.get('ef'.repeat(32))).toBeUndefined();
  });

  it('a put cut short at any point leaves the photo whole or absent', async () => {
    const dry = new MemoryDirectory();
    await (await PhotoStore.open(dry)).put(HASH, photo);
    const units = dry.unitsUsed;
    for (let kill = 0; kill <= units; kill++) {
      const dir = new MemoryDirectory({ killAfter: kill });
      const store = await PhotoStore.open(dir);
      await store.put(HASH, photo).catch(() => undefined);
      for (const model of ['written', 'flushed'] as const) {
        const got = await (await PhotoStore.open(dir.survivors(model))).get(HASH);
        if (got !== undefined) expect(got).toMatchObject({ width: 4000, height: 3000, faces: 3 });
        if (kill === units) expect(got).toBeDefined();
      }
    }
  });

  it('refuses files that are not one whole photo', async () => {
    const bytes = encodeStoredPhoto(photo, JPEG);
    expect(decodeStoredPhoto(bytes)).toBeDefined();
    for (let cut = 0; cut < bytes.length; cut += 7) expect(decodeStoredPhoto(bytes.subarray(0, cut))).toBeUndefined();
    expect(decodeStoredPhoto(new Uint8Array([...bytes, 0]))).toBeUndefined();
    const badMagic = bytes.slice();
    badMagic[0] ^= 1;
    expect(decodeStoredPhoto(badMagic)).toBeUndefined();
    // Faces without a preview (or a preview without faces) is no photo this store writes.
    expect(decodeStoredPhoto(encodeStoredPhoto({ ...photo, preview: null }, new Uint8Array(0)))).toBeUndefined();
    expect(decodeStoredPhoto(encodeStoredPhoto({ ...photo, faces: 0 }, JPEG))).toBeUndefined();
  });

  it('ignores files whose names are not photo hashes, and refuses to write one', async () => {
    const dir = new MemoryDirectory({ contents: new Map([['notes.txt', new Uint8Array(3)]]) });
    const store = await PhotoStore.open(dir);
    expect(store.has('notes.txt')).toBe(false);
    await expect(store.put('../x', photo)).rejects.toMatchObject({ code: 'invalid-argument' });
  });
});

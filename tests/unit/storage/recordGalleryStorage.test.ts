import { describe, expect, it, vi } from 'vitest';
import { GalleryService } from '../../../src/app/galleryService.ts';
import { faceKey, storedToFeatures, type StoredFace } from '../../../src/app/storedFace.ts';
import { DEFAULT_SETTINGS } from '../../../src/core/types.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { faceDetailOf } from '../../../src/engine/faceDetails.ts';
import { SearchEngine } from '../../../src/engine/searchEngine.ts';
import { RecordGalleryStorage } from '../../../src/storage/recordGalleryStorage.ts';
import type { StorageFormat } from '../../../src/storage/storageFormat.ts';
import { migrateLegacyGallery, type LegacyGalleryPort } from '../../../src/storage/migrateLegacyGallery.ts';
import { MemoryStorage } from '../../support/appPorts.ts';
import { MemoryDirectory } from '../../support/memoryFiles.ts';

const MODEL = 'test@v1';
const H = 7;
const C = 32;
const DIM = 48;

function hex(n: number): string {
  return n.toString(16).padStart(64, '0');
}

/** A face of person `id`: a shared direction plus noise; the map is ReLU-sparse like FaceRes's, landmarks on a grid. */
function face(rand: () => number, id: number, shot: number, modelKey = MODEL): StoredFace {
  const base = seededRandom(1000 + id);
  const embedding = Float32Array.from({ length: DIM }, () => base() - 0.5 + 0.3 * (rand() - 0.5));
  const data = Float32Array.from({ length: H * H * C }, () => Math.max(0, base() - 0.6 + 0.2 * (rand() - 0.5)) * 3);
  const landmarks68 = Float32Array.from({ length: 136 }, (_, i) => 10 + i * 0.7 + rand());
  return {
    key: faceKey(modelKey, hex(id * 100 + shot)),
    modelKey,
    contentHash: hex(id * 100 + shot),
    label: `person${id}`,
    fileName: `person${id}/${shot}.jpg`,
    addedAt: 1000 + shot,
    embedding,
    patches: { h: H, w: H, c: C, data },
    landmarks68,
    cropSize: 112,
    thumbnail: new Blob([`thumb ${id} ${shot}`], { type: 'image/png' }),
  };
}

function gallery(n = 30): StoredFace[] {
  const rand = seededRandom(7);
  return Array.from({ length: n }, (_, i) => face(rand, i % 10, Math.floor(i / 10)));
}

/** One MemoryDirectory per gallery name, kept across storages: a reload opens the same files. */
function disk() {
  const dirs = new Map<string, MemoryDirectory>();
  return {
    dirs,
    storage: (format: StorageFormat, compactAtDeadBytes?: number) =>
      new RecordGalleryStorage({
        format,
        compactAtDeadBytes,
        directory: async (name) => {
          let d = dirs.get(name);
          if (!d) dirs.set(name, (d = new MemoryDirectory()));
          return d;
        },
      }),
  };
}

function unit(v: Float32Array): Float64Array {
  const n = Math.hypot(...v);
  return Float64Array.from(v, (x) => x / n);
}

describe('RecordGalleryStorage', () => {
  it('float32: a reload gives back every face exactly (list, stage-1 rows, details, thumbnails)', async () => {
    const d = disk();
    const faces = gallery();
    const first = d.storage('float32');
    for (const f of faces) await first.put(f);
    first.close();
    const again = d.storage('float32');
    const index = await again.loadIndex(MODEL);
    expect(index.keys).toEqual(faces.map((f) => f.key));
    expect(index.labels).toEqual(faces.map((f) => f.label));
    expect(index.shape).toEqual({ h: H, w: H, c: C, dim: DIM });
    // Chunks are views of one reused buffer: copy each before taking the next.
    const bytes: number[] = [];
    for (const chunk of index.rows) bytes.push(...chunk);
    const rows = new Float32Array(Uint8Array.from(bytes).buffer);
    faces.forEach((f, i) => expect(Array.from(rows.subarray(i * DIM, (i + 1) * DIM))).toEqual(Array.from(Float32Array.from(unit(f.embedding)))));
    const details = again.details(MODEL);
    for (const f of faces) {
      const got = await again.get(f.key);
      expect(got?.patches.data).toEqual(f.patches.data);
      expect(got?.landmarks68).toEqual(f.landmarks68);
      expect(await got?.thumbnail.text()).toBe(await f.thumbnail.text());
      const alone = await again.thumbnail(f.key);
      expect(alone?.type).toBe(f.thumbnail.type);
      expect(await alone?.text()).toBe(await f.thumbnail.text());
      expect(details.read(f.key).unitPatches).toEqual(faceDetailOf({ patches: f.patches, cropSize: 112 }).unitPatches);
    }
  });

  it("compact: stage-1 vectors (from the record's 16-bit copy) and patch maps come back within half a quantisation step, zeros exactly zero", async () => {
    const d = disk();
    const faces = gallery(12);
    const s = d.storage('compact');
    for (const f of faces) await s.put(f);
    s.close();
    const again = d.storage('compact');
    const index = await again.loadIndex(MODEL);
    const details = again.details(MODEL);
    const rowBytes = 4 + DIM;
    const rows = new Uint8Array(faces.length * rowBytes);
    let o = 0;
    for (const chunk of index.rows) {
      rows.set(chunk, o);
      o += chunk.length;
    }
    for (const [n, f] of faces.entries()) {
      const got = await again.get(f.key);
      if (!got) throw new Error(`lost ${f.key}`);
      const u = unit(f.embedding);
      const step8 = Math.max(...u.map(Math.abs)) / 127;
      const step16 = Math.max(...u.map(Math.abs)) / 32767;
      // The int8 row stage 1 searches: within half a step, plus the renormalisation of the codes to a unit vector.
      const row = new DataView(rows.buffer, n * rowBytes, rowBytes);
      for (let i = 0; i < DIM; i++) expect(Math.abs(row.getInt8(4 + i) * row.getFloat32(0, true) - u[i])).toBeLessThanOrEqual(step8);
      // The record's 16-bit copy, which get() and the detail source hand out.
      got.embedding.forEach((x, i) => expect(Math.abs(x - u[i])).toBeLessThanOrEqual(step16));
      expect(details.readStage1Fine?.(f.key)).toEqual(got.embedding);
      for (let p = 0; p < H * H; p++) {
        const patch = f.patches.data.subarray(p * C, (p + 1) * C);
        const pStep = Math.max(...patch) / 255;
        for (let t = 0; t < C; t++) {
          const x = patch[t];
          const y = got.patches.data[p * C + t];
          if (x === 0) expect(y).toBe(0);
          expect(Math.abs(x - y)).toBeLessThanOrEqual(pStep / 2 + 1e-6);
        }
      }
    }
  });

  it('keeps visible-part embeddings across a reload: read alone (cached or not) as the unit vector, and in get(); faces without one read null', async () => {
    for (const format of ['float32', 'compact'] as const) {
      const d = disk();
      const rand = seededRandom(11);
      const faces = gallery(6).map((f, i) => (i % 2 === 0 ? { ...f, visibleEmbeddings: { sunglasses: Float32Array.from({ length: 20 }, () => rand() - 0.5) } } : f));
      const first = d.storage(format);
      for (const f of faces) await first.put(f);
      first.close();
      const again = d.storage(format);
      await again.loadIndex(MODEL);
      const details = again.details(MODEL);
      for (const [i, f] of faces.entries()) {
        const given = f.visibleEmbeddings?.sunglasses;
        if (i === 2) details.read(f.key); // one from the detail cache
        if (i === 4) details.readEncoded?.(f.key); // one handed out undecoded (stage 2's helper share)
        const alone = details.readVisible?.(f.key, 'sunglasses');
        expect(details.readVisible?.(f.key, 'mask')).toBeNull();
        if (!given) {
          expect(alone).toBeNull();
          expect((await again.get(f.key))?.visibleEmbeddings).toBeUndefined();
          continue;
        }
        const u = unit(given);
        const step = format === 'compact' ? Math.max(...u.map(Math.abs)) / 127 : 1e-7;
        Array.from(alone ?? []).forEach((x, j) => expect(Math.abs(x - u[j])).toBeLessThanOrEqual(step));
        expect(alone).toHaveLength(20);
        expect((await again.get(f.key))?.visibleEmbeddings?.sunglasses).toEqual(alone);
      }
    }
  });

  it('searches like the in-memory gallery: float32 ranks identically, compact keeps every top-1', async () => {
    const faces = gallery(40);
    const memory = new MemoryStorage();
    for (const f of faces) await memory.put(f);
    const reference = new GalleryService(memory, MODEL, { accelerator: null });
    await reference.load();
    const settings = { ...DEFAULT_SETTINGS, k: 10, adaptiveAlpha: null, alpha: 0.5, backend: 'cpu' as const };
    for (const format of ['float32', 'compact'] as const) {
      const d = disk();
      const s = d.storage(format);
      for (const f of faces) await s.put(f);
      const service = new GalleryService(d.storage(format), MODEL, { accelerator: null });
      await service.load();
      const rand = seededRandom(99);
      for (let q = 0; q < 10; q++) {
        const query = storedToFeatures(face(rand, q, 9));
        const want = await reference.index.search(query, settings);
        const got = await service.index.search(query, settings);
        if (format === 'float32') {
          expect(got.stage2.map((h) => h.id)).toEqual(want.stage2.map((h) => h.id));
          got.stage2.forEach((h, i) => expect(h.score).toBeCloseTo(want.stage2[i].score, 5));
        } else {
          expect(got.stage1[0].id).toBe(want.stage1[0].id);
          expect(got.stage2[0].id).toBe(want.stage2[0].id);
        }
      }
    }
  });

  it('compact: a large gallery holds 4-bit rows, from start-up or once an import reaches the size, and stage 1 equals an int8 engine over the same stored rows bit for bit, after a delete too', async () => {
    const rand = seededRandom(5);
    const faces = Array.from({ length: 600 }, (_, i) => face(rand, i % 150, Math.floor(i / 150)));
    const queries = Array.from({ length: 40 }, (_, q) => storedToFeatures(face(rand, q, 9)));
    const settings = { ...DEFAULT_SETTINGS, k: 10, adaptiveAlpha: null, alpha: 0, backend: 'cpu' as const };
    const d = disk();
    const s = d.storage('compact');
    for (const f of faces.slice(0, 560)) await s.put(f);
    /** An int8 engine over the rows on disk now: the reference. */
    const int8Engine = async () => {
      const reader = d.storage('compact');
      const stored = await reader.loadIndex(MODEL);
      if (!stored.shape) throw new Error('no stored shape');
      const engine = new SearchEngine({ stage1: 'int8', details: reader.details(MODEL), accelerator: null });
      engine.addRows({ ids: stored.keys, labels: stored.labels }, stored.rows, stored.shape);
      return engine;
    };
    const expectSameStage1 = async (engine: SearchEngine, reference: SearchEngine) => {
      for (const query of queries) {
        const want = await reference.search(query, settings);
        const got = await engine.search(query, settings);
        expect(got.stage1.map((h) => [h.id, h.score])).toEqual(want.stage1.map((h) => [h.id, h.score]));
      }
    };
    // 4-bit codes (DIM 48 pads to 64 values: 32 bytes) and two floats a row; int8 rows are 52 bytes.
    const int4Bytes = (n: number) => n * (32 + 8);

    const growing = new GalleryService(d.storage('compact'), MODEL, { accelerator: null, int4FromFaces: 580 });
    await growing.load();
    expect(growing.index.byteLength.stage1).toBe(560 * 52);
    for (const f of faces.slice(560)) await growing.add(f);
    expect(growing.index.byteLength.stage1).toBe(int4Bytes(600));
    await expectSameStage1(growing.index, await int8Engine());

    const service = new GalleryService(d.storage('compact'), MODEL, { accelerator: null, int4FromFaces: 580 });
    await service.load();
    expect(service.index.byteLength.stage1).toBe(int4Bytes(600));
    await service.remove([faces[3].key, faces[420].key]);
    const reference = await int8Engine();
    expect(reference.size).toBe(faces.length - 2);
    await expectSameStage1(service.index, reference);
  });

  it('compact: stage 2 reading more candidates than the detail cache holds scores each exactly as its decoded face does', async () => {
    // 400 faces and k = 300: the storage recycles evicted faces' arrays while one batch is being read.
    const faces = Array.from({ length: 400 }, (_, i) => face(seededRandom(500 + i), i % 40, Math.floor(i / 40)));
    const d = disk();
    const s = d.storage('compact');
    for (let i = 0; i < faces.length; i += 100) await s.putBatch(faces.slice(i, i + 100));
    const service = new GalleryService(d.storage('compact'), MODEL, { accelerator: null });
    await service.load();
    // The reference holds the faces as the compact store decodes them, in memory (no recycling).
    const memory = new MemoryStorage();
    for (const f of faces) {
      const decoded = await s.get(f.key);
      if (!decoded) throw new Error(`${f.key} is missing`);
      await memory.put(decoded);
    }
    const reference = new GalleryService(memory, MODEL, { accelerator: null });
    await reference.load();
    const settings = { ...DEFAULT_SETTINGS, k: 300, adaptiveAlpha: null, alpha: 1, backend: 'cpu' as const };
    const rand = seededRandom(77);
    for (let q = 0; q < 3; q++) {
      const query = storedToFeatures(face(rand, q * 7, 12));
      const want = new Map((await reference.index.search(query, settings)).stage2.map((h) => [h.id, h.sEmd]));
      const got = (await service.index.search(query, settings)).stage2;
      const common = got.filter((h) => want.has(h.id));
      expect(common.length).toBeGreaterThan(270);
      for (const h of common) expect(h.sEmd).toBeCloseTo(want.get(h.id) ?? NaN, 9);
    }
  });

  it("keeps a thumbnail already in its type as it is and converts any other (an export's PNG) once", async () => {
    const converted: string[] = [];
    const storage = new RecordGalleryStorage({
      format: 'compact',
      directory: async () => new MemoryDirectory(),
      thumbnails: {
        type: 'image/jpeg',
        encode: async (blob) => {
          converted.push(await blob.text());
          return { bytes: new TextEncoder().encode(`jpeg of ${await blob.text()}`), type: 'image/jpeg' };
        },
      },
    });
    expect(storage.thumbnailType).toBe('image/jpeg');
    const [asJpeg, asPng] = gallery(2);
    await storage.put({ ...asJpeg, thumbnail: new Blob(['made as jpeg'], { type: 'image/jpeg' }) });
    await storage.put(asPng);
    expect(converted).toEqual([await asPng.thumbnail.text()]);
    const kept = await storage.thumbnail(asJpeg.key);
    expect([kept?.type, await kept?.text()]).toEqual(['image/jpeg', 'made as jpeg']);
    const made = await storage.thumbnail(asPng.key);
    expect([made?.type, await made?.text()]).toEqual(['image/jpeg', `jpeg of ${await asPng.thumbnail.text()}`]);
    // Without an encoding (the float32 format) thumbnails are stored as given, and imports are asked for PNG.
    expect(disk().storage('float32').thumbnailType).toBe('image/png');
  });

  it('keeps deletions, and the import journal, across a reload; clear empties the gallery', async () => {
    const d = disk();
    const faces = gallery(10);
    const s = d.storage('compact');
    await s.writeJournal({ modelKey: MODEL, total: 10, done: 0, startedAt: 5 });
    for (const f of faces) await s.put(f);
    await s.writeJournal({ modelKey: MODEL, total: 10, done: 10, startedAt: 5 });
    await s.delete([faces[3].key, faces[4].key]);
    s.close();
    const again = d.storage('compact');
    expect((await again.loadIndex(MODEL)).keys).toEqual(faces.filter((_, i) => i !== 3 && i !== 4).map((f) => f.key));
    expect(await again.has(faces[3].key)).toBe(false);
    expect(await again.thumbnail(faces[3].key)).toBeUndefined();
    expect(await (await again.thumbnail(faces[5].key))?.text()).toBe(await faces[5].thumbnail.text());
    expect(await again.readJournal(MODEL)).toEqual({ modelKey: MODEL, total: 10, done: 10, startedAt: 5 });
    await again.clear(MODEL);
    expect((await again.loadIndex(MODEL)).keys).toEqual([]);
  });

  it('a delete that leaves the deleted bytes at least the live ones compacts the gallery; one the quota refuses is tried again later', async () => {
    const faces = gallery(20);
    const d = disk();
    const s = d.storage('compact', 1);
    for (const f of faces) await s.put(f);
    const full = await s.stats(MODEL);
    await s.delete(faces.slice(0, 6).map((f) => f.key));
    // 6 of 20 dead: fewer dead bytes than live ones, nothing rewritten.
    expect((await s.stats(MODEL)).deadFaces).toBe(6);
    expect((await s.stats(MODEL)).facesBytes).toBe(full.facesBytes);
    // The quota leaves no room for a second copy of the live faces: the delete holds, the compaction waits.
    const dir = [...d.dirs.values()][0];
    dir.quotaBytes = dir.totalBytes() + 1000;
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    await s.delete(faces.slice(6, 12).map((f) => f.key));
    expect(warn).toHaveBeenCalledTimes(1);
    warn.mockRestore();
    expect((await s.stats(MODEL)).deadFaces).toBe(12);
    dir.quotaBytes = Infinity;
    await s.delete([faces[12].key]);
    const after = await s.stats(MODEL);
    expect(after.deadFaces).toBe(0);
    expect(after.liveFaces).toBe(7);
    expect(after.facesBytes).toBeLessThan(full.facesBytes / 2);
    s.close();
    const again = d.storage('compact');
    expect((await again.loadIndex(MODEL)).keys).toEqual(faces.slice(13).map((f) => f.key));
    for (const f of faces.slice(13)) expect(await (await again.thumbnail(f.key))?.text()).toBe(await f.thumbnail.text());
  });

  it('takes concurrent puts into an empty gallery (the lanes of an import) and answers lookups meanwhile', async () => {
    const d = disk();
    const faces = gallery(8);
    const s = d.storage('compact');
    await Promise.all([...faces.map((f) => s.put(f)), ...faces.map((f) => s.has(f.key)), s.readJournal(MODEL)]);
    expect((await d.storage('compact').loadIndex(MODEL)).keys.toSorted()).toEqual(faces.map((f) => f.key).sort());
  });

  it('keeps galleries of two formats and two recognizers apart', async () => {
    const d = disk();
    const rand = seededRandom(3);
    await d.storage('compact').put(face(rand, 1, 0));
    await d.storage('float32').put(face(rand, 2, 0));
    await d.storage('compact').put(face(rand, 3, 0, 'other@v2'));
    expect((await d.storage('compact').loadIndex(MODEL)).labels).toEqual(['person1']);
    expect((await d.storage('float32').loadIndex(MODEL)).labels).toEqual(['person2']);
    expect((await d.storage('compact').loadIndex('other@v2')).labels).toEqual(['person3']);
  });
});

class FakeLegacy implements LegacyGalleryPort {
  readonly records = new Map<string, StoredFace>();
  failGetsAfter = Infinity;
  gets = 0;
  cleared = false;
  async keys(modelKey: string): Promise<string[]> {
    return [...this.records.values()].filter((f) => f.modelKey === modelKey).map((f) => f.key);
  }
  async get(key: string): Promise<StoredFace | undefined> {
    if (this.gets++ >= this.failGetsAfter) throw new Error('tab closed');
    return this.records.get(key);
  }
  async clear(modelKey: string): Promise<void> {
    for (const [k, f] of this.records) if (f.modelKey === modelKey) this.records.delete(k);
    this.cleared = true;
  }
  removed = false;
  async removeIfEmpty(): Promise<boolean> {
    if (this.records.size > 0) return false;
    this.removed = true;
    return true;
  }
}

describe('migrateLegacyGallery', () => {
  it('moves every face with progress, resumes after an interruption without copying twice, and deletes the old records only at the end', async () => {
    const faces = gallery(20);
    const legacy = new FakeLegacy();
    for (const f of faces) legacy.records.set(f.key, f);
    const d = disk();
    legacy.failGetsAfter = 7;
    await expect(migrateLegacyGallery(legacy, d.storage('float32'), MODEL)).rejects.toThrow('tab closed');
    expect(legacy.cleared).toBe(false);
    expect(legacy.removed).toBe(false);
    expect((await d.storage('float32').loadIndex(MODEL)).keys).toHaveLength(7);
    legacy.failGetsAfter = Infinity;
    const progress: number[] = [];
    const copied = await migrateLegacyGallery(legacy, d.storage('float32'), MODEL, (p) => progress.push(p.done));
    expect(copied).toBe(13);
    expect(progress).toEqual(faces.map((_, i) => i + 1));
    expect(legacy.cleared).toBe(true);
    expect(legacy.removed).toBe(true);
    const after = d.storage('float32');
    expect((await after.loadIndex(MODEL)).keys.toSorted()).toEqual(faces.map((f) => f.key).sort());
    for (const f of faces) expect((await after.get(f.key))?.patches.data).toEqual(f.patches.data);
    expect(await migrateLegacyGallery(legacy, after, MODEL)).toBe(0);
  });

  it('keeps the old database while another recognizer still has faces in it, and removes it after the last one moves', async () => {
    const rand = seededRandom(31);
    const legacy = new FakeLegacy();
    const mine = face(rand, 1, 0);
    const theirs = face(rand, 2, 0, 'other@v2');
    legacy.records.set(mine.key, mine);
    legacy.records.set(theirs.key, theirs);
    const d = disk();
    expect(await migrateLegacyGallery(legacy, d.storage('compact'), MODEL)).toBe(1);
    expect(legacy.removed).toBe(false);
    expect(await migrateLegacyGallery(legacy, d.storage('compact'), 'other@v2')).toBe(1);
    expect(legacy.removed).toBe(true);
  });
});

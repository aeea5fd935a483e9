/**
 * What start-up's lists cost per face in the JS heap, beside the stage-1
 * rows: N synthetic faces (1536-D vectors, tiny maps) are written through
 * RecordGalleryStorage ('compact', in-memory files), then a GalleryService
 * loads them, and the heap and array-buffer growth over the load is divided
 * by N (after two forced collections). The rows live in WebAssembly memory,
 * which neither figure counts; the last column is what the index reports.
 *
 *   node --expose-gc --import tsx bench/listMemory.ts [N]     (default 100,000)
 */
import { GalleryService } from '../src/app/galleryService.ts';
import { faceKey, type StoredFace } from '../src/app/storedFace.ts';
import { RecordGalleryStorage } from '../src/storage/recordGalleryStorage.ts';
import { MemoryDirectory } from '../tests/support/memoryFiles.ts';
const N = Number(process.argv[2] ?? 100000);
const MODEL = 'mfn-faceres@v3';
const dirs = new Map<string, MemoryDirectory>();
const storage = () =>
  new RecordGalleryStorage({
    format: 'compact',
    directory: async (name) => {
      let d = dirs.get(name);
      if (!d) dirs.set(name, (d = new MemoryDirectory()));
      return d;
    },
  });
const s = storage();
const thumb = new Blob([new Uint8Array(100)], { type: 'image/jpeg' });
const data = new Float32Array(7 * 7 * 8).fill(0.5);
for (let first = 0; first < N; first += 1000) {
  const faces: StoredFace[] = [];
  for (let i = first; i < first + 1000; i++) {
    const hash = i.toString(16).padStart(64, '0');
    const embedding = Float32Array.from({ length: 1536 }, (_, j) => Math.sin(i * 7 + j));
    faces.push({
      key: faceKey(MODEL, hash),
      modelKey: MODEL,
      contentHash: hash,
      label: `person_${Math.floor(i / 4)}`,
      fileName: `person_${Math.floor(i / 4)}/photo_${i}.jpg`,
      addedAt: 1,
      embedding,
      patches: { h: 7, w: 7, c: 8, data },
      landmarks68: null,
      cropSize: 224,
      thumbnail: thumb,
    });
  }
  await s.putBatch(faces);
}
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc --import tsx bench/listMemory.ts');
gc();
gc();
const before = process.memoryUsage();
const service = new GalleryService(storage(), MODEL, { accelerator: null });
const t0 = performance.now();
await service.load();
const loadMs = performance.now() - t0;
gc();
gc();
const after = process.memoryUsage();
console.log(
  `${N.toLocaleString('en')} faces loaded: heapUsed +${((after.heapUsed - before.heapUsed) / N).toFixed(0)} B/face, arrayBuffers +${((after.arrayBuffers - before.arrayBuffers) / N).toFixed(0)} B/face, rss +${((after.rss - before.rss) / N).toFixed(0)} B/face; stage1 ${service.index.byteLength.stage1 / N} B/face`,
);
const t = service.lastLoad;
if (t) console.log(`load() ${loadMs.toFixed(0)} ms: list ${t.listMs.toFixed(0)}, row reads ${t.readRowsMs.toFixed(0)}, index ${t.indexMs.toFixed(0)}`);

import { describe, expect, it } from 'vitest';
import { zipSync, strToU8 } from 'fflate';
import { GalleryService } from '../../../src/app/galleryService.ts';
import { ImportService } from '../../../src/app/importService.ts';
import type { ImportProgress } from '../../../src/app/engineApi.ts';
import { AppError } from '../../../src/core/errors.ts';
import { FakeExtractor, MemoryStorage, faceFile, groupPhotoFile } from '../../support/appPorts.ts';

const MODEL = 'test@v1';
const clock = () => {
  let t = 0;
  return { now: () => (t += 5), wallClock: () => 1_700_000_000_000 };
};

function setup(opts: { concurrency?: number } = {}) {
  const storage = new MemoryStorage();
  const gallery = new GalleryService(storage, MODEL, { accelerator: null });
  const extractor = new FakeExtractor(opts);
  const imports = new ImportService(gallery, extractor, clock());
  return { storage, gallery, extractor, imports };
}

const entry = (path: string, file: Blob) => ({ path, file });

describe('ImportService', () => {
  it('asks the extraction workers for the aligned face in the type the storage keeps thumbnails in', async () => {
    for (const type of ['image/jpeg', 'image/png'] as const) {
      const { imports, storage } = setup();
      storage.thumbnailType = type;
      await imports.importFiles([entry('lfw/Ann/Ann_0001.jpg', faceFile('Ann', 0))], () => undefined);
      const [stored] = storage.records.values();
      expect(stored.thumbnail.type).toBe(type);
    }
  });

  it('adds every face under its folder name and refuses non-images by name', async () => {
    const { gallery, imports, storage } = setup();
    const reports: ImportProgress[] = [];
    const final = await imports.importFiles(
      [
        entry('lfw/Ann/Ann_0001.jpg', faceFile('Ann', 0)),
        entry('lfw/Ann/Ann_0002.jpg', faceFile('Ann', 1)),
        entry('lfw/Bob/Bob_0001.png', faceFile('Bob', 0)),
        entry('lfw/notes.txt', new Blob(['hello'])),
      ],
      (p) => reports.push(p),
    );
    expect(final).toMatchObject({ done: 3, total: 3, added: 3, skippedDuplicates: 0, finished: true, cancelled: false });
    expect(final.problems).toEqual([expect.objectContaining({ file: 'lfw/notes.txt', code: 'not-an-image' })]);
    expect(gallery.info().identities).toEqual([
      { label: 'Ann', count: 2 },
      { label: 'Bob', count: 1 },
    ]);
    expect(storage.records.size).toBe(3);
    expect([...storage.records.values()].every((f) => f.modelKey === MODEL && f.addedAt === 1_700_000_000_000)).toBe(true);
    expect(reports.at(-1)?.finished).toBe(true);
    expect(reports[0]?.finished).toBe(false);
  });

  it('indexes identical content once per import and names the copy it kept', async () => {
    const { gallery, imports, extractor } = setup();
    const final = await imports.importFiles([entry('A/Ann/1.jpg', faceFile('Ann', 0)), entry('B/Ann/copy.jpg', faceFile('Ann', 0))], () => {});
    expect(final.added).toBe(1);
    expect(final.skippedDuplicates).toBe(1);
    expect(extractor.extracted).toHaveLength(1);
    const dup = final.problems.find((p) => p.code === 'duplicate-image');
    expect(dup?.file).toBe(extractor.extracted[0] === 'A/Ann/1.jpg' ? 'B/Ann/copy.jpg' : 'A/Ann/1.jpg');
    expect(dup?.message).toContain(extractor.extracted[0]);
    expect(gallery.size).toBe(1);
  });

  it('skips files already in the gallery, in memory or only on disk, without extracting them again', async () => {
    const { imports, extractor, storage } = setup();
    await imports.importFiles([entry('x/Ann/1.jpg', faceFile('Ann', 0))], () => {});
    const again = await imports.importFiles([entry('x/Ann/1.jpg', faceFile('Ann', 0))], () => {});
    expect(again).toMatchObject({ added: 0, skippedDuplicates: 1, problems: [] });
    // A second page (a fresh service on the same storage, not yet loaded) still finds it on disk.
    const other = new ImportService(new GalleryService(storage, MODEL, { accelerator: null }), extractor, clock());
    const third = await other.importFiles([entry('x/Ann/1.jpg', faceFile('Ann', 0))], () => {});
    expect(third).toMatchObject({ added: 0, skippedDuplicates: 1 });
    expect(extractor.extracted).toHaveLength(1);
  });

  it('reports a failed image with its file, code and hint and goes on with the rest', async () => {
    const { gallery, imports } = setup();
    const final = await imports.importFiles([entry('p/Ann/1.jpg', new Blob(['not a face'])), entry('p/Bob/1.jpg', faceFile('Bob', 0))], () => {});
    expect(final.added).toBe(1);
    expect(final.problems).toEqual([expect.objectContaining({ file: 'p/Ann/1.jpg', code: 'no-face', hint: expect.any(String) })]);
    expect(gallery.items().map((i) => i.label)).toEqual(['Bob']);
  });

  it("indexes a group photo under its central face and lists it with the extractor's notice", async () => {
    const { gallery, imports } = setup();
    const final = await imports.importFiles([entry('g/Ann/1.jpg', groupPhotoFile('Ann', 0)), entry('g/Bob/1.jpg', faceFile('Bob', 0))], () => {});
    expect(final).toMatchObject({ done: 2, added: 2 });
    const labels = gallery.items().map((i) => i.label);
    expect(labels.sort()).toEqual(['Ann', 'Bob']);
    expect(final.problems).toEqual([{ file: 'g/Ann/1.jpg', code: 'several-faces-indexed-central', message: expect.stringContaining('indexed the central one'), hint: expect.any(String) }]);
  });

  it('stops at a full disk, keeps what was saved and does not try the rest', async () => {
    const { gallery, imports, storage, extractor } = setup({ concurrency: 1 });
    storage.failPutsAfter = { count: 2, error: new AppError('storage-quota', 'quota full', 'Free space.') };
    const files = Array.from({ length: 8 }, (_, i) => entry(`q/P${i}/1.jpg`, faceFile(`P${i}`, 0)));
    const final = await imports.importFiles(files, () => {});
    expect(final.added).toBe(2);
    expect(final.cancelled).toBe(true);
    expect(final.problems.filter((p) => p.code === 'storage-quota').length).toBeGreaterThanOrEqual(1);
    // One worker plus one read-ahead lane: at most the two jobs in flight when the disk filled are tried after it.
    expect(extractor.extracted.length).toBeLessThanOrEqual(4);
    expect(gallery.size).toBe(2);
    expect(storage.records.size).toBe(2);
  });

  it('cancel stops the import; finished faces stay', async () => {
    const { gallery, imports, extractor } = setup({ concurrency: 1 });
    let release: () => void = () => {};
    extractor.gate = new Promise((r) => (release = r));
    const files = Array.from({ length: 6 }, (_, i) => entry(`c/P${i}/1.jpg`, faceFile(`P${i}`, 0)));
    const running = imports.importFiles(files, () => {});
    await new Promise((r) => setTimeout(r, 20));
    imports.cancel();
    release();
    const final = await running;
    expect(final.cancelled).toBe(true);
    expect(final.done).toBeLessThan(6);
    expect(gallery.size).toBe(0); // the jobs in flight when cancelled are not saved
    expect(extractor.extracted.length).toBeLessThanOrEqual(2);
  });

  it('opens zips, keeps their inner folders as identities, skips junk and reports an unreadable zip', async () => {
    const { gallery, imports } = setup();
    const bytes = async (b: Blob) => new Uint8Array(await b.arrayBuffer());
    const zip = zipSync({
      'Ann/Ann_0001.jpg': await bytes(faceFile('Ann', 0)),
      'Ann/Ann_0002.jpg': await bytes(faceFile('Ann', 1)),
      '__MACOSX/Ann/._Ann_0001.jpg': strToU8('resource fork'),
      'Ann/.DS_Store': strToU8('finder'),
    });
    const final = await imports.importFiles([entry('set.zip', new Blob([zip])), entry('broken.zip', new Blob(['PK not really']))], () => {});
    expect(final.added).toBe(2);
    expect(gallery.info().identities).toEqual([{ label: 'Ann', count: 2 }]);
    expect(gallery.items().map((i) => i.fileName)).toEqual(['set/Ann/Ann_0001.jpg', 'set/Ann/Ann_0002.jpg']);
    expect(final.problems).toEqual([expect.objectContaining({ file: 'broken.zip', code: 'corrupt-archive' })]);
  });

  it('staged batches import as one list; reset starts over', async () => {
    const { gallery, imports } = setup();
    expect(imports.stage([entry('s/Old/1.jpg', faceFile('Old', 0))], true)).toBe(1);
    expect(imports.stage([entry('s/Ann/1.jpg', faceFile('Ann', 0))], true)).toBe(1);
    expect(imports.stage([entry('s/Bob/1.jpg', faceFile('Bob', 0))], false)).toBe(2);
    const final = await imports.importStaged(() => {});
    expect(final.added).toBe(2);
    expect(gallery.items().map((i) => i.label)).toEqual(['Ann', 'Bob']);
    expect((await imports.importStaged(() => {})).total).toBe(0);
  });

  it('keeps every worker busy plus one job reading ahead, and no more', async () => {
    const { imports, extractor } = setup({ concurrency: 2 });
    let release: () => void = () => {};
    extractor.gate = new Promise((r) => (release = r));
    const files = Array.from({ length: 10 }, (_, i) => entry(`k/P${i}/1.jpg`, faceFile(`P${i}`, 0)));
    const running = imports.importFiles(files, () => {});
    await new Promise((r) => setTimeout(r, 30));
    expect(extractor.inFlight).toBe(3);
    release();
    expect((await running).added).toBe(10);
    expect(extractor.maxInFlight).toBe(3);
  });

  it('keeps a journal on disk while importing and removes it when the import ends', async () => {
    const { imports, extractor, storage } = setup({ concurrency: 1 });
    let release: () => void = () => {};
    extractor.gate = new Promise((r) => (release = r));
    const files = Array.from({ length: 5 }, (_, i) => entry(`j/P${i}/1.jpg`, faceFile(`P${i}`, 0)));
    const running = imports.importFiles(files, () => {});
    await new Promise((r) => setTimeout(r, 20));
    // A page closed now leaves this behind for the next load.
    expect(storage.journals.get(MODEL)).toMatchObject({ total: 5, done: 0 });
    release();
    await running;
    expect(storage.journals.size).toBe(0);
    // Written after every finished file (two lanes may write the same count), so a reload reads an exact, never decreasing count.
    const counts = storage.journalWrites.map((j) => j.done);
    expect(counts[0]).toBe(0);
    expect(counts.at(-1)).toBe(5);
    expect(counts.length).toBe(6);
    expect(counts.every((c, i) => i === 0 || c >= counts[i - 1])).toBe(true);
  });
});

describe('ImportService problem reports', () => {
  it('sends problems by kind while running and every file only in the final report', async () => {
    const { imports } = setup();
    const reports: ImportProgress[] = [];
    const refused = Array.from({ length: 400 }, (_, i) => entry(`many/P/${i}.jpg`, new Blob([`not a photo ${i}`])));
    const final = await imports.importFiles([entry('many/readme.txt', new Blob(['hi'])), ...refused], (p) => reports.push(p));

    const running = reports.filter((r) => !r.finished);
    // Reports come every 150 ms of the import's clock: several while 400 files are refused.
    expect(running.filter((r) => r.problemCount > 1).length).toBeGreaterThan(2);
    for (const r of running) {
      // 5,000 problems cloned to the page every 150 ms froze it: a running report names a few files a kind.
      expect(r.problems).toEqual([]);
      expect(r.problemGroups.reduce((s, g) => s + g.count, 0)).toBe(r.problemCount);
      for (const g of r.problemGroups) expect(g.examples.length).toBeLessThanOrEqual(5);
    }
    const last = running.at(-1);
    expect(last?.problemGroups.map((g) => g.code)).toEqual(['not-an-image', 'no-face']);

    expect(final.problemCount).toBe(401);
    expect(final.problems).toHaveLength(401);
    expect(
      final.problems
        .filter((p) => p.code === 'no-face')
        .map((p) => p.file)
        .sort(),
    ).toEqual(refused.map((e) => e.path).sort());
    expect(final.problemGroups).toEqual([
      { code: 'not-an-image', count: 1, hint: expect.stringContaining('JPEG'), examples: [expect.objectContaining({ file: 'many/readme.txt' })] },
      { code: 'no-face', count: 400, hint: 'Use a photo of a face.', examples: expect.any(Array) },
    ]);
    expect(final.problemGroups[1]?.examples).toHaveLength(5);
  });
});

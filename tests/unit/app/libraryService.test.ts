/**
 * The photo library through the whole engine (AppEngine, in-memory ports):
 * import, grouping into people with the same-photo rule, resume by content
 * hash, naming, merging, moving a face out, persistence, a photo cut short,
 * and search. FakeExtractor's library photos name their faces, so the true
 * people are known independently of the clustering.
 */
import { describe, expect, it } from 'vitest';
import { AppEngine } from '../../../src/app/appEngine.ts';
import { AppError } from '../../../src/core/errors.ts';
import { DEFAULT_SETTINGS } from '../../../src/core/types.ts';
import { MemoryEnginePorts, faceFile, libraryPhotoFile, syntheticEmbedding } from '../../support/appPorts.ts';

const DEFAULT_PIPELINE = 'mfn-faceres';
type Face = readonly [string, number];
const entry = (path: string, faces: readonly Face[]) => ({ path, file: libraryPhotoFile(faces) });

/** People whose synthetic embeddings point along different axes (so they are different people to any threshold). */
const axis = (id: string) => syntheticEmbedding(id, 0).reduce((best, x, i, e) => (x > e[best] ? i : best), 0);

const FOLDER = [
  entry('trips/2019/beach.jpg', [
    ['Ann', 0],
    ['Bob', 0],
  ]),
  entry('trips/2019/ann.jpg', [['Ann', 1]]),
  entry('home/party.png', [
    ['Bob', 1],
    ['Cid', 0],
  ]),
  entry('home/landscape.jpg', []),
];

async function engineWith(ports = new MemoryEnginePorts(), recognizerId = DEFAULT_PIPELINE) {
  const engine = new AppEngine(ports, { accelerator: null });
  await engine.init({ ortBackend: 'wasm', recognizerId });
  return { ports, engine };
}

async function importFolder(engine: AppEngine, entries: readonly { path: string; file: Blob }[]) {
  engine.stageImportEntries(entries, true);
  return engine.importStagedLibrary(() => {});
}

/** Person label of each true identity's faces; throws if a true person is split. */
function peopleByIdentity(engine: AppEngine, truth: ReadonlyMap<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of engine.libraryFaces()) {
    const who = truth.get(`${f.path}#${f.faceIndex}`);
    if (!who) throw new Error(`no truth for ${f.path}#${f.faceIndex}`);
    const seen = out.get(who);
    if (seen !== undefined && seen !== f.label) throw new Error(`${who} is split between ${seen} and ${f.label}`);
    out.set(who, f.label);
  }
  return out;
}

function truthOf(entries: readonly { path: string; faces: readonly Face[] }[]): Map<string, string> {
  return new Map(entries.flatMap((e) => e.faces.map(([id], i) => [`${e.path}#${i}`, id] as const)));
}

const FOLDER_TRUTH = truthOf([
  {
    path: 'trips/2019/beach.jpg',
    faces: [
      ['Ann', 0],
      ['Bob', 0],
    ],
  },
  { path: 'trips/2019/ann.jpg', faces: [['Ann', 1]] },
  {
    path: 'home/party.png',
    faces: [
      ['Bob', 1],
      ['Cid', 0],
    ],
  },
]);

describe('photo library', () => {
  it('indexes every face of every photo and groups them into the true people, largest first', async () => {
    expect(new Set(['Ann', 'Bob', 'Cid'].map(axis)).size).toBe(3);
    const { engine } = await engineWith();
    const report = await importFolder(engine, [...FOLDER, { path: 'notes.txt', file: new Blob(['x']) }, { path: 'broken.jpg', file: new Blob(['\xff\xd8 cut']) }]);
    expect(report).toMatchObject({ finished: true, added: 5, total: 5, done: 5 });
    expect(report.problems.map((p) => [p.file, p.code])).toEqual(
      expect.arrayContaining([
        ['notes.txt', 'not-an-image'],
        ['broken.jpg', 'corrupt-image'],
      ]),
    );
    const info = engine.libraryInfo();
    expect(info).toMatchObject({ photos: 3, faces: 5, unplaced: 0 });
    const who = peopleByIdentity(engine, FOLDER_TRUTH);
    expect(new Set(who.values()).size).toBe(3);
    expect(info.people.map((p) => p.count)).toEqual([2, 2, 1]);
    expect(new Map(info.people.map((p) => [p.label, [p.count, p.name]]))).toEqual(
      new Map([
        [who.get('Ann'), [2, null]],
        [who.get('Bob'), [2, null]],
        [who.get('Cid'), [1, null]],
      ]),
    );
    const beach = engine.libraryFaces().filter((f) => f.path === 'trips/2019/beach.jpg');
    expect(beach.map((f) => [f.faceIndex, f.box])).toEqual([
      [0, [0, 10, 40, 50]],
      [1, [100, 10, 40, 50]],
    ]);
    expect(await engine.thumbnail(beach[0].key)).toBeInstanceOf(Blob);
  });

  it('asks for every face of a photo in the type the storage keeps thumbnails in', async () => {
    const ports = new MemoryEnginePorts();
    ports.storage.thumbnailType = 'image/jpeg';
    const { engine } = await engineWith(ports);
    await importFolder(engine, FOLDER);
    const faces = engine.libraryFaces();
    expect(faces).toHaveLength(5);
    for (const f of faces) expect((await engine.thumbnail(f.key))?.type).toBe('image/jpeg');
  });

  it('says when it is grouping faces into people, after every photo is read and before the final report', async () => {
    const { engine } = await engineWith();
    const reports: { done: number; phase?: string; finished: boolean }[] = [];
    engine.stageImportEntries(FOLDER, true);
    await engine.importStagedLibrary((p) => reports.push({ done: p.done, phase: p.phase, finished: p.finished }));
    const grouping = reports.findIndex((r) => r.phase === 'grouping');
    expect(grouping).toBeGreaterThanOrEqual(0);
    expect(reports[grouping]).toEqual({ done: FOLDER.length, phase: 'grouping', finished: false });
    expect(reports.slice(grouping + 1).map((r) => r.finished)).toEqual([true]);
  });

  it('never puts two faces of one photo in one person, even the same person twice', async () => {
    const { engine } = await engineWith();
    await importFolder(engine, [
      entry('mirror.jpg', [
        ['Dan', 0],
        ['Dan', 1],
      ]),
      entry('dan.jpg', [['Dan', 2]]),
    ]);
    const faces = engine.libraryFaces();
    const mirror = faces.filter((f) => f.path === 'mirror.jpg');
    expect(mirror[0].label).not.toBe(mirror[1].label);
    expect(engine.libraryInfo().people.map((p) => p.count)).toEqual([2, 1]);
  });

  it('dropping the folder again skips done photos; new photos join the existing (named) people', async () => {
    const { engine, ports } = await engineWith();
    await importFolder(engine, FOLDER);
    const who = peopleByIdentity(engine, FOLDER_TRUTH);
    const annLabel = who.get('Ann') ?? '';
    expect(await engine.namePerson(annLabel, '  Ann   Smith ')).toBe('Ann Smith');
    const extractedBefore = ports.extractors[0].extracted.length;
    const more = entry('2020/picnic.jpg', [
      ['Cid', 2],
      ['Ann', 2],
    ]);
    const report = await importFolder(engine, [...FOLDER, more]);
    expect(report).toMatchObject({ added: 2, skippedDuplicates: 4 });
    // Only the new photo was extracted again: the faceless one is stored as done too.
    expect(ports.extractors[0].extracted.slice(extractedBefore)).toEqual(['2020/picnic.jpg']);
    const info = engine.libraryInfo();
    expect(info.people.map((p) => p.count)).toEqual([3, 2, 2]);
    expect(new Map(info.people.map((p) => [p.name ?? p.label, p.count]))).toEqual(
      new Map([
        ['Ann Smith', 3],
        [who.get('Bob'), 2],
        [who.get('Cid'), 2],
      ]),
    );
    const picnic = engine.libraryFaces().filter((f) => f.path === '2020/picnic.jpg');
    expect(picnic.map((f) => f.label)).toEqual([who.get('Cid'), 'Ann Smith']);
  });

  it('names, merges and moves faces out; refuses names kept for unnamed people', async () => {
    const { engine } = await engineWith();
    await importFolder(engine, FOLDER);
    const who = peopleByIdentity(engine, FOLDER_TRUTH);
    const bob = who.get('Bob') ?? '';
    const cid = who.get('Cid') ?? '';
    for (const bad of ['', '   ', '#7', 'x'.repeat(101)]) await expect(engine.namePerson(bob, bad)).rejects.toMatchObject({ code: 'invalid-argument', hint: expect.any(String) });
    await expect(engine.namePerson('#999', 'Zed')).rejects.toMatchObject({ code: 'unknown-id' });
    await engine.mergePeople(cid, bob);
    expect(engine.libraryFaces(bob)).toHaveLength(3);
    expect(engine.libraryFaces(cid)).toHaveLength(0);
    const moved = engine.libraryFaces(bob).find((f) => f.path === 'home/party.png' && f.faceIndex === 1);
    if (!moved) throw new Error('Cid’s face is missing');
    const label = await engine.moveFaceOut(moved.key);
    expect(engine.libraryFaces(label).map((f) => f.key)).toEqual([moved.key]);
    expect(engine.libraryFaces(bob)).toHaveLength(2);
    // Naming a person with a name another person has merges them.
    await engine.namePerson(label, 'Bob');
    await engine.namePerson(bob, 'Bob');
    expect(engine.libraryInfo().people.find((p) => p.name === 'Bob')?.count).toBe(3);
  });

  it('people and names persist; the labelled gallery is untouched by the library', async () => {
    const { engine, ports } = await engineWith();
    await engine.importFiles([{ path: 'g/Eve/Eve_0001.jpg', file: faceFile('Eve', 0) }], () => {});
    await importFolder(engine, FOLDER);
    const who = peopleByIdentity(engine, FOLDER_TRUTH);
    await engine.namePerson(who.get('Cid') ?? '', 'Cid');
    const before = engine.libraryInfo();
    const again = await engineWith(ports);
    expect(again.engine.libraryInfo()).toEqual(before);
    expect(again.engine.galleryInfo().count).toBe(1);
  });

  it('a photo cut short by a full disk is finished when dropped again, without duplicate faces', async () => {
    const { engine, ports } = await engineWith();
    // The first put (face 1 of the beach photo: faces are written last to first) succeeds, the next fails.
    ports.storage.failPutsAfter = { count: 1, error: new AppError('storage-quota', 'the disk is full', 'Free some space.') };
    const cut = await importFolder(engine, [FOLDER[0]]);
    expect(cut.problems.map((p) => p.code)).toContain('storage-quota');
    expect(engine.libraryInfo().faces).toBe(1);
    ports.storage.failPutsAfter = null;
    const report = await importFolder(engine, FOLDER);
    expect(report.skippedDuplicates).toBe(0);
    expect(engine.libraryInfo()).toMatchObject({ photos: 3, faces: 5, unplaced: 0 });
    expect(new Set(peopleByIdentity(engine, FOLDER_TRUTH).values()).size).toBe(3);
  });

  it('a model that moved from WebGPU to WASM is reported with the photo it happened on, whose faces are indexed', async () => {
    const { engine, ports } = await engineWith();
    ports.extractors[0].modelNotice = { code: 'webgpu-run-failed', message: 'the ultraface-detector model failed on WebGPU (device lost); it runs on WASM from now on', hint: 'Nothing is lost.' };
    const report = await importFolder(engine, [FOLDER[1]]);
    expect(report.problems).toEqual([{ file: 'trips/2019/ann.jpg', code: 'webgpu-run-failed', message: expect.stringContaining('device lost') as unknown, hint: 'Nothing is lost.' }]);
    expect(engine.libraryInfo()).toMatchObject({ photos: 1, faces: 1 });
  });

  it('opens a photo with every face boxed and named, from its stored preview; also after a restart', async () => {
    const { engine, ports } = await engineWith();
    await importFolder(engine, FOLDER);
    const who = peopleByIdentity(engine, FOLDER_TRUTH);
    const party = engine.libraryFaces().filter((f) => f.path === 'home/party.png');
    const photoHash = party[0].photoHash;
    for (const e of [engine, (await engineWith(ports)).engine]) {
      const view = await e.libraryPhoto(photoHash);
      if (!view?.preview) throw new Error('no photo view');
      // FakeExtractor's photo: one 40 x 50 box per face, 100 px apart, in a (100 * faces + 100) x 100 frame.
      expect(view).toMatchObject({ path: 'home/party.png', width: 300, height: 100 });
      expect(view.faces.map((f) => [f.faceIndex, f.box, f.label])).toEqual([
        [0, [0, 10, 40, 50], who.get('Bob')],
        [1, [100, 10, 40, 50], who.get('Cid')],
      ]);
      expect(await view.preview.text()).toBe('preview:Bob:1,Cid:0');
      expect(view.preview.type).toBe('image/jpeg');
      // The results' thumbnails read only the stored photo.
      const stored = await e.libraryPhotoPreview(photoHash);
      expect(stored).toMatchObject({ width: 300, height: 100, faces: 2 });
      expect(await stored?.preview?.text()).toBe('preview:Bob:1,Cid:0');
    }
    expect(await engine.libraryPhoto('0'.repeat(64))).toBeNull();
  });

  it('a library imported before previews were kept shows boxes without a picture; dropping it again adds the previews, not faces', async () => {
    const { engine, ports } = await engineWith();
    await importFolder(engine, FOLDER);
    const before = engine.libraryInfo();
    for (const name of await ports.photoFiles.names()) await ports.photoFiles.remove(name);
    const old = (await engineWith(ports)).engine;
    const photoHash = old.libraryFaces().find((f) => f.path === 'trips/2019/beach.jpg')?.photoHash ?? '';
    expect(await old.libraryPhoto(photoHash)).toMatchObject({ preview: null, width: null, faces: [{ faceIndex: 0 }, { faceIndex: 1 }] });
    const report = await importFolder(old, FOLDER);
    expect(report).toMatchObject({ added: 5, skippedDuplicates: 0 });
    expect(old.libraryInfo()).toEqual(before);
    expect(await (await old.libraryPhoto(photoHash))?.preview?.text()).toBe('preview:Ann:0,Bob:0');
  });

  it('searches the library with a query face: hits are faces in photos with their person', async () => {
    const { engine } = await engineWith();
    await importFolder(engine, FOLDER);
    await engine.setQuery('q/bob.jpg', faceFile('Bob', 3), 'none');
    const r = await engine.searchLibrary({ ...DEFAULT_SETTINGS, k: 5 });
    const bob = peopleByIdentity(engine, FOLDER_TRUTH).get('Bob');
    expect(r.stage2[0]).toMatchObject({ label: bob, rankAfter: 1 });
    expect(['trips/2019/beach.jpg', 'home/party.png']).toContain(r.stage2[0].path);
    expect(r.stage1).toHaveLength(5);
    // The flow view of a library hit: the pair is built from the library's face, not looked for in the labelled gallery.
    const pair = await engine.pairDetail(r.stage2[0].key, { ...DEFAULT_SETTINGS, k: 5 });
    expect(pair.key).toBe(r.stage2[0].key);
    expect(pair.plan).toHaveLength(pair.grid ** 4);
    expect(await pair.galleryAligned.text()).toMatch(/^aligned:Bob:[01]:none$/);
  });

  it('a library face as the query names its photo, and its person only once named', async () => {
    const { engine } = await engineWith();
    await importFolder(engine, FOLDER);
    const face = engine.libraryFaces().find((f) => f.path === 'home/party.png' && f.faceIndex === 1);
    if (!face) throw new Error('the party photo has no second face');
    const unnamed = await engine.setQueryFromGallery(face.key);
    expect(unnamed.fileName).toBe('home/party.png (face 2)');
    expect(unnamed.knownIdentity).toBeUndefined();
    await engine.namePerson(face.label, 'Cid');
    expect((await engine.setQueryFromGallery(face.key)).knownIdentity).toBe('Cid');
    const r = await engine.searchLibrary({ ...DEFAULT_SETTINGS, k: 5 });
    expect(r.stage2[0]).toMatchObject({ key: face.key, label: 'Cid' });
  });

  it('with a recognizer that has no measured threshold, faces are indexed and searchable but not grouped', async () => {
    const { engine } = await engineWith(new MemoryEnginePorts(), 'test-recognizer');
    const report = await importFolder(engine, FOLDER);
    expect(report.added).toBe(5);
    expect(report.problems.map((p) => p.code)).toContain('invalid-argument');
    const info = engine.libraryInfo();
    expect(info).toMatchObject({ faces: 5, unplaced: 5, people: [] });
    expect(info.groupingUnavailable).toMatch(/test-recognizer/);
  });
});

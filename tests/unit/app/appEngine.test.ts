import { describe, expect, it } from 'vitest';
import { AppEngine } from '../../../src/app/appEngine.ts';
import { DEFAULT_SETTINGS } from '../../../src/core/types.ts';
import { MemoryEnginePorts, RecordingTestHooks, faceFile } from '../../support/appPorts.ts';

const entry = (path: string, file: Blob) => ({ path, file });
const people = ['Ann', 'Bob', 'Cid'];

async function withGallery() {
  const ports = new MemoryEnginePorts();
  const engine = new AppEngine(ports, { accelerator: null });
  await engine.init({ ortBackend: 'wasm' });
  await engine.importFiles(
    people.flatMap((p) => [0, 1, 2].map((v) => entry(`g/${p}/${p}_000${v}.jpg`, faceFile(p, v)))),
    () => {},
  );
  return { ports, engine };
}

const settings = { ...DEFAULT_SETTINGS, k: 5 };

describe('AppEngine', () => {
  it('refuses work before init with a typed error and a hint', () => {
    const engine = new AppEngine(new MemoryEnginePorts(), { accelerator: null });
    expect(() => engine.galleryInfo()).toThrow(expect.objectContaining({ code: 'internal', hint: expect.any(String) }));
    expect(engine.workerRestarts()).toBe(0);
  });

  it("a query's view carries a model's move to WASM when the worker reports it on that query, once", async () => {
    const { ports, engine } = await withGallery();
    const moved = { code: 'webgpu-run-failed' as const, message: 'the faceres model failed on WebGPU (device lost); it runs on WASM from now on', hint: 'Nothing is lost.' };
    for (const x of ports.extractors) x.modelNotice = moved;
    const q = await engine.setQuery('queries/Bob_0009.jpg', faceFile('Bob', 3), 'none');
    expect(q.notice).toEqual(moved);
    expect((await engine.runSearch(settings)).stage1[0].label).toBe('Bob');
    for (const x of ports.extractors) x.modelNotice = null;
    expect((await engine.setQuery('queries/Bob_0009.jpg', faceFile('Bob', 3), 'none')).notice).toBeUndefined();
  });

  it('a query finds its person; the view names files and ranks; alpha re-blends the same candidates', async () => {
    const { engine } = await withGallery();
    await expect(engine.runSearch(settings)).rejects.toMatchObject({ code: 'invalid-argument' });
    const q = await engine.setQuery('queries/Bob_0009.jpg', faceFile('Bob', 3), 'none');
    expect(q.knownIdentity).toBe('Bob');
    const r = await engine.runSearch(settings);
    expect(r.galleryCount).toBe(9);
    expect(r.stage1[0].label).toBe('Bob');
    expect(r.stage2).toHaveLength(5);
    expect(r.stage2[0].fileName).toMatch(/^g\/Bob\//);
    const reblended = engine.reblend(1);
    expect(new Set(reblended.stage2.map((e) => e.key))).toEqual(new Set(r.stage2.map((e) => e.key)));
    expect(reblended.alpha).toBe(1);
    const pair = await engine.pairDetail(r.stage2[0].key, settings);
    expect(pair.plan).toHaveLength(49 * 49);
  });

  it("a fused pipeline's embedding layout reaches the search engine (a layout that leaves the primary no dimensions is refused at search)", async () => {
    class FusedPorts extends MemoryEnginePorts {
      constructor(readonly secondaryDims: number) {
        super();
      }
      override async startExtractor(opts: { recognizerId?: string; testHooks: boolean }) {
        const started = await super.startExtractor(opts);
        return { ...started, status: { ...started.status, active: { ...started.status.active, fusedCosine: { secondaryDims: this.secondaryDims, secondaryWeight: 0.4 } } } };
      }
    }
    for (const [dims, outcome] of [
      [4, 'found'],
      [8, 'refused'],
    ] as const) {
      const engine = new AppEngine(new FusedPorts(dims), { accelerator: null });
      await engine.init({ ortBackend: 'wasm' });
      await engine.importFiles(
        people.map((p) => entry(`g/${p}/${p}_0000.jpg`, faceFile(p, 0))),
        () => {},
      );
      await engine.setQuery('q/Bob.jpg', faceFile('Bob', 1), 'none');
      const r = engine.runSearch(settings).then(
        (v) => v.stage1[0].label,
        (e: { message: string }) => e.message,
      );
      await expect(r).resolves.toMatch(outcome === 'found' ? /^Bob$/ : /puts 8 of the 8 embedding dimensions on the second recognizer/);
    }
  });

  it('a query that cannot be read fails with its file name, and a gallery face can be the query', async () => {
    const { engine } = await withGallery();
    await expect(engine.setQuery('q/empty.jpg', new Blob(['nothing']), 'none')).rejects.toMatchObject({ code: 'no-face', file: 'q/empty.jpg' });
    const key = engine.galleryItems('Cid')[0].key;
    const q = await engine.setQueryFromGallery(key);
    expect(q.knownIdentity).toBe('Cid');
    const r = await engine.runSearch(settings);
    expect(r.stage1[0].key).toBe(key);
    await expect(engine.setQueryFromGallery('nope')).rejects.toMatchObject({ code: 'unknown-id' });
  });

  it('an empty gallery is a clear error, not an empty result', async () => {
    const engine = new AppEngine(new MemoryEnginePorts(), { accelerator: null });
    await engine.init({ ortBackend: 'wasm' });
    await engine.setQuery('q.jpg', faceFile('Ann', 0), 'none');
    await expect(engine.runSearch(settings)).rejects.toMatchObject({ code: 'empty-gallery' });
  });

  it('export then import into another recognizer’s engine is refused; into the same one it adds nothing new', async () => {
    const { engine, ports } = await withGallery();
    const file = await engine.exportGallery();
    expect(await engine.importGalleryFile('g.zip', file)).toEqual({ added: 0, skipped: 9 });
    await engine.clearGallery();
    expect(engine.galleryInfo().count).toBe(0);
    expect(await engine.importGalleryFile('g.zip', file)).toEqual({ added: 9, skipped: 0 });
    expect(ports.storage.records.size).toBe(9);
    const other = new AppEngine(ports, { accelerator: null });
    await other.init({ ortBackend: 'wasm', recognizerId: 'another' });
    await expect(other.importGalleryFile('g.zip', file)).rejects.toMatchObject({ code: 'invalid-argument', file: 'g.zip' });
  });

  it('switching recognizer stops the old extractor, opens storage once and shows that recognizer’s own gallery', async () => {
    const { engine, ports } = await withGallery();
    await engine.init({ ortBackend: 'wasm', recognizerId: 'another' });
    expect(ports.extractors[0].stopped).toBe(true);
    expect(ports.storageOpens).toBe(1);
    expect(engine.galleryInfo()).toMatchObject({ modelKey: 'another@v1', count: 0 });
    await engine.init({ ortBackend: 'wasm' });
    expect(engine.galleryInfo().count).toBe(9);
  });

  it('removing an identity and items changes search results', async () => {
    const { engine } = await withGallery();
    expect(await engine.removeIdentity('Bob')).toBe(3);
    await engine.removeItems([engine.galleryItems('Ann')[0].key]);
    expect(engine.galleryInfo().identities).toEqual([
      { label: 'Ann', count: 2 },
      { label: 'Cid', count: 3 },
    ]);
    await engine.setQuery('q.jpg', faceFile('Bob', 0), 'none');
    expect((await engine.runSearch(settings)).stage1.every((e) => e.label !== 'Bob')).toBe(true);
  });

  it('fault injection reaches the test-hooks port only when the page asked for test hooks', async () => {
    const ports = new MemoryEnginePorts();
    const hooks = new RecordingTestHooks();
    ports.testHooks = hooks;
    const engine = new AppEngine(ports, { accelerator: null });
    await engine.init({ ortBackend: 'wasm' });
    expect(() => engine.injectExtractFaults([{ kind: 'crash', times: 1 }])).toThrow(expect.objectContaining({ code: 'invalid-argument' }));
    await engine.init({ ortBackend: 'wasm', testHooks: true });
    engine.injectExtractFaults([{ kind: 'hang', times: 2, file: 'x' }], 500);
    expect(hooks.calls).toEqual([{ rules: [{ kind: 'hang', times: 2, file: 'x' }], jobTimeoutMs: 500 }]);
  });

  it('after a reload mid-import, the next start reports how far the cut-short import got, once', async () => {
    const ports = new MemoryEnginePorts();
    await ports.storage.writeJournal({ modelKey: 'test-recognizer@v1', total: 38, done: 9, startedAt: 1 });
    const engine = new AppEngine(ports, { accelerator: null });
    await engine.init({ ortBackend: 'wasm' });
    expect(await engine.takeInterruptedImport()).toEqual({ done: 9, total: 38 });
    expect(await engine.takeInterruptedImport()).toBeNull();
  });

  it('a search says whether its top-1 is presented as a match, from the recognizer’s unknown-person thresholds', async () => {
    const ports = new MemoryEnginePorts();
    const engine = new AppEngine(ports, { accelerator: null });
    // The default pipeline's id, so its thresholds (src/models/unknownPerson.ts) apply to the synthetic faces' cosines.
    await engine.init({ ortBackend: 'wasm', recognizerId: 'mfn-faceres' });
    await engine.importFiles([entry('g/Ann/1.jpg', faceFile('Ann', 0)), entry('g/Bob/1.jpg', faceFile('Bob', 0))], () => {});
    await engine.setQuery('q.jpg', faceFile('Ann', 1), 'none');
    const known = await engine.runSearch(settings);
    expect(known.stage1[0].score).toBeGreaterThan(0.9);
    expect(known.unknownPerson).toBe('match');
    // Cid's axis is far from Ann's and Bob's: a stranger with a low top-1 cosine.
    await engine.setQuery('q2.jpg', faceFile('Cid', 0), 'none');
    const stranger = await engine.runSearch(settings);
    expect(stranger.stage1[0].score).toBeLessThan(0.4);
    expect(stranger.unknownPerson).toBe('likely-unknown');
    // A recognizer without thresholds says nothing either way.
    await engine.init({ ortBackend: 'wasm', recognizerId: 'no-thresholds' });
    await engine.importFiles([entry('g/Ann/1.jpg', faceFile('Ann', 0))], () => {});
    await engine.setQuery('q.jpg', faceFile('Cid', 0), 'none');
    expect((await engine.runSearch(settings)).unknownPerson).toBeNull();
  });
});

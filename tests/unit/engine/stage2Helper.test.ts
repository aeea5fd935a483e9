/**
 * Stage 2 on two cores: the engine hands the later half of its candidates to a
 * helper as stored bytes. The reference is the same stored gallery searched
 * without a helper: every s_emd, score and rank must be identical (the helper
 * decodes with the storage's decoder and scores with the same scorer).
 */
import { describe, expect, it } from 'vitest';
import { GalleryService } from '../../../src/app/galleryService.ts';
import { faceKey, storedToFeatures, type StoredFace } from '../../../src/app/storedFace.ts';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { DEFAULT_SETTINGS, type RerankSettings } from '../../../src/core/types.ts';
import type { SearchResult } from '../../../src/engine/searchEngine.ts';
import {
  EncodedStage2Scorer,
  HELPER_CHUNK_CANDIDATES,
  helperShare,
  MIN_SPLIT_CANDIDATES,
  helperElapsedMs,
  nextHelperFraction,
  RecordChunkPool,
  type EncodedStage2Chunk,
  type EncodedStage2Query,
  type EncodedStage2Result,
  type Stage2Helper,
} from '../../../src/engine/stage2Helper.ts';
import { decodeNamedFaceDetail, encodeDetail, namedPatchCodecBytes } from '../../../src/storage/faceRecordCodec.ts';
import { RecordGalleryStorage } from '../../../src/storage/recordGalleryStorage.ts';
import type { StorageFormat } from '../../../src/storage/storageFormat.ts';
import { MemoryDirectory } from '../../support/memoryFiles.ts';

const MODEL = 'test@v1';
const H = 7;
const C = 32;
const DIM = 48;

/** A face of person `id`: a shared direction plus noise; the map is ReLU-sparse like FaceRes's. */
function face(rand: () => number, id: number, shot: number): StoredFace {
  const base = seededRandom(1000 + id);
  const hash = (id * 100 + shot).toString(16).padStart(64, '0');
  return {
    key: faceKey(MODEL, hash),
    modelKey: MODEL,
    contentHash: hash,
    label: `person${id}`,
    fileName: `person${id}/${shot}.jpg`,
    addedAt: 1000 + shot,
    embedding: Float32Array.from({ length: DIM }, () => base() - 0.5 + 0.3 * (rand() - 0.5)),
    patches: { h: H, w: H, c: C, data: Float32Array.from({ length: H * H * C }, () => Math.max(0, base() - 0.6 + 0.2 * (rand() - 0.5)) * 3) },
    landmarks68: Float32Array.from({ length: 136 }, (_, i) => 10 + i * 0.7 + rand()),
    cropSize: 112,
    thumbnail: new Blob(['t'], { type: 'image/png' }),
  };
}

/**
 * A helper that records what it was sent, scoring in this thread with the worker's own decoder; `timing` fakes its
 * speed (the first chunk's busy time, the others' 0, and each answer's finish this long after it was scored); 'short'
 * drops a score from the first chunk of each query.
 */
class RecordingHelper implements Stage2Helper {
  readonly queries: { query: EncodedStage2Query; chunks: EncodedStage2Chunk[] }[] = [];
  /** The buffers each query's arrays and each chunk's records arrived in. */
  readonly queryBuffers: ArrayBufferLike[] = [];
  readonly chunkBuffers: ArrayBufferLike[] = [];
  private readonly scorer: EncodedStage2Scorer;
  /** `readsMaps`: scores the records' stored maps undecoded, as the app's helper worker does (else decodes them). */
  constructor(
    private readonly behaviour: 'score' | 'reject' | 'short' = 'score',
    private readonly timing?: { readonly busyMs: number; readonly finishedAfterMs: number },
    readsMaps = false,
  ) {
    this.scorer = new EncodedStage2Scorer(decodeNamedFaceDetail, readsMaps ? { mapOf: namedPatchCodecBytes } : {});
  }
  async beginQuery(query: EncodedStage2Query): Promise<{ readonly returnedQuery: Float32Array }> {
    // Copied: the engine fills the arrays again for its next query once they are handed back.
    this.queries.push({ query: { ...query, query: query.query.slice(), queryAverage: query.queryAverage.slice() }, chunks: [] });
    this.queryBuffers.push(query.query.buffer);
    return this.scorer.beginQuery(query);
  }
  async scoreEncoded(chunk: EncodedStage2Chunk): Promise<EncodedStage2Result> {
    const chunks = this.queries.at(-1)?.chunks ?? [];
    const nth = chunks.push(chunk);
    this.chunkBuffers.push(chunk.records.buffer);
    if (this.behaviour === 'reject') throw new Error('worker crashed');
    const r = await this.scorer.scoreEncoded(chunk);
    const t = this.timing;
    const timed = t === undefined ? r : { ...r, busyMs: nth === 1 ? t.busyMs : 0, finishedAt: r.finishedAt + t.finishedAfterMs };
    return this.behaviour === 'short' && nth === 1 ? { ...timed, similarity: r.similarity.subarray(1) } : timed;
  }
  /** Candidates the helper was sent for each query. */
  shares(): number[] {
    return this.queries.map((q) => q.chunks.reduce((n, c) => n + c.ends.length, 0));
  }
}

async function galleries(format: StorageFormat, faces: readonly StoredFace[]) {
  const dirs = new Map<string, MemoryDirectory>();
  const storage = () =>
    new RecordGalleryStorage({
      format,
      directory: (name) => {
        let d = dirs.get(name);
        if (!d) dirs.set(name, (d = new MemoryDirectory()));
        return Promise.resolve(d);
      },
    });
  await storage().putBatch([...faces]);
  const open = async (stage2Helper: Stage2Helper | null) => {
    const service = new GalleryService(storage(), MODEL, { accelerator: null, stage2Helper });
    await service.load();
    return service;
  };
  return open;
}

function ranked(r: SearchResult) {
  return r.stage2.map((h) => ({ id: h.id, score: h.score, sEmd: h.sEmd, rankBefore: h.rankBefore }));
}

const faces = Array.from({ length: 120 }, (_, i) => face(seededRandom(500 + i), i % 30, Math.floor(i / 30)));
const base: RerankSettings = { ...DEFAULT_SETTINGS, adaptiveAlpha: null, alpha: 0.5, backend: 'cpu' };

describe('stage 2 split with a helper', () => {
  for (const [format, readsMaps] of [
    ['compact', false],
    ['compact', true],
    ['float32', true],
  ] as const) {
    it(`${format}, the helper ${readsMaps ? 'scoring stored maps as the app' : 'decoding'}: gives exactly the one-worker result, the helper scoring the later candidates (half at first)`, async () => {
      const open = await galleries(format, faces);
      const alone = await open(null);
      const helper = new RecordingHelper('score', undefined, readsMaps);
      const split = await open(helper);
      const rand = seededRandom(99);
      for (const k of [100, 37, MIN_SPLIT_CANDIDATES]) {
        const query = storedToFeatures(face(rand, k % 30, 9));
        const want = await alone.index.search(query, { ...base, k });
        const got = await split.index.search(query, { ...base, k });
        expect(ranked(got)).toEqual(ranked(want));
        expect(got.stage2Workers).toBe(2);
        expect(want.stage2Workers).toBe(1);
        expect(got.fallbackReason).toBeUndefined();
        const last = helper.queries.at(-1);
        const share = helper.shares().at(-1) ?? 0;
        if (helper.queries.length === 1) expect(share).toBe(k / 2);
        expect(share).toBeGreaterThanOrEqual(Math.round(0.2 * k));
        expect(share).toBeLessThanOrEqual(Math.round(0.8 * k));
        // Chunks of at most HELPER_CHUNK_CANDIDATES, all full but the last, each naming its query.
        const sizes = last?.chunks.map((c) => c.ends.length) ?? [];
        expect(sizes).toHaveLength(Math.ceil(share / HELPER_CHUNK_CANDIDATES));
        expect(sizes.slice(0, -1).every((n) => n === HELPER_CHUNK_CANDIDATES)).toBe(true);
        expect(last?.chunks.every((c) => c.format === format && c.queryId === last.query.id)).toBe(true);
      }
      expect(helper.queries).toHaveLength(3);
      expect(new Set(helper.queries.map((q) => q.query.id)).size).toBe(3);
      // What was handed back is sent again: one query buffer for all three, and no more chunk buffers than one query's chunks.
      expect(new Set(helper.queryBuffers).size).toBe(1);
      expect(new Set(helper.chunkBuffers).size).toBeLessThanOrEqual(Math.ceil((0.8 * 100) / HELPER_CHUNK_CANDIDATES));
    });
  }

  it('keeps to one worker where the helper cannot help: few candidates, weights other than APC', async () => {
    const open = await galleries('compact', faces);
    const alone = await open(null);
    const helper = new RecordingHelper();
    const split = await open(helper);
    const query = storedToFeatures(face(seededRandom(3), 4, 9));
    for (const s of [
      { ...base, k: MIN_SPLIT_CANDIDATES - 1 },
      { ...base, k: 50, weighting: 'uniform' as const },
    ]) {
      const got = await split.index.search(query, s);
      expect(ranked(got)).toEqual(ranked(await alone.index.search(query, s)));
      expect(got.stage2Workers).toBe(1);
    }
    expect(helper.queries).toHaveLength(0);
  });

  it('pools coarser grids in the helper as the engine does: the same result on 4x4 and 2x2, then back on 7x7', async () => {
    const open = await galleries('compact', faces);
    const alone = await open(null);
    const helper = new RecordingHelper();
    const split = await open(helper);
    const query = storedToFeatures(face(seededRandom(8), 11, 9));
    for (const grid of [4, 2, 7]) {
      const s = { ...base, k: 60, grid };
      const got = await split.index.search(query, s);
      expect(ranked(got)).toEqual(ranked(await alone.index.search(query, s)));
      expect(got.stage2Workers).toBe(2);
      expect(helper.queries.at(-1)?.query.grid).toBe(grid);
    }
  });

  for (const behaviour of ['reject', 'short'] as const) {
    it(`a helper that ${behaviour === 'reject' ? 'fails' : 'answers for too few candidates'}: its share is scored here, the reason reported, and it is not asked again`, async () => {
      const open = await galleries('compact', faces);
      const alone = await open(null);
      const helper = new RecordingHelper(behaviour);
      const split = await open(helper);
      const query = storedToFeatures(face(seededRandom(4), 7, 9));
      const s = { ...base, k: 60 };
      const want = ranked(await alone.index.search(query, s));
      const first = await split.index.search(query, s);
      expect(ranked(first)).toEqual(want);
      expect(first.stage2Workers).toBe(1);
      expect(first.fallbackReason).toMatch(behaviour === 'reject' ? /second worker failed \(worker crashed\)/ : /returned 29 scores for 30 candidates/);
      const second = await split.index.search(query, s);
      expect(ranked(second)).toEqual(want);
      expect(second.fallbackReason).toBeUndefined();
      expect(helper.queries).toHaveLength(1);
    });
  }
});

describe('stage 2 helper parts', () => {
  it('shares its fraction of the candidates, at least one on each side, none below the minimum', () => {
    expect(helperShare(MIN_SPLIT_CANDIDATES - 1, 0.5)).toBe(0);
    expect(helperShare(MIN_SPLIT_CANDIDATES, 0.5)).toBe(MIN_SPLIT_CANDIDATES / 2);
    expect(helperShare(100, 0.63)).toBe(63);
    expect(helperShare(20, 0.999)).toBe(19);
    expect(helperShare(20, 0.001)).toBe(1);
  });

  it('moves the fraction halfway to where both sides finish together, within 0.2..0.8', () => {
    // Engine 2 ms a candidate, helper 1 ms: balanced at 2 / (2 + 1) of the candidates on the helper.
    expect(nextHelperFraction(0.5, { engineMs: 20, engineCandidates: 10, helperMs: 10, helperCandidates: 10 })).toBeCloseTo(0.5 + 0.5 * (2 / 3 - 0.5), 12);
    expect(nextHelperFraction(0.5, { engineMs: 10, engineCandidates: 10, helperMs: 10, helperCandidates: 10 })).toBeCloseTo(0.5, 12);
    expect(nextHelperFraction(0.75, { engineMs: 100, engineCandidates: 10, helperMs: 1, helperCandidates: 10 })).toBe(0.8);
    expect(nextHelperFraction(0.25, { engineMs: 1, engineCandidates: 10, helperMs: 100, helperCandidates: 10 })).toBe(0.2);
    expect(nextHelperFraction(0.4, { engineMs: 0, engineCandidates: 10, helperMs: 5, helperCandidates: 10 })).toBe(0.4);
    expect(nextHelperFraction(0.4, { engineMs: 5, engineCandidates: 10, helperMs: Number.NaN, helperCandidates: 10 })).toBe(0.4);
  });

  it("times the helper from the engine's start to its last answer, never below its busy time", () => {
    const answer = (busyMs: number, finishedAt: number): EncodedStage2Result => ({
      similarity: new Float64Array(1),
      iterations: new Int32Array(1),
      marginalError: new Float64Array(1),
      busyMs,
      finishedAt,
      returnedRecords: new Uint8Array(0),
    });
    // Busy 3 + 4 ms, but the last answer came 12 ms after the start: waits and messages count.
    expect(helperElapsedMs([answer(3, 1008), answer(4, 1012)], 1000)).toBe(12);
    // Answers may arrive stamped out of order; the latest counts.
    expect(helperElapsedMs([answer(3, 1012), answer(4, 1008)], 1000)).toBe(12);
    // A clock that disagrees (a finish before the start, or before the busy time could have passed): the busy total.
    expect(helperElapsedMs([answer(3, 990), answer(4, 995)], 1000)).toBe(7);
    expect(helperElapsedMs([answer(3, 1002)], 1000)).toBe(3);
    expect(helperElapsedMs([answer(3, Number.NaN)], 1000)).toBe(3);
    expect(helperElapsedMs([], 1000)).toBe(0);
  });

  it('gives a slow helper fewer candidates and a fast one more, query by query, with the same results', async () => {
    const open = await galleries('compact', faces);
    const alone = await open(null);
    const query = storedToFeatures(face(seededRandom(5), 2, 9));
    const s = { ...base, k: 100 };
    const want = ranked(await alone.index.search(query, s));
    // A helper a million times slower: its target share is ~0, so 0.5 -> 0.25 -> 0.2 (the floor); a million times faster: 0.75, 0.8.
    // Fast means busy for no time and finished at once (its clock's stamp 1e6 ms early counts as the engine's start);
    // slow, whether its busy time says so or only its late finish (time spent outside the scoring: waits, messages).
    for (const [timing, shares] of [
      [{ busyMs: 1e6, finishedAfterMs: 0 }, [50, 25, 20, 20]],
      [{ busyMs: 1e-6, finishedAfterMs: 1e6 }, [50, 25, 20, 20]],
      [{ busyMs: 1e-6, finishedAfterMs: -1e6 }, [50, 75, 80, 80]],
    ] as const) {
      const helper = new RecordingHelper('score', timing);
      const split = await open(helper);
      for (let i = 0; i < 4; i++) expect(ranked(await split.index.search(query, s))).toEqual(want);
      expect(helper.shares()).toEqual(shares);
    }
  });

  it('packs records end to end, copying each before the next read, into buffers that are handed back and filled again', () => {
    // A reader that lends one scratch buffer, as the gallery does: each read overwrites the last record's bytes.
    const scratch = new Uint8Array(300 * 1024);
    const lending = (records: readonly Uint8Array[]) => (i: number) => {
      scratch.set(records[i]);
      return { format: 'compact', bytes: scratch.subarray(0, records[i].length) };
    };
    const pool = new RecordChunkPool();
    const small = [Uint8Array.of(1, 2, 3), new Uint8Array(0), Uint8Array.of(9)];
    const p = pool.pack(small.length, lending(small));
    expect(Array.from(p.records)).toEqual([1, 2, 3, 9]);
    expect(Array.from(p.ends)).toEqual([3, 3, 4]);
    // Handed back, its buffer is the next chunk's.
    pool.giveBack(p.records);
    const again = pool.pack(1, lending([Uint8Array.of(7, 7)]));
    expect(again.records.buffer).toBe(p.records.buffer);
    expect(Array.from(again.records)).toEqual([7, 7]);
    // Records past the buffer's size grow it, keeping what was packed.
    const big = Array.from({ length: 3 }, (_, i) => Uint8Array.from({ length: 100 * 1024 }, (_, j) => (i * 31 + j) & 255));
    const grown = pool.pack(big.length, lending(big));
    expect(grown.records.length).toBe(3 * 100 * 1024);
    big.forEach((b, i) => expect(grown.records.subarray(i * b.length, (i + 1) * b.length)).toEqual(b));
    expect(Array.from(grown.ends)).toEqual([1, 2, 3].map((i) => i * 100 * 1024));
    expect(() => pool.pack(2, (i) => ({ format: i === 0 ? 'compact' : 'float32', bytes: Uint8Array.of(i) }))).toThrow(/two formats/);
  });

  it('the scorer refuses records of another shape, bad offsets, unknown formats and chunks of another query, as AppErrors', async () => {
    const scorer = new EncodedStage2Scorer(decodeNamedFaceDetail);
    const f = face(seededRandom(1), 1, 1);
    const record = encodeDetail('compact', { patches: f.patches, landmarks68: null, cropSize: 112 });
    const query = (id: number, over: Partial<EncodedStage2Query> = {}): EncodedStage2Query => ({
      id,
      mapH: 7,
      mapW: 7,
      grid: 7,
      c: C,
      query: new Float32Array(49 * C),
      queryAverage: new Float32Array(C),
      sinkhorn: DEFAULT_SETTINGS.sinkhorn,
      ...over,
    });
    const chunk = (queryId: number, over: Partial<EncodedStage2Chunk> = {}): EncodedStage2Chunk => ({ queryId, format: 'compact', records: record, ends: Int32Array.of(record.length), ...over });
    await expect(scorer.scoreEncoded(chunk(1))).rejects.toThrow(/chunk of query 1 arrived while query \(none\) was current/);
    await scorer.beginQuery(query(1, { c: 16, query: new Float32Array(49 * 16), queryAverage: new Float32Array(16) }));
    await expect(scorer.scoreEncoded(chunk(1))).rejects.toThrow(/candidate 0 has 1568 patch values, a 7x7x16 map has 784/);
    await scorer.beginQuery(query(2));
    await expect(scorer.scoreEncoded(chunk(2, { ends: Int32Array.of(record.length + 1) }))).rejects.toThrow(/outside/);
    await expect(scorer.scoreEncoded(chunk(2, { format: 'raw' }))).rejects.toBeInstanceOf(AppError);
    const late = scorer.scoreEncoded(chunk(1));
    await expect(late).rejects.toBeInstanceOf(AppError);
    await expect(late).rejects.toThrow(/chunk of query 1 arrived while query 2 was current/);
    await expect(scorer.scoreEncoded(chunk(2))).resolves.toMatchObject({ similarity: expect.any(Float64Array) as unknown });
  });

  it('scores a query chunk by chunk exactly as in one piece, whatever the chunks', async () => {
    const rand = seededRandom(21);
    const records = Array.from({ length: 11 }, (_, i) => ({ format: 'compact', bytes: encodeDetail('compact', { patches: face(rand, i, 0).patches, landmarks68: null, cropSize: 112 }) }));
    const q = face(rand, 3, 5).patches;
    const norm = (v: Float32Array) => {
      const n = Math.hypot(...v);
      return v.map((x) => x / n);
    };
    const rows = Array.from({ length: 49 }, (_, p) => norm(q.data.slice(p * C, (p + 1) * C)));
    const avg = norm(Float32Array.from({ length: C }, (_, ch) => rows.reduce((s, r, p) => s + q.data[p * C + ch], 0)));
    const query: EncodedStage2Query = { id: 7, mapH: 7, mapW: 7, grid: 7, c: C, query: Float32Array.from(rows.flatMap((r) => Array.from(r))), queryAverage: avg, sinkhorn: DEFAULT_SETTINGS.sinkhorn };
    const whole = new EncodedStage2Scorer(decodeNamedFaceDetail);
    await whole.beginQuery(query);
    const pool = new RecordChunkPool();
    const pack = (rs: typeof records) => pool.pack(rs.length, (i) => rs[i]);
    const want = await whole.scoreEncoded({ queryId: 7, ...pack(records) });
    const chunked = new EncodedStage2Scorer(decodeNamedFaceDetail);
    await chunked.beginQuery(query);
    const got: number[] = [];
    for (const [a, b] of [
      [0, 1],
      [1, 9],
      [9, 11],
    ])
      got.push(...(await chunked.scoreEncoded({ queryId: 7, ...pack(records.slice(a, b)) })).similarity);
    expect(got).toEqual(Array.from(want.similarity));
    expect(new Set(got).size).toBe(11);
    // The scorer keeps its own copy of the query: the sender may fill the arrays it handed back again.
    const reused = new EncodedStage2Scorer(decodeNamedFaceDetail);
    const sent = { ...query, query: query.query.slice(), queryAverage: query.queryAverage.slice() };
    const { returnedQuery } = await reused.beginQuery(sent);
    expect(returnedQuery).toBe(sent.query);
    sent.query.fill(0);
    sent.queryAverage.fill(0);
    expect(Array.from((await reused.scoreEncoded({ queryId: 7, ...pack(records) })).similarity)).toEqual(got);
  });
});

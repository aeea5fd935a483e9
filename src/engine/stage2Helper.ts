/**
 * Stage 2 on a second core. A k = 100 query on the default recognizer's
 * 7x7x1024 maps spends ~45 ms in one worker at 100k faces: reading and
 * decoding the candidates' stored maps (~20 ms), their cost matrices (~15 ms)
 * and the Sinkhorn (~8 ms), all per candidate and independent. So the engine
 * hands part of the candidates to a helper as their stored bytes (12 kB each,
 * not 200 kB of floats), a few at a time as it reads them, and scores the
 * rest itself meanwhile. The helper
 * scores with the same CpuStage2Scorer, one candidate at a time: straight
 * from their stored codes as the engine does (since 2026-12-05;
 * scoreEncodedMaps), else decoded with the storage's own decoder,
 * so every s_emd is bit for bit the one the engine alone would give
 * (tests/unit/engine/stage2Helper.test.ts).
 *
 * Only APC weights travel this way (the default): the other weightings need
 * per-pair inputs the helper does not have, so they score on one core. A
 * coarser grid is pooled in the helper from the decoded map with the
 * engine's own functions (rawMapOf, unitPatchGrid), so it gives the same
 * floats as the engine's pooled cache.
 */
import { AppError } from '../core/errors.ts';
import { rawMapOf, type EncodedFaceDetail, type FaceDetail } from './faceDetails.ts';
import { unitPatchGrid } from './patchGrid.ts';
import { CpuStage2Scorer, type Stage2Batch, type Stage2BatchResult } from './stage2Batch.ts';

/** What crosses to the helper once per query. */
export interface EncodedStage2Query {
  /** Numbers the engine's queries; each chunk names the query it belongs to. */
  readonly id: number;
  /** The stored maps' own grid. */
  readonly mapH: number;
  readonly mapW: number;
  /** The grid stage 2 runs on: grid x grid patches (the stored one, or coarser by adaptive average pooling). */
  readonly grid: number;
  readonly c: number;
  /** The query's unit patches on that grid, grid^2 x c. */
  readonly query: Float32Array;
  /** The query's unit average patch (the candidates' APC partner). */
  readonly queryAverage: Float32Array;
  readonly sinkhorn: Stage2Batch['sinkhorn'];
}

/** A run of one query's candidates as stored. */
export interface EncodedStage2Chunk {
  readonly queryId: number;
  /** The detail source's name for its encoding; the helper's decoder must know it. */
  readonly format: string;
  /** The candidates' stored records end to end (one buffer, so it can be transferred)… */
  readonly records: Uint8Array;
  /** …and where each ends: record i is records[ends[i - 1] ?? 0, ends[i]). */
  readonly ends: Int32Array;
}

/** The helper's answer for a chunk: the scores, and its timing, for balancing the split. */
export interface EncodedStage2Result extends Stage2BatchResult {
  /** How long it was busy scoring the chunk (its own clock). */
  readonly busyMs: number;
  /**
   * When it finished the chunk, in milliseconds since the epoch (`performance.timeOrigin + performance.now()`, a clock
   * every worker of the page shares to well under a millisecond). The engine cannot time the helper itself: its own
   * scoring blocks the callbacks until it is done.
   */
  readonly finishedAt: number;
  /** The chunk's records, handed back (transferred, not copied) for the engine to fill again. */
  readonly returnedRecords: Uint8Array;
}

/** Now on the clock `finishedAt` uses. */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * How long the helper took over a query's share, for balancing: from the engine's start (`startedAt`, epoch ms) to its
 * last answer. Its busy time alone leaves out what also delays the query's end, the wait for its first chunk and the
 * messages (on the 100k bench ~5 ms of ~30 a query went there, so a split balanced on busy time left the helper
 * finishing last). It cannot have been busy longer than it took, so the busy total bounds it from below, which also
 * covers a clock that disagrees across workers.
 */
export function helperElapsedMs(answers: readonly EncodedStage2Result[], startedAt: number): number {
  const busy = answers.reduce((sum, a) => sum + a.busyMs, 0);
  const last = answers.reduce((latest, a) => Math.max(latest, a.finishedAt), Number.NEGATIVE_INFINITY);
  const elapsed = last - startedAt;
  return Number.isFinite(elapsed) ? Math.max(busy, elapsed) : busy;
}

/**
 * The port the engine talks to (in the app a worker behind comlink; in tests the scorer itself). Calls are answered in
 * the order they are made: a query, then its chunks.
 */
export interface Stage2Helper {
  /** The answer hands the query's arrays back (in the app transferred both ways), for the engine to fill again. */
  beginQuery(query: EncodedStage2Query): Promise<{ readonly returnedQuery: Float32Array }>;
  scoreEncoded(chunk: EncodedStage2Chunk): Promise<EncodedStage2Result>;
}

/**
 * Candidates per chunk. The engine reads every record itself (one sync access handle) and posts the helper's share a
 * chunk at a time before scoring its own, so the helper starts after one chunk's reads rather than after its whole
 * share. Chosen when a read took ~0.13 ms (into a fresh array; ~1 ms a chunk against ~6.5 ms for 50 candidates); into
 * the gallery's scratch it takes ~0.01-0.04 ms, so the wait is now small either way. A chunk is one message (~0.1 ms
 * there and back); smaller chunks would add messages for under a millisecond of waiting.
 */
export const HELPER_CHUNK_CANDIDATES = 8;

/** Turns a stored record into the detail stage 2 reads; `reuse` lends arrays of a face no longer needed. */
export type DetailDecoder = (format: string, bytes: Uint8Array, reuse?: FaceDetail) => FaceDetail;

/** A stored record's patch map in the patch codec (a view into `bytes`), or null where its format keeps maps otherwise. */
export type PatchCodecReader = (format: string, bytes: Uint8Array) => Uint8Array | null;

/** Candidates below this many stay on one core: the round trip (~0.3 ms) would cost more than half of them. */
export const MIN_SPLIT_CANDIDATES = 16;

/**
 * How many of a query's candidates the helper scores (the later ones; the engine's own go first, so its batch starts
 * at once): `fraction` of them, at least one left on each side.
 */
export function helperShare(candidates: number, fraction: number): number {
  if (candidates < MIN_SPLIT_CANDIDATES) return 0;
  return Math.min(candidates - 1, Math.max(1, Math.round(candidates * fraction)));
}

/** The split starts even; the helper's fraction then stays within these bounds. */
export const INITIAL_HELPER_FRACTION = 0.5;
const MIN_HELPER_FRACTION = 0.2;
const MAX_HELPER_FRACTION = 0.8;
/** Weight of the newest query's measurement: a few queries settle the split, one odd query does not swing it. */
const BALANCE_STEP = 0.5;

/**
 * The helper's next fraction, from how long each side took on the last query. The engine's side is slower per
 * candidate than the helper's: it also reads every candidate's record from disk, the helper's share included (on the
 * 100k bench, ~0.47 ms per own candidate against ~0.35 in the helper). The two finish together when
 * ownCount * ownPer = helperCount * helperPer, i.e. at fraction ownPer / (ownPer + helperPer). Fixed costs (the reads
 * of the helper's records, its wait for the first chunk) make the per-candidate times depend on the split, but the
 * step's fixed point is still the split at which both sides took equally long.
 */
export function nextHelperFraction(fraction: number, last: { readonly engineMs: number; readonly engineCandidates: number; readonly helperMs: number; readonly helperCandidates: number }): number {
  const ownPer = last.engineMs / last.engineCandidates;
  const helperPer = last.helperMs / last.helperCandidates;
  if (!(ownPer > 0 && helperPer > 0 && Number.isFinite(ownPer) && Number.isFinite(helperPer))) return fraction;
  const target = ownPer / (ownPer + helperPer);
  const next = fraction + BALANCE_STEP * (target - fraction);
  return Math.min(MAX_HELPER_FRACTION, Math.max(MIN_HELPER_FRACTION, next));
}

/** A chunk buffer's first size: 8 compact records of the default recognizer (~12 kB each) with room to spare. */
const CHUNK_BUFFER_BYTES = 160 * 1024;
/** Buffers kept for reuse: more than the chunks of one query (k = 100 at most ~10). */
const CHUNK_BUFFERS_KEPT = 16;

/**
 * Packs chunks of records into buffers that go to the helper and come back with its answers, to be filled again. A
 * fresh buffer per chunk cost the engine ~0.3 ms a chunk in Chromium on this VM (its memory faulted in page by page),
 * about as much as scoring a candidate.
 */
export class RecordChunkPool {
  private readonly free: Uint8Array[] = [];

  /**
   * Records `0..count-1` end to end with their end offsets. `read(i)` may lend its bytes only until the next read (a
   * gallery reads into one scratch buffer), so each is copied before the next is read.
   */
  pack(count: number, read: (i: number) => EncodedFaceDetail): { format: string; records: Uint8Array; ends: Int32Array } {
    let out = this.free.pop() ?? new Uint8Array(CHUNK_BUFFER_BYTES);
    const ends = new Int32Array(count);
    let format = '';
    let total = 0;
    for (let i = 0; i < count; i++) {
      const r = read(i);
      if (i === 0) format = r.format;
      else if (r.format !== format) throw new AppError('internal', `stage 2's candidates are stored in two formats (${format}, ${r.format})`, 'Report this as a bug.');
      if (total + r.bytes.length > out.length) {
        const grown = new Uint8Array(Math.max(2 * out.length, total + r.bytes.length));
        grown.set(out.subarray(0, total));
        out = grown;
      }
      out.set(r.bytes, total);
      total += r.bytes.length;
      ends[i] = total;
    }
    return { format, records: out.subarray(0, total), ends };
  }

  /** A chunk's records, handed back by the helper: their whole buffer is filled again by a later pack. */
  giveBack(records: Uint8Array): void {
    if (this.free.length < CHUNK_BUFFERS_KEPT && records.buffer instanceof ArrayBuffer) this.free.push(new Uint8Array(records.buffer));
  }
}

/** The helper's side: decodes each chunk's records and scores them as the engine would. */
export class EncodedStage2Scorer implements Stage2Helper {
  private readonly scorer: CpuStage2Scorer;
  /** Decoded candidates of the last chunk, lent back to the decoder (fresh 200 kB arrays are slow to fault in). */
  private spare: FaceDetail[] = [];
  /** One candidate's raw map while it is pooled. */
  private raw: Float32Array = new Float32Array(0);
  /** The last chunk's pooled grids, refilled by the next (grid^2 x c floats each). */
  private pooledRows: Float32Array[] = [];
  /** The query the next chunks belong to, its arrays copied into `ownQuery`. */
  private current: EncodedStage2Query | null = null;
  /** The current query's patches then average patch: reused query to query (a fresh 200 kB array per query costs ~0.5 ms on this VM). */
  private ownQuery = new Float32Array(0);

  /**
   * `mapOf`, where given, reads a record's stored map: candidates are then scored from those bytes on any grid
   * (CpuStage2Scorer.scoreEncodedMaps, the engine's own path for its share) instead of decoded.
   */
  constructor(
    private readonly decode: DetailDecoder,
    options: { forceJs?: boolean; mapOf?: PatchCodecReader } = {},
  ) {
    this.scorer = new CpuStage2Scorer({ forceJs: options.forceJs });
    this.mapOf = options.mapOf ?? null;
  }

  private readonly mapOf: PatchCodecReader | null;

  beginQuery(query: EncodedStage2Query): Promise<{ readonly returnedQuery: Float32Array }> {
    const n = query.query.length;
    const c = query.queryAverage.length;
    if (this.ownQuery.length < n + c) this.ownQuery = new Float32Array(n + c);
    this.ownQuery.set(query.query);
    this.ownQuery.set(query.queryAverage, n);
    this.current = { ...query, query: this.ownQuery.subarray(0, n), queryAverage: this.ownQuery.subarray(n, n + c) };
    return Promise.resolve({ returnedQuery: query.query });
  }

  scoreEncoded(chunk: EncodedStage2Chunk): Promise<EncodedStage2Result> {
    try {
      const t0 = performance.now();
      const query = this.current;
      if (query?.id !== chunk.queryId)
        throw new AppError('internal', `stage-2 helper: a chunk of query ${chunk.queryId} arrived while query ${query ? query.id : '(none)'} was current`, 'This is a bug in the caller; report it.');
      const result = this.score(query, chunk);
      const t1 = performance.now();
      return Promise.resolve({ ...result, busyMs: t1 - t0, finishedAt: performance.timeOrigin + t1, returnedRecords: chunk.records });
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private score(query: EncodedStage2Query, chunk: EncodedStage2Chunk): Stage2BatchResult {
    const { mapH, mapW, grid, c } = query;
    const { records, ends } = chunk;
    const n = grid * grid;
    const native = grid === mapH && grid === mapW;
    const recordOf = (i: number): Uint8Array => {
      const start = i === 0 ? 0 : ends[i - 1];
      const end = ends[i];
      if (end < start || end > records.length)
        throw new AppError('invalid-argument', `stage-2 helper: record ${i} ends at ${end}, outside ${start}..${records.length}`, 'This is a bug in the caller; report it.');
      return records.subarray(start, end);
    };
    const mapOf = this.mapOf;
    const firstMap = mapOf && ends.length > 0 ? mapOf(chunk.format, recordOf(0)) : null;
    if (mapOf && firstMap) {
      const maps = (i: number): Uint8Array => {
        const map = i === 0 ? firstMap : mapOf(chunk.format, recordOf(i));
        if (!map) throw new AppError('invalid-argument', `stage-2 helper: record ${i} of a chunk holds no stored map`, 'This is a bug in the caller; report it.');
        return map;
      };
      return this.scorer.scoreEncodedMaps({ grid, c, query: query.query, queryAverage: query.queryAverage, count: ends.length, mapOf: maps, sinkhorn: query.sinkhorn });
    }
    const details = Array.from(ends, (_, i) => {
      const d = this.decode(chunk.format, recordOf(i), this.spare[i]);
      if (d.unitPatches.length !== mapH * mapW * c || d.unitAverage.length !== c)
        throw new AppError(
          'invalid-argument',
          `stage-2 helper: candidate ${i} has ${d.unitPatches.length} patch values, a ${mapH}x${mapW}x${c} map has ${mapH * mapW * c}`,
          'Rebuild the gallery with the active recognizer.',
        );
      return d;
    });
    this.spare = details;
    const candidates = native
      ? details.map((d) => d.unitPatches)
      : details.map((d, i) => {
          this.raw = rawMapOf(d, mapH, mapW, c, this.raw).data;
          const spare = this.pooledRows[i];
          return (this.pooledRows[i] = unitPatchGrid({ h: mapH, w: mapW, c, data: this.raw }, grid, spare?.length === n * c ? spare : undefined));
        });
    const batch: Stage2Batch = {
      n,
      c,
      query: query.query,
      candidates,
      weights: { kind: 'apc', queryAverage: query.queryAverage, candidateAverages: details.map((d) => d.unitAverage) },
      sinkhorn: query.sinkhorn,
    };
    return this.scorer.scoreBatch(batch);
  }
}

/**
 * The gallery as the engine holds it: per face an id, a label and a stage-1
 * vector (float32, or int8 with a scale for large galleries), in flat arrays
 * in insertion order. Everything stage 2 needs beyond that (patch maps,
 * average patch, landmarks) comes from a FaceDetailSource, read for the k
 * candidates of a query: in memory for tests and benches, from disk in the
 * app (src/storage), so memory holds only what stage 1 scans.
 * Pooled grids are cached for the faces last used, so a grid change costs
 * only the candidates it touches.
 */
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, PatchMap, Point, VisibleDamage } from '../core/types.ts';
import { MemoryFaceDetails, rawMapOf, type EncodedFaceDetail, type FaceDetail, type FaceDetailSource } from './faceDetails.ts';
import { requireValidGrid, requireValidPatchMap, unitPatchGrid } from './patchGrid.ts';
import { CosineIndex } from './stage1.ts';
import type { Stage1Index } from './stage1Index.ts';
import { Int4ShortlistIndex } from './stage1Int4.ts';
import { Int8CosineIndex } from './stage1Int8.ts';
import { stage1RowBytes } from './quant/int8Rows.ts';
import { unitEmbedding } from './vectors.ts';

export interface GalleryItem {
  readonly id: string;
  readonly label: string;
  readonly features: FaceFeatures;
  /** What error messages call the face (its file name); ids are internal keys a user cannot act on. */
  readonly name?: string;
}

/**
 * Stored faces as start-up loads them: ids and labels in two arrays (no object per face), no features; their
 * stage-1 rows come in blocks.
 */
export interface GalleryRowList {
  readonly ids: readonly string[];
  readonly labels: readonly string[];
}

export interface GalleryShape {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly dim: number;
}

/** How stage-1 vectors are stored: float32 (exact, the reference) or int8 with a per-vector scale (a quarter of the size). */
export type Stage1Format = 'float32' | 'int8';

/**
 * How the engine holds them: as stored; int4: 4-bit rows in memory (an eighth of float32) that pick a short list
 * scored from the int8 rows the detail source reads (readStage1Row), with int8's answers (src/engine/stage1Int4.ts);
 * or int8-to-int4: int8 until the gallery holds int4FromFaces faces, then int4. Below that size the int8 rows cost
 * little memory and scanning them is a few ms faster than reading a short list from disk; above it memory is what
 * limits a tab (a million int8 rows are 1.5 GB).
 */
export type Stage1Holding = Stage1Format | 'int4' | 'int8-to-int4';

/** Where int8-to-int4 switches: 250,000 int8 rows of 1536-D are 385 MB. */
export const INT4_FROM_FACES = 250_000;

export interface GalleryStoreOptions {
  readonly stage1?: Stage1Holding;
  /** For int8-to-int4: the gallery size from which rows are held as 4 bits (INT4_FROM_FACES; tests lower it). */
  readonly int4FromFaces?: number;
  /** Where stage 2 reads a face's patches and landmarks; left out, they are kept in memory as faces are added. */
  readonly details?: FaceDetailSource;
  readonly forceJs?: boolean;
}

/** Pooled grids kept for reuse: the candidates of a few queries, not the gallery (a 4x4x1024 grid is 64 kB). */
const POOLED_CACHE_FACES = 1024;

export class GalleryStore {
  private shape: GalleryShape | null = null;
  private index: Stage1Index | null = null;
  private idList: string[] = [];
  private labelList: string[] = [];
  private positions = new Map<string, number>();
  private readonly memoryDetails: MemoryFaceDetails | null;
  private readonly details: FaceDetailSource;
  /** Pooled unit grids by `${grid}:${id}`, least recently used first. */
  private pooled = new Map<string, Float32Array>();
  private rawScratch = new Float32Array(0);

  constructor(private readonly options: GalleryStoreOptions = {}) {
    const reads = options.stage1 === 'int4' || options.stage1 === 'int8-to-int4';
    this.memoryDetails = options.details ? null : new MemoryFaceDetails({ keepStage1Rows: reads });
    this.details = options.details ?? this.memoryDetails ?? new MemoryFaceDetails();
    if (reads && !this.details.readStage1Row)
      throw new AppError('internal', '4-bit stage-1 rows need a detail source that reads the int8 rows', 'Use the compact storage, or hold the gallery as int8.');
  }

  get size(): number {
    return this.idList.length;
  }

  get ids(): readonly string[] {
    return this.idList;
  }

  get labels(): readonly string[] {
    return this.labelList;
  }

  /** Channels per patch (the gallery must hold a face). */
  get channels(): number {
    return this.requireShape().c;
  }

  get stage1(): Stage1Index {
    if (!this.index) throw emptyGallery();
    return this.index;
  }

  /** Bytes the engine holds per gallery for stage 1 (the details live elsewhere unless kept in memory). */
  get byteLength(): { stage1: number; detailsInMemory: number } {
    return { stage1: this.index?.byteLength ?? 0, detailsInMemory: this.memoryDetails?.byteLength ?? 0 };
  }

  /** Null while the gallery is empty. */
  get mapShape(): GalleryShape | null {
    return this.shape;
  }

  private requireShape(): GalleryShape {
    if (!this.shape) throw emptyGallery();
    return this.shape;
  }

  position(id: string): number {
    const p = this.positions.get(id);
    if (p === undefined) throw new AppError('unknown-id', `no gallery face with id ${id}`, 'It may have been removed; run the query again.');
    return p;
  }

  /** Validates every item first, so a bad item adds nothing. */
  add(items: readonly GalleryItem[]): void {
    this.requireNewIds(items);
    for (const item of items) this.requireCompatible(item.features, `gallery face ${item.name ?? item.id}`);
    if (items.length === 0) return;
    const first = items[0].features;
    const index = this.ensureIndex({ h: first.patches.h, w: first.patches.w, c: first.patches.c, dim: first.embedding.length }, this.size + items.length);
    index.add(items.map((i) => i.features.embedding));
    for (const item of items) {
      this.memoryDetails?.add(item.id, item.features);
      this.push(item.id, item.label);
    }
    this.switchToInt4IfLarge();
  }

  /**
   * Adds stored faces by their encoded stage-1 rows (as src/engine/quant/int8Rows.ts or float32 rows write them):
   * start-up reads one block of rows instead of every face's features. Details must come from the source.
   * The rows come in chunks of whole rows (views a reader may reuse), copied into the index as they arrive;
   * when a chunk is damaged or the rows do not match the entries, nothing is added.
   */
  addRows(list: GalleryRowList, rows: Iterable<Uint8Array>, shape: GalleryShape): void {
    if (this.memoryDetails) throw new AppError('internal', 'stored rows need a detail source', 'Create the engine with the storage that holds the faces.');
    const { ids, labels } = list;
    if (ids.length !== labels.length) throw new AppError('internal', `${ids.length} stored ids but ${labels.length} labels`, 'Report this as a bug.');
    if (this.shape && !sameShape(this.shape, shape)) throw shapeMismatch('the stored gallery', shape, this.shape);
    if (ids.length === 0) return;
    const hadShape = this.shape !== null;
    const index = this.ensureIndex(shape, this.size + ids.length);
    const before = index.size;
    const firstPosition = this.idList.length;
    try {
      index.reserve(before + ids.length);
      for (const chunk of rows) index.addEncodedRows(chunk, Math.floor(chunk.length / index.encodedRowBytes));
      const added = index.size - before;
      if (added !== ids.length) {
        throw new AppError('storage-failed', `the stored gallery lists ${ids.length} faces but holds ${added} stage-1 rows`, 'Clear this gallery (or the site data) and import the images again.');
      }
      // Duplicates are caught as the ids go in, not by a set built first: at a million faces that set cost ~1 s.
      for (let i = 0; i < ids.length; i++) {
        if (this.positions.has(ids[i])) throw new AppError('invalid-argument', `gallery face ${ids[i]} is already present`, 'Remove it first, or use a new id.');
        this.push(ids[i], labels[i]);
      }
    } catch (e) {
      for (let p = firstPosition; p < this.idList.length; p++) this.positions.delete(this.idList[p]);
      this.idList.length = firstPosition;
      this.labelList.length = firstPosition;
      index.removeRows(Array.from({ length: index.size - before }, (_, i) => before + i));
      if (!hadShape) this.clear();
      throw e;
    }
    this.switchToInt4IfLarge();
  }

  /** Whether a face with this id is in the gallery. */
  has(id: string): boolean {
    return this.positions.has(id);
  }

  /** A face's label, or undefined when it is not in the gallery. */
  labelOf(id: string): string | undefined {
    const p = this.positions.get(id);
    return p === undefined ? undefined : this.labelList[p];
  }

  private get int4FromFaces(): number {
    return this.options.int4FromFaces ?? INT4_FROM_FACES;
  }

  /**
   * int8-to-int4 past its size: the int8 index is replaced by a 4-bit one packed from the rows on disk (the same rows
   * the int8 index holds: both come from encodeStage1Row's quantisation), read in batches. Once per gallery; a start-up
   * at that size builds the 4-bit index directly. The int8 index stays until the new one is complete.
   */
  private switchToInt4IfLarge(): void {
    const index = this.index;
    if (this.options.stage1 !== 'int8-to-int4' || !(index instanceof Int8CosineIndex) || index.size < this.int4FromFaces) return;
    const int4 = new Int4ShortlistIndex(index.dim, (pos) => this.readStage1Row(pos), { forceJs: this.options.forceJs });
    const n = index.size;
    int4.reserve(n);
    const rowBytes = stage1RowBytes(index.dim);
    const batch = 256;
    const rows = new Uint8Array(batch * rowBytes);
    for (let first = 0; first < n; first += batch) {
      const count = Math.min(batch, n - first);
      for (let r = 0; r < count; r++) rows.set(this.readStage1Row(first + r), r * rowBytes);
      int4.addEncodedRows(rows.subarray(0, count * rowBytes), count);
    }
    this.index = int4;
  }

  private requireNewIds(items: readonly { id: string; name?: string }[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      if (this.positions.has(item.id) || seen.has(item.id)) throw new AppError('invalid-argument', `gallery face ${item.name ?? item.id} is already present`, 'Remove it first, or use a new id.');
      seen.add(item.id);
    }
  }

  /** The index, created for `rows` faces when the gallery had none. */
  private ensureIndex(shape: GalleryShape, rows: number): Stage1Index {
    this.shape ??= shape;
    this.index ??= this.newIndex(shape.dim, rows);
    return this.index;
  }

  private newIndex(dim: number, rows: number): Stage1Index {
    const forceJs = this.options.forceJs;
    switch (this.options.stage1) {
      case 'int8':
        return new Int8CosineIndex(dim, { forceJs });
      case 'int8-to-int4':
        return rows >= this.int4FromFaces ? new Int4ShortlistIndex(dim, (pos) => this.readStage1Row(pos), { forceJs }) : new Int8CosineIndex(dim, { forceJs });
      case 'int4':
        return new Int4ShortlistIndex(dim, (pos) => this.readStage1Row(pos), { forceJs });
      case 'float32':
      case undefined:
        return new CosineIndex(dim, { forceJs });
    }
  }

  private readStage1Row(pos: number): Uint8Array {
    const read = this.details.readStage1Row;
    if (!read) throw new AppError('internal', 'this gallery cannot read its stage-1 rows', 'Report this as a bug.');
    return read.call(this.details, this.idList[pos]);
  }

  private push(id: string, label: string): void {
    this.positions.set(id, this.idList.length);
    this.idList.push(id);
    this.labelList.push(label);
  }

  /** Unknown ids are ignored (already gone). */
  remove(ids: readonly string[]): void {
    const drop = new Set<number>();
    for (const id of ids) {
      const p = this.positions.get(id);
      if (p !== undefined) drop.add(p);
    }
    if (drop.size === 0 || !this.index) return;
    const keep = (_: unknown, i: number) => !drop.has(i);
    this.index.removeRows([...drop]);
    this.memoryDetails?.remove(ids);
    this.pooled.clear();
    this.idList = this.idList.filter(keep);
    this.labelList = this.labelList.filter(keep);
    this.positions = new Map(this.idList.map((id, i) => [id, i]));
    if (this.idList.length === 0) this.clear();
  }

  /** Unknown ids are ignored (already gone). */
  relabel(ids: readonly string[], label: string): void {
    for (const id of ids) {
      const p = this.positions.get(id);
      if (p !== undefined) this.labelList[p] = label;
    }
  }

  clear(): void {
    this.shape = null;
    this.index = null;
    this.idList = [];
    this.labelList = [];
    this.positions.clear();
    this.memoryDetails?.clear();
    this.pooled.clear();
  }

  /** Throws unless the features match this gallery's recognizer (or are the first). */
  requireCompatible(f: FaceFeatures, what: string): void {
    requireValidPatchMap(f.patches, `${what} patch map`);
    unitEmbedding(f.embedding, `${what} embedding`);
    const shape = { h: f.patches.h, w: f.patches.w, c: f.patches.c, dim: f.embedding.length };
    if (this.shape && !sameShape(this.shape, shape)) throw shapeMismatch(what, shape, this.shape);
  }

  private detail(pos: number): FaceDetail {
    return this.details.read(this.idList[pos]);
  }

  /** Face `pos`'s unit visible-part embedding of one kind, or null where it was indexed without one. */
  visibleEmbedding(pos: number, kind: VisibleDamage): Float32Array | null {
    const id = this.idList[pos];
    const read = this.details.readVisible;
    return read ? read.call(this.details, id, kind) : (this.details.read(id).visibleEmbeddings?.[kind] ?? null);
  }

  /**
   * Face `pos`'s stage-1 vector at 16 bits a value (unit length), where the gallery searches quantised rows and its
   * store keeps one; null for float32 rows (exact already) and for faces stored without one.
   */
  fineStage1(pos: number): Float32Array | null {
    if (this.options.stage1 === undefined || this.options.stage1 === 'float32') return null;
    const read = this.details.readStage1Fine;
    return read ? read.call(this.details, this.idList[pos]) : null;
  }

  /** True when the detail source can hand out stored records undecoded (stage 2's helper decodes them). */
  get readsEncoded(): boolean {
    return typeof this.details.readEncoded === 'function';
  }

  /** Face `pos`'s stored record, undecoded (see readsEncoded). */
  encodedDetail(pos: number): EncodedFaceDetail {
    const read = this.details.readEncoded;
    if (!read) throw new AppError('internal', 'this gallery keeps its faces decoded', 'Report this as a bug.');
    return read.call(this.details, this.idList[pos]);
  }

  /** True when the detail source hands out stored maps in the patch codec (stage 2 then scores them undecoded). */
  get readsPatchCodec(): boolean {
    return typeof this.details.readPatchCodec === 'function';
  }

  /** Face `pos`'s stored map in the patch codec, lent (see FaceDetailSource.readPatchCodec); null where stored otherwise. */
  patchCodecMap(pos: number): Uint8Array | null {
    const read = this.details.readPatchCodec;
    return read ? read.call(this.details, this.idList[pos]) : null;
  }

  /** The stored maps' own grid (stage 2 pools from it). */
  get nativeGrid(): { readonly h: number; readonly w: number } {
    const { h, w } = this.requireShape();
    return { h, w };
  }

  /** Unit patches of face `pos` on a grid x grid grid. */
  unitGrid(pos: number, grid: number): Float32Array {
    const shape = this.requireShape();
    if (grid === shape.h && grid === shape.w) return this.detail(pos).unitPatches;
    requireValidGrid({ h: shape.h, w: shape.w, c: shape.c, data: new Float32Array(0) }, grid);
    const key = `${grid}:${this.idList[pos]}`;
    let row = this.pooled.get(key);
    if (row) {
      this.pooled.delete(key);
    } else {
      // The face pooled longest ago lends its array when it has this grid's size (a fresh 64 kB one per candidate is slow).
      let spare: Float32Array | undefined;
      if (this.pooled.size >= POOLED_CACHE_FACES) {
        const oldest = this.pooled.entries().next();
        if (!oldest.done) {
          this.pooled.delete(oldest.value[0]);
          spare = oldest.value[1];
        }
      }
      const map = this.rawMap(pos);
      row = unitPatchGrid(map, grid, spare?.length === grid * grid * map.c ? spare : undefined);
    }
    this.pooled.set(key, row);
    return row;
  }

  unitAverage(pos: number): Float32Array {
    return this.detail(pos).unitAverage;
  }

  unitEmbedding(pos: number): Float32Array {
    return this.stage1.row(pos);
  }

  landmarksOf(pos: number): readonly Point[] | undefined {
    return this.detail(pos).landmarks68;
  }

  cropSizeOf(pos: number): number {
    return this.detail(pos).cropSize;
  }

  /**
   * The raw native map of face `pos`, rebuilt from unit patches and norms into one reused array (valid until the
   * next call): pooling a candidate or reading its damage needs it only for a moment, and a fresh 200 kB array per
   * candidate is slow.
   */
  rawMap(pos: number): PatchMap {
    const { h, w, c } = this.requireShape();
    if (this.rawScratch.length !== h * w * c) this.rawScratch = new Float32Array(h * w * c);
    return rawMapOf(this.detail(pos), h, w, c, this.rawScratch);
  }
}

function emptyGallery(): AppError {
  return new AppError('empty-gallery', 'the gallery is empty', 'Add labelled faces first.');
}

function sameShape(a: GalleryShape, b: GalleryShape): boolean {
  return a.h === b.h && a.w === b.w && a.c === b.c && a.dim === b.dim;
}

function shapeMismatch(what: string, got: GalleryShape, have: GalleryShape): AppError {
  return new AppError(
    'invalid-argument',
    `${what} has ${got.h}x${got.w}x${got.c} patches and a ${got.dim}-D embedding; the gallery ${have.h}x${have.w}x${have.c} and ${have.dim}-D`,
    'Use the same recognizer for the gallery and the query (re-import after switching models).',
  );
}

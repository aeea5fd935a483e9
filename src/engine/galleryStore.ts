/**
 * The gallery in flat typed arrays. Per face: its unit embedding (in the
 * stage-1 index), its native patch map as unit patches plus per-patch norms
 * (together they give back the raw map for pooling, at half the memory of
 * keeping both), its unit average patch (APC) and its landmarks (LMK).
 * Pooled, normalised grids are cached per grid side and extended lazily, so
 * switching the grid re-pools each face once.
 */
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, PatchMap, Point } from '../core/types.ts';
import { requireValidGrid, requireValidPatchMap, unitAveragePatch, unitPatchGrid } from './patchGrid.ts';
import { RowStore } from './rowStore.ts';
import { CosineIndex } from './stage1.ts';
import { l2NormaliseRows, unitEmbedding } from './vectors.ts';

export interface GalleryItem {
  readonly id: string;
  readonly label: string;
  readonly features: FaceFeatures;
  /** What error messages call the face (its file name); ids are internal keys a user cannot act on. */
  readonly name?: string;
}

interface Shape {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly dim: number;
}

/** The per-face arrays, which exist together from the first face on: their shape is the first face's. */
interface Columns {
  readonly shape: Shape;
  readonly index: CosineIndex;
  readonly unitNative: RowStore;
  readonly patchNorms: RowStore;
  readonly averages: RowStore;
}

function createColumns(first: FaceFeatures, capacity: number): Columns {
  const { h, w, c } = first.patches;
  return {
    shape: { h, w, c, dim: first.embedding.length },
    index: new CosineIndex(first.embedding.length),
    unitNative: new RowStore(h * w * c, capacity),
    patchNorms: new RowStore(h * w, capacity),
    averages: new RowStore(c, capacity),
  };
}

export class GalleryStore {
  private columns: Columns | null = null;
  private idList: string[] = [];
  private labelList: string[] = [];
  private positions = new Map<string, number>();
  private landmarks: (readonly Point[] | undefined)[] = [];
  private cropSizes: number[] = [];
  /** Pooled unit grids, per grid size, filled per face on first use: a grid change costs only the k candidates, not the whole gallery. */
  private gridCache = new Map<number, Map<number, Float32Array>>();

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
    return this.requireColumns().shape.c;
  }

  get stage1(): CosineIndex {
    return this.requireColumns().index;
  }

  private requireColumns(): Columns {
    if (!this.columns) throw new AppError('empty-gallery', 'the gallery is empty', 'Add labelled faces first.');
    return this.columns;
  }

  position(id: string): number {
    const p = this.positions.get(id);
    if (p === undefined) throw new AppError('unknown-id', `no gallery face with id ${id}`, 'It may have been removed; run the query again.');
    return p;
  }

  /** Validates every item first, so a bad item adds nothing. */
  add(items: readonly GalleryItem[]): void {
    const seen = new Set<string>();
    for (const item of items) {
      const what = `gallery face ${item.name ?? item.id}`;
      if (this.positions.has(item.id) || seen.has(item.id)) throw new AppError('invalid-argument', `${what} is already present`, 'Remove it first, or use a new id.');
      seen.add(item.id);
      this.requireCompatible(item.features, what);
    }
    if (items.length === 0) return;
    this.columns ??= createColumns(items[0].features, items.length);
    const cols = this.columns;
    cols.index.add(items.map((i) => i.features.embedding));
    const { h, w, c } = cols.shape;
    const unit = new Float32Array(h * w * c);
    const norms = new Float32Array(h * w);
    for (const item of items) {
      const f = item.features;
      l2NormaliseRows(f.patches.data, 0, h * w, c, unit, 0, norms);
      cols.unitNative.append(unit);
      cols.patchNorms.append(norms);
      cols.averages.append(unitAveragePatch(f.patches));
      this.positions.set(item.id, this.idList.length);
      this.idList.push(item.id);
      this.labelList.push(item.label);
      this.landmarks.push(f.landmarks68);
      this.cropSizes.push(f.cropSize);
    }
  }

  /** Unknown ids are ignored (already gone). */
  remove(ids: readonly string[]): void {
    const drop = new Set<number>();
    for (const id of ids) {
      const p = this.positions.get(id);
      if (p !== undefined) drop.add(p);
    }
    if (drop.size === 0) return;
    const cols = this.requireColumns();
    const keep = (_: unknown, i: number) => !drop.has(i);
    cols.index.removeRows([...drop]);
    cols.unitNative.removeRows(drop);
    cols.patchNorms.removeRows(drop);
    cols.averages.removeRows(drop);
    // Positions shift after a removal; pooled grids are cheap to rebuild on demand.
    this.gridCache.clear();
    this.idList = this.idList.filter(keep);
    this.labelList = this.labelList.filter(keep);
    this.landmarks = this.landmarks.filter(keep);
    this.cropSizes = this.cropSizes.filter(keep);
    this.positions = new Map(this.idList.map((id, i) => [id, i]));
    if (this.idList.length === 0) this.clear();
  }

  clear(): void {
    this.columns = null;
    this.idList = [];
    this.labelList = [];
    this.positions.clear();
    this.landmarks = [];
    this.cropSizes = [];
    this.gridCache.clear();
  }

  /** Throws unless the features match this gallery's recognizer (or are the first). */
  requireCompatible(f: FaceFeatures, what: string): void {
    requireValidPatchMap(f.patches, `${what} patch map`);
    unitEmbedding(f.embedding, `${what} embedding`);
    if (!this.columns) return;
    const { h, w, c, dim } = this.columns.shape;
    if (f.patches.h !== h || f.patches.w !== w || f.patches.c !== c || f.embedding.length !== dim) {
      throw new AppError(
        'invalid-argument',
        `${what} has ${f.patches.h}x${f.patches.w}x${f.patches.c} patches and a ${f.embedding.length}-D embedding; the gallery ${h}x${w}x${c} and ${dim}-D`,
        'Use the same recognizer for the gallery and the query (re-import after switching models).',
      );
    }
  }

  /** Unit patches of face `pos` on a grid x grid grid (valid until the gallery changes). */
  unitGrid(pos: number, grid: number): Float32Array {
    const { shape, unitNative } = this.requireColumns();
    if (grid === shape.h && grid === shape.w) return unitNative.row(pos);
    let cache = this.gridCache.get(grid);
    if (!cache) {
      requireValidGrid({ h: shape.h, w: shape.w, c: shape.c, data: new Float32Array(0) }, grid);
      cache = new Map();
      this.gridCache.set(grid, cache);
    }
    let row = cache.get(pos);
    if (!row) {
      row = unitPatchGrid(this.rawMap(pos), grid);
      cache.set(pos, row);
    }
    return row;
  }

  unitAverage(pos: number): Float32Array {
    return this.requireColumns().averages.row(pos);
  }

  unitEmbedding(pos: number): Float32Array {
    return this.requireColumns().index.row(pos);
  }

  landmarksOf(pos: number): readonly Point[] | undefined {
    return this.landmarks[pos];
  }

  cropSizeOf(pos: number): number {
    return this.cropSizes[pos];
  }

  /** The raw native map of face `pos`, rebuilt from unit patches and norms. */
  rawMap(pos: number): PatchMap {
    const { shape, unitNative, patchNorms } = this.requireColumns();
    const { h, w, c } = shape;
    const unit = unitNative.row(pos);
    const norms = patchNorms.row(pos);
    const data = new Float32Array(h * w * c);
    for (let p = 0; p < h * w; p++) for (let t = 0; t < c; t++) data[p * c + t] = unit[p * c + t] * norms[p];
    return { h, w, c, data };
  }
}

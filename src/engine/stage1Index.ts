/**
 * What the search needs of a stage-1 index, so the gallery can hold its
 * embeddings as float32 (CosineIndex, exact) or int8 (Int8CosineIndex, a
 * quarter of the memory for million-face galleries) behind one type.
 */
import type { RankedIndex } from './stage1.ts';

export interface Stage1Index {
  readonly dim: number;
  /** Rows held. */
  readonly size: number;
  /** Bytes the rows take in memory (codes and scales, or floats). */
  readonly byteLength: number;
  /** Appends raw embeddings (normalised inside); validates all before adding any. */
  add(embeddings: readonly Float32Array[]): void;
  /** Bytes of one row in the stored form addEncodedRows takes. */
  readonly encodedRowBytes: number;
  /** Makes room for `rows` rows in all, so a load in chunks grows the memory once. */
  reserve(rows: number): void;
  /** Appends `count` rows in the index's stored form (float32 unit rows, or int8Rows.ts rows), validated before any is added. */
  addEncodedRows(bytes: Uint8Array, count: number): void;
  /** Removes rows, keeping the order of the rest so ties still go to the lower index. */
  removeRows(indices: readonly number[]): void;
  clear(): void;
  /** A float copy of row `index` as the index holds it (unit length, or nearly so when quantised). */
  row(index: number): Float32Array;
  /** The k best rows by cosine, higher score first, ties to the lower index. */
  topK(query: Float32Array, k: number): RankedIndex[];
}

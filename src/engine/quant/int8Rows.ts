/**
 * Stage-1 embeddings as int8 with one float scale per row: a 1536-D face is
 * 1540 bytes instead of 6144, so a million faces fit in 1.5 GB.
 *
 * Row layout (stage1RowBytes(dim) bytes): float32 scale, little-endian, then
 * dim int8 codes. The embedding is normalised to unit length first, then
 * quantised with step = max|u| / 127, code = round(u / step) (so the largest
 * value uses the full range and |u_j - step * code_j| <= step / 2), and the
 * stored scale is 1 / |codes| (float32): the decoded row scale * codes is a
 * unit vector, so a stage-1 score is a true cosine with the stored direction,
 * and decoding then encoding again (a gallery exported and imported) gives
 * back the same codes and scale. Rows are self-contained, so a gallery can be
 * loaded by copying bytes (Int8CosineIndex.addEncodedRows) with no float work.
 */
import { AppError } from '../../core/errors.ts';
import { unitEmbedding } from '../vectors.ts';

/** The float32 scale in front of each row's codes. */
export const STAGE1_ROW_HEADER_BYTES = 4;

export const INT8_LEVELS = 127;

export function stage1RowBytes(dim: number): number {
  return STAGE1_ROW_HEADER_BYTES + dim;
}

/**
 * Quantises a unit vector into `codes` from `offset`; returns the scale
 * (float32-exact). Shared by encodeStage1Row and Int8CosineIndex.add so the
 * bytes a store writes and the codes an index holds are the same; with
 * `levels` 32767 it makes the int16 rows of int16Rows.ts by the same rule.
 */
export function quantiseUnitRow(unit: Float32Array, codes: Int8Array | Int16Array, offset: number, levels = INT8_LEVELS): number {
  let maxAbs = 0;
  for (let j = 0; j < unit.length; j++) {
    const a = Math.abs(unit[j]);
    if (a > maxAbs) maxAbs = a;
  }
  // A unit vector has maxAbs >= 1 / sqrt(dim) > 0.
  const step = Math.fround(maxAbs / levels);
  const inv = 1 / step;
  let sumSquares = 0;
  for (let j = 0; j < unit.length; j++) {
    const r = Math.round(unit[j] * inv);
    // The clamp only matters when float32 rounding of the step pushes max|u| / step a hair past the top level.
    const q = r > levels ? levels : r < -levels ? -levels : r;
    codes[offset + j] = q;
    sumSquares += q * q;
  }
  return Math.fround(1 / Math.sqrt(sumSquares));
}

/** The bytes of one stage-1 row: the embedding made unit length, then quantised (see the file comment). */
export function encodeStage1Row(vector: Float32Array): Uint8Array {
  const unit = unitEmbedding(vector, 'embedding');
  const out = new Uint8Array(stage1RowBytes(unit.length));
  const scale = quantiseUnitRow(unit, new Int8Array(out.buffer, STAGE1_ROW_HEADER_BYTES, unit.length), 0);
  new DataView(out.buffer).setFloat32(0, scale, true);
  return out;
}

/** Reads and checks the scale of the row at `offset`: finite and positive (a unit vector is never all zero). */
export function readStage1RowScale(bytes: Uint8Array, offset: number, what: string): number {
  if (offset < 0 || offset + STAGE1_ROW_HEADER_BYTES > bytes.length) throw corruptRow(`${what} is cut short`);
  const scale = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getFloat32(offset, true);
  if (!Number.isFinite(scale) || !(scale > 0)) throw corruptRow(`${what} has scale ${scale}; a stored row's scale is finite and positive`);
  return scale;
}

/** The float values (scale * code) of the row of `dim` values at `offset` in `bytes`. */
export function decodeStage1Row(bytes: Uint8Array, dim: number, offset = 0): Float32Array {
  if (!Number.isInteger(dim) || dim <= 0) throw new AppError('invalid-argument', `embedding size must be a positive integer, got ${dim}`, 'Check the recognizer output.');
  if (offset + stage1RowBytes(dim) > bytes.length) throw corruptRow(`stage-1 row at byte ${offset} needs ${stage1RowBytes(dim)} bytes, ${Math.max(0, bytes.length - offset)} are left`);
  const scale = readStage1RowScale(bytes, offset, `stage-1 row at byte ${offset}`);
  const codes = new Int8Array(bytes.buffer, bytes.byteOffset + offset + STAGE1_ROW_HEADER_BYTES, dim);
  const out = new Float32Array(dim);
  for (let j = 0; j < dim; j++) out[j] = codes[j] * scale;
  return out;
}

export function corruptRow(message: string): AppError {
  return new AppError('invalid-argument', message, 'The stored gallery embeddings are damaged; re-index the photos or import the gallery again.');
}

/**
 * A face's stage-1 vector at 16 bits a value, stored in its detail record so
 * that stage 1's top k can be re-scored finely when stage 2 reads them.
 *
 * Why: the int8 rows stage 1 searches (int8Rows.ts) move a cosine by up to
 * ~1e-4, enough to swap two near-tied faces; on lfw-dev's damaged queries
 * 20-25 of 3,662 first faces changed against float32 (docs/RESULTS.md,
 * "Accuracy: compact vs float32"). At 16 bits the step is 258 times finer.
 * Stage 2 reads the k candidates' records anyway, so the fine rows cost no
 * extra disk read, only 2 bytes a dimension on disk and nothing in memory.
 *
 * Layout (fineRowBytes(dim)): float32 scale, little-endian, then dim int16
 * codes, little-endian, by the int8 rows' rule with 32767 levels (step =
 * max|u| / 32767, scale = 1 / |codes|, so the decoded row is unit length).
 */
import { AppError } from '../../core/errors.ts';
import { unitEmbedding } from '../vectors.ts';
import { corruptRow, quantiseUnitRow, readStage1RowScale, STAGE1_ROW_HEADER_BYTES } from './int8Rows.ts';

export const INT16_LEVELS = 32767;

export function fineRowBytes(dim: number): number {
  return STAGE1_ROW_HEADER_BYTES + 2 * dim;
}

/** The bytes of one fine row: the vector made unit length, then quantised to int16 with one scale. */
export function encodeFineRow(vector: Float32Array): Uint8Array {
  const unit = unitEmbedding(vector, 'embedding');
  const codes = new Int16Array(unit.length);
  const scale = quantiseUnitRow(unit, codes, 0, INT16_LEVELS);
  const out = new Uint8Array(fineRowBytes(unit.length));
  const view = new DataView(out.buffer);
  view.setFloat32(0, scale, true);
  for (let j = 0; j < codes.length; j++) view.setInt16(STAGE1_ROW_HEADER_BYTES + 2 * j, codes[j], true);
  return out;
}

/** The float values (scale * code) of the fine row of `dim` values at `offset` in `bytes`, into `into` when it has `dim` values. */
export function decodeFineRow(bytes: Uint8Array, dim: number, offset = 0, into?: Float32Array): Float32Array {
  if (!Number.isInteger(dim) || dim <= 0) throw new AppError('invalid-argument', `embedding size must be a positive integer, got ${dim}`, 'Check the recognizer output.');
  if (offset + fineRowBytes(dim) > bytes.length) throw corruptRow(`fine stage-1 row at byte ${offset} needs ${fineRowBytes(dim)} bytes, ${Math.max(0, bytes.length - offset)} are left`);
  const scale = readStage1RowScale(bytes, offset, `fine stage-1 row at byte ${offset}`);
  // A record's rows sit at any byte offset, so the codes are read through a view, not an Int16Array over the buffer.
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset + STAGE1_ROW_HEADER_BYTES, 2 * dim);
  const out = into?.length === dim ? into : new Float32Array(dim);
  for (let j = 0; j < dim; j++) out[j] = view.getInt16(2 * j, true) * scale;
  return out;
}

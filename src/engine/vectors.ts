/** Small vector helpers shared by stage 1, the patch grids and the weights. */
import { AppError } from '../core/errors.ts';

/** PyTorch's F.normalize floor: a zero vector stays zero instead of turning into NaN. */
export const NORMALISE_FLOOR = 1e-12;

export function l2Norm(data: ArrayLike<number>, offset: number, length: number): number {
  let s = 0;
  for (let i = 0; i < length; i++) {
    const x = data[offset + i];
    s += x * x;
  }
  return Math.sqrt(s);
}

/** Writes each of `rows` rows of `c` floats divided by max(norm, 1e-12); returns the norms. */
export function l2NormaliseRows(src: Float32Array, srcOffset: number, rows: number, c: number, dst: Float32Array, dstOffset: number, norms?: Float32Array): void {
  for (let r = 0; r < rows; r++) {
    const s = srcOffset + r * c;
    const d = dstOffset + r * c;
    const norm = l2Norm(src, s, c);
    if (norms) norms[r] = norm;
    const inv = 1 / Math.max(norm, NORMALISE_FLOOR);
    for (let i = 0; i < c; i++) dst[d + i] = src[s + i] * inv;
  }
}

/** Throws `invalid-vector` unless every entry is finite. */
export function requireFinite(data: ArrayLike<number>, what: string): void {
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new AppError('invalid-vector', `${what} has a non-finite value (${data[i]}) at position ${i}`, 'The face features are corrupt; extract them again.');
    }
  }
}

/**
 * A unit copy of an embedding for cosine similarity. Zero or non-finite
 * vectors have no direction: a typed error, never NaN scores.
 */
export function unitEmbedding(v: Float32Array, what: string): Float32Array {
  requireFinite(v, what);
  const norm = l2Norm(v, 0, v.length);
  if (!(norm > 0) || !Number.isFinite(norm)) {
    throw new AppError('invalid-vector', `${what} is a zero vector (no direction to compare)`, 'The face features are corrupt; extract them again.');
  }
  const out = new Float32Array(v.length);
  for (let i = 0; i < v.length; i++) out[i] = v[i] / norm;
  return out;
}

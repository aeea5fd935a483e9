/** Numeric comparison helpers for parity tests. */
import { seededRandom } from '../../../../src/core/random.ts';

export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`Length mismatch: ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    if (!(d <= m)) m = Number.isNaN(d) ? Number.POSITIVE_INFINITY : d;
  }
  return m;
}

export function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** NHWC [n, h, w, c] -> NCHW. */
export function nhwcToNchw(data: ArrayLike<number>, [n, h, w, c]: readonly number[]): Float32Array {
  const out = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  return out;
}

/** NCHW [n, c, h, w] -> NHWC. */
export function nchwToNhwc(data: ArrayLike<number>, [n, c, h, w]: readonly number[]): Float32Array {
  const out = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++) for (let k = 0; k < c; k++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[((b * h + y) * w + x) * c + k] = data[((b * c + k) * h + y) * w + x];
  return out;
}

/** Deterministic pseudo-random floats in [-1, 1), so a failing op test can be rerun exactly. */
export function randomFloats(n: number, seed: number): Float32Array {
  const random = seededRandom(seed);
  return Float32Array.from({ length: n }, () => random() * 2 - 1);
}

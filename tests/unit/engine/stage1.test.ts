import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { CosineIndex, type RankedIndex } from '../../../src/engine/stage1.ts';
import { gaussian } from './references.ts';

/** Independent reference: float64 cosines, full sort, ties by index. */
function naiveTopK(query: Float32Array, matrix: Float32Array, dim: number, k: number) {
  const n = matrix.length / dim;
  const qn = Math.hypot(...query);
  const all = Array.from({ length: n }, (_, i) => {
    let s = 0;
    let gn = 0;
    for (let t = 0; t < dim; t++) ((s += query[t] * matrix[i * dim + t]), (gn += matrix[i * dim + t] ** 2));
    return { index: i, score: s / qn / Math.sqrt(gn) };
  });
  return all.sort((a, b) => b.score - a.score || a.index - b.index).slice(0, k);
}

const randomMatrix = (rand: () => number, n: number, dim: number) => Float32Array.from({ length: n * dim }, () => gaussian(rand));

/** Stage-1 top-k of one query against a row-major n x dim gallery matrix, through a CosineIndex holding its rows. */
function cosineTopK(query: Float32Array, matrix: Float32Array, dim: number, k: number): RankedIndex[] {
  if (matrix.length % dim !== 0) throw new Error(`matrix length ${matrix.length} is not a multiple of dim ${dim}`);
  const index = new CosineIndex(dim);
  index.add(Array.from({ length: matrix.length / dim }, (_, r) => matrix.subarray(r * dim, (r + 1) * dim)));
  return index.topK(query, k);
}

describe('stage 1: cosine top-k', () => {
  it('matches a float64 full sort (odd sizes exercise the clamped SIMD blocks)', () => {
    const rand = seededRandom(1);
    for (const [n, dim, k] of [
      [1, 4, 1],
      [7, 12, 3],
      [1001, 128, 50],
      [3000, 512, 100],
    ] as const) {
      const m = randomMatrix(rand, n, dim);
      const q = randomMatrix(rand, 1, dim);
      const got = cosineTopK(q, m, dim, k);
      const want = naiveTopK(q, m, dim, k);
      expect(got.map((g) => g.index)).toEqual(want.map((w) => w.index));
      got.forEach((g, i) => expect(Math.abs(g.score - want[i].score)).toBeLessThan(1e-5));
    }
  });

  it('breaks ties by index', () => {
    const dim = 8;
    const row = Float32Array.from({ length: dim }, (_, i) => i + 1);
    const other = Float32Array.from({ length: dim }, (_, i) => dim - i);
    // rows 0, 2, 5 equal the query direction (scaled: cosine exactly 1 for each)
    const rows = [row, other, row.map((x) => x * 2), other, other, row.map((x) => x * 2)];
    const m = new Float32Array(rows.length * dim);
    rows.forEach((r, i) => m.set(r, i * dim));
    const got = cosineTopK(row, m, dim, 4);
    expect(got.slice(0, 3).map((g) => g.index)).toEqual([0, 2, 5]);
    expect(got[3].index).toBe(1);
  });

  it('k > n returns all rows', () => {
    const rand = seededRandom(2);
    const dim = 64;
    const m = randomMatrix(rand, 3, dim);
    const q = randomMatrix(rand, 1, dim);
    expect(cosineTopK(q, m, dim, 10).map((g) => g.index)).toEqual(naiveTopK(q, m, dim, 10).map((w) => w.index));
  });

  it('zero or non-finite vectors give invalid-vector, never NaN rankings', () => {
    const dim = 4;
    const m = new Float32Array([1, 0, 0, 0, 0, 1, 0, 0]);
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return (e as AppError).code;
      }
      return 'no error';
    };
    expect(code(() => cosineTopK(new Float32Array(dim), m, dim, 1))).toBe('invalid-vector');
    expect(code(() => cosineTopK(new Float32Array([1, Number.NaN, 0, 0]), m, dim, 1))).toBe('invalid-vector');
    expect(code(() => cosineTopK(new Float32Array([1, Infinity, 0, 0]), m, dim, 1))).toBe('invalid-vector');
    expect(code(() => cosineTopK(new Float32Array([1, 0, 0, 0]), new Float32Array([1, 0, 0, 0, 0, 0, 0, 0]), dim, 1))).toBe('invalid-vector');
    expect(code(() => cosineTopK(new Float32Array([1, 0, 0, 0]), new Float32Array([1, 0, Number.NaN, 0]), dim, 1))).toBe('invalid-vector');
    expect(code(() => cosineTopK(new Float32Array([1, 0, 0]), m, dim, 1))).toBe('invalid-argument');
    expect(code(() => cosineTopK(new Float32Array([1, 0, 0, 0]), m, dim, 0))).toBe('invalid-argument');
  });

  it('an index keeps insertion order through removals (JS and SIMD paths agree)', () => {
    const rand = seededRandom(3);
    const dim = 16;
    const rows = Array.from({ length: 40 }, () => randomMatrix(rand, 1, dim));
    const q = randomMatrix(rand, 1, dim);
    for (const forceJs of [false, true]) {
      const index = new CosineIndex(dim, { forceJs });
      index.add(rows.slice(0, 20));
      index.add(rows.slice(20));
      index.removeRows([0, 5, 39, 17]);
      const kept = rows.filter((_, i) => ![0, 5, 39, 17].includes(i));
      const m = new Float32Array(kept.length * dim);
      kept.forEach((r, i) => m.set(r, i * dim));
      expect(index.size).toBe(36);
      expect(index.topK(q, 36).map((g) => g.index)).toEqual(naiveTopK(q, m, dim, 36).map((w) => w.index));
    }
  });
});

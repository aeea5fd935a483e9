/**
 * topDirections (bench/study/napFit.ts) against a closed form: rows built as
 * sums of known orthonormal directions with different weights, whose
 * uncentred principal directions are those directions, strongest first.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';
import { topDirections } from '../../../bench/study/napFit.ts';

describe('topDirections', () => {
  it('recovers planted directions in order of strength, orthonormal', () => {
    const random = seededRandom(21);
    const n = 40;
    // Three orthonormal directions: coordinate axes rotated by a fixed Givens pair so they are not trivial.
    const c = Math.cos(0.7);
    const s = Math.sin(0.7);
    const planted = [0, 1, 2].map((k) => {
      const u = new Float64Array(n);
      u[2 * k] = c;
      u[2 * k + 1] = s;
      return u;
    });
    const scales = [5, 3, 1.5];
    const rows = Array.from({ length: 300 }, () => {
      const x = Float64Array.from({ length: n }, () => 0.05 * (random() - 0.5));
      planted.forEach((u, k) => {
        const a = scales[k] * (random() - 0.5);
        for (let i = 0; i < n; i++) x[i] += a * u[i];
      });
      return x;
    });
    const found = topDirections(rows, 3);
    found.forEach((u, k) => {
      const overlap = u.reduce((acc, x, i) => acc + x * planted[k][i], 0);
      expect(Math.abs(overlap)).toBeGreaterThan(0.999);
      found.forEach((v, j) => expect(u.reduce((acc, x, i) => acc + x * v[i], 0)).toBeCloseTo(j === k ? 1 : 0, 5));
    });
  });

  it('refuses more directions than the rows can span', () => {
    expect(() => topDirections([new Float64Array(4), new Float64Array(4)], 3)).toThrow(/3 directions from 2 rows/);
    expect(topDirections([new Float64Array(4)], 0)).toEqual([]);
  });
});

/**
 * napCosine (src/engine/nuisanceProjection.ts) against the closed form: the
 * projection matrix P = I - U U^T formed explicitly, applied to both vectors,
 * and the float64 cosine of the results.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';
import { napCosine } from '../../../src/engine/nuisanceProjection.ts';
import { orthonormalise, referenceCosine } from '../../support/vectors.ts';

function randomVector(random: () => number, n: number): Float64Array {
  return Float64Array.from({ length: n }, () => random() - 0.5);
}

/** r orthonormal rows from seeded random vectors. */
function orthonormalRows(random: () => number, r: number, n: number): Float64Array[] {
  return orthonormalise(Array.from({ length: r }, () => randomVector(random, n)));
}

/** P x with P = I - U^T U built as an n x n matrix. */
function projectByMatrix(x: ArrayLike<number>, rows: readonly Float64Array[]): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) {
      let p = i === j ? 1 : 0;
      for (const u of rows) p -= u[i] * u[j];
      s += p * x[j];
    }
    out[i] = s;
  }
  return out;
}

describe('napCosine', () => {
  it('equals the cosine of the two vectors after the explicit projection', () => {
    const random = seededRandom(5);
    for (const [n, r] of [
      [8, 1],
      [24, 3],
      [64, 7],
    ] as const) {
      const rows = orthonormalRows(random, r, n);
      for (let t = 0; t < 5; t++) {
        const a = randomVector(random, n);
        const b = randomVector(random, n);
        const expected = referenceCosine(projectByMatrix(a, rows), projectByMatrix(b, rows));
        expect(napCosine(a, b, rows)).toBeCloseTo(expected, 10);
      }
    }
  });

  it('is the plain cosine without directions, and ignores what the two vectors share along a direction', () => {
    const random = seededRandom(9);
    const a = randomVector(random, 16);
    const b = randomVector(random, 16);
    expect(napCosine(a, b, [])).toBeCloseTo(referenceCosine(a, b), 12);
    const [u] = orthonormalRows(random, 1, 16);
    // Adding the same large move along u to both (an occluder both wear) pulls the plain cosine up, not the projected one.
    const a2 = a.map((x, i) => x + 5 * u[i]);
    const b2 = b.map((x, i) => x + 5 * u[i]);
    expect(referenceCosine(a2, b2)).toBeGreaterThan(0.9);
    expect(napCosine(a2, b2, [u])).toBeCloseTo(napCosine(a, b, [u]), 10);
  });

  it('gives 0 for a vector inside the span, and refuses mismatched lengths', () => {
    const random = seededRandom(3);
    const rows = orthonormalRows(random, 2, 10);
    const inside = rows[0].map((x, i) => 2 * x - 3 * rows[1][i]);
    expect(napCosine(inside, randomVector(random, 10), rows)).toBe(0);
    expect(() => napCosine(new Float64Array(10), new Float64Array(9), rows)).toThrow(/10 and 9/);
    expect(() => napCosine(new Float64Array(9), new Float64Array(9), rows)).toThrow(/direction of 10 values/);
  });
});

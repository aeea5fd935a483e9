import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';

/**
 * mulberry32 written out again in BigInt arithmetic modulo 2^32 (no Math.imul,
 * no >>> coercions), so a slip in the fast version's 32-bit tricks shows.
 */
function mulberry32BigInt(seed: number, count: number): number[] {
  const M = 1n << 32n;
  const wrap = (x: bigint) => ((x % M) + M) % M;
  const mul = (a: bigint, b: bigint) => wrap(a * b);
  let state = wrap(BigInt(seed));
  const out: number[] = [];
  for (let k = 0; k < count; k++) {
    state = wrap(state + 0x6d2b79f5n);
    let t = mul(state ^ (state >> 15n), state | 1n);
    t = wrap(t ^ wrap(t + mul(t ^ (t >> 7n), t | 61n)));
    out.push(Number(t ^ (t >> 14n)) / 2 ** 32);
  }
  return out;
}

const draw = (seed: number, count: number) => {
  const random = seededRandom(seed);
  return Array.from({ length: count }, () => random());
};

describe('seededRandom', () => {
  it('gives the numbers the crop transform drew before it moved here (evaluation results depend on them)', () => {
    // Printed by src/face/ood.ts's mulberry32 at commit 1f1eea7, before this module existed.
    expect(draw(1, 3)).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    expect(draw(2022, 3)).toEqual([0.07535199099220335, 0.9819954065605998, 0.3256299193017185]);
    expect(draw(0xdeadbeef, 3)).toEqual([0.9413696140982211, 0.26719574979506433, 0.772033357527107]);
  });

  it('matches mulberry32 computed in exact integer arithmetic', () => {
    for (const seed of [0, 1, 7, 42, 123456789, 0xffffffff]) expect(draw(seed, 200), `seed ${seed}`).toEqual(mulberry32BigInt(seed, 200));
  });

  it('takes the seed modulo 2^32 and gives different sequences for different seeds', () => {
    expect(draw(2 ** 32 + 5, 10)).toEqual(draw(5, 10));
    expect(draw(-1, 10)).toEqual(draw(0xffffffff, 10));
    expect(draw(5, 10)).not.toEqual(draw(6, 10));
  });

  it('draws multiples of 2^-32 in [0, 1), spread evenly over 16 bins', () => {
    const n = 160_000;
    const bins = new Array<number>(16).fill(0);
    let outside = 0;
    for (const x of draw(99, n)) {
      if (!(x >= 0 && x < 1 && Number.isInteger(x * 2 ** 32))) outside++;
      else bins[Math.floor(x * 16)]++;
    }
    expect(outside).toBe(0);
    // Chi-square with 15 degrees of freedom: above 37.7 happens by chance once in 1000.
    const expected = n / 16;
    const chiSquare = bins.reduce((s, b) => s + (b - expected) ** 2 / expected, 0);
    expect(chiSquare).toBeLessThan(37.7);
  });
});

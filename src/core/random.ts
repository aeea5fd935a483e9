/**
 * The project's one seeded random generator, for everything that must draw
 * the same numbers again: the crop query transform (src/face/ood.ts) and the
 * synthetic data of tests and benchmarks, so a failure can be rerun exactly.
 *
 * The algorithm is mulberry32 (a 32-bit counter run through an
 * integer-multiply mixer): one word of state, fast in JavaScript, and well
 * enough mixed for test data and crop placement. It must stay bit for bit as
 * it is: the crop evaluation draws its crop squares from it, so a different
 * generator would move every published crop result (tests/unit/core/random.test.ts
 * pins its first outputs).
 */

/** Floats in [0, 1), each a multiple of 2^-32. */
export type RandomSource = () => number;

/** A generator of floats in [0, 1) that gives the same sequence for the same seed (taken modulo 2^32). */
export function seededRandom(seed: number): RandomSource {
  let counter = seed >>> 0;
  return () => {
    counter = (counter + 0x6d2b79f5) >>> 0;
    let mixed = counter;
    mixed = Math.imul(mixed ^ (mixed >>> 15), mixed | 1);
    mixed ^= mixed + Math.imul(mixed ^ (mixed >>> 7), mixed | 61);
    return ((mixed ^ (mixed >>> 14)) >>> 0) / 4294967296;
  };
}

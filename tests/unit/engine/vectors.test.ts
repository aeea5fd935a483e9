import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { cosineSimilarity } from '../../../src/engine/vectors.ts';
import { referenceCosine } from '../../support/vectors.ts';

describe('cosineSimilarity', () => {
  it('gives the textbook values: parallel 1, opposite -1, orthogonal 0, 45 degrees 1/sqrt(2), whatever the lengths', () => {
    expect(cosineSimilarity([2, 0, 0], [0.5, 0, 0])).toBeCloseTo(1, 12);
    expect(cosineSimilarity([1, 2, 3], [-3, -6, -9])).toBeCloseTo(-1, 12);
    expect(cosineSimilarity([1, 0], [0, 7])).toBe(0);
    expect(cosineSimilarity([3, 0], [5, 5])).toBeCloseTo(Math.SQRT1_2, 12);
  });

  it('agrees with the tests’ own cosine on random vectors of 512 floats', () => {
    const random = seededRandom(17);
    for (let t = 0; t < 20; t++) {
      const a = Float32Array.from({ length: 512 }, () => random() - 0.5);
      const b = Float32Array.from({ length: 512 }, () => random() - 0.3);
      expect(cosineSimilarity(a, b)).toBeCloseTo(referenceCosine(a, b), 12);
    }
  });

  it('scores a zero vector 0 (not NaN), as a zero patch scores after normalisation', () => {
    expect(cosineSimilarity(new Float32Array(4), [1, 2, 3, 4])).toBe(0);
    expect(cosineSimilarity(new Float32Array(4), new Float32Array(4))).toBe(0);
  });

  it('refuses vectors of different lengths with a typed error', () => {
    expect(() => cosineSimilarity([1, 2], [1, 2, 3])).toThrow(AppError);
  });
});

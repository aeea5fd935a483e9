/**
 * BCubed against the definition computed pair by pair (O(n²), written here
 * from Amigó et al. 2009) on seeded random clusterings, and against closed
 * forms a person can check by hand.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { bcubed } from '../../../bench/study/bcubed.ts';

/** Per item: precision = |same cluster and same label| / |same cluster|, recall = ... / |same label|; averaged over items. */
function bruteForce(predicted: readonly (string | number)[], gold: readonly (string | number)[]): { precision: number; recall: number } {
  let precision = 0;
  let recall = 0;
  for (let i = 0; i < gold.length; i++) {
    let sameCluster = 0;
    let sameLabel = 0;
    let both = 0;
    for (let j = 0; j < gold.length; j++) {
      const c = predicted[j] === predicted[i];
      const g = gold[j] === gold[i];
      if (c) sameCluster++;
      if (g) sameLabel++;
      if (c && g) both++;
    }
    precision += both / sameCluster;
    recall += both / sameLabel;
  }
  return { precision: precision / gold.length, recall: recall / gold.length };
}

describe('bcubed', () => {
  it('matches the pair-by-pair definition on seeded random clusterings', () => {
    const rand = seededRandom(17);
    for (let trial = 0; trial < 40; trial++) {
      const n = 1 + Math.floor(rand() * 120);
      const labelCount = 1 + Math.floor(rand() * 15);
      const clusterCount = 1 + Math.floor(rand() * 25);
      const gold = Array.from({ length: n }, () => `person-${Math.floor(rand() * labelCount)}`);
      // Half the trials predict from the gold labels with noise, so scores are spread, not all near chance.
      const predicted = gold.map((g) => (trial % 2 === 0 && rand() < 0.7 ? g : Math.floor(rand() * clusterCount)));
      const expected = bruteForce(predicted, gold);
      const got = bcubed(predicted, gold);
      expect(got.precision).toBeCloseTo(expected.precision, 12);
      expect(got.recall).toBeCloseTo(expected.recall, 12);
      expect(got.f).toBeCloseTo((2 * expected.precision * expected.recall) / (expected.precision + expected.recall), 12);
    }
  });

  it('all singletons: precision 1, recall = labels / items', () => {
    const gold = ['a', 'a', 'a', 'b', 'c', 'c'];
    const got = bcubed(
      Int32Array.from(gold, (_, i) => i),
      gold,
    );
    expect(got.precision).toBe(1);
    // Each label's items have recall 1/|label|: the sum over items is one per label.
    expect(got.recall).toBeCloseTo(3 / 6, 15);
    expect(got.f).toBeCloseTo((2 * 0.5) / 1.5, 15);
  });

  it('one cluster: recall 1, precision = sum of squared label sizes / n²', () => {
    const gold = [7, 7, 7, 8, 9, 9];
    const got = bcubed([0, 0, 0, 0, 0, 0], gold);
    expect(got.recall).toBe(1);
    expect(got.precision).toBeCloseTo((9 + 1 + 4) / 36, 15);
  });

  it('a perfect clustering under other names scores 1, 1, 1', () => {
    const got = bcubed([5, 5, 2, 9, 9, 9], ['x', 'x', 'y', 'z', 'z', 'z']);
    expect(got).toEqual({ precision: 1, recall: 1, f: 1 });
  });

  it('a small case by hand', () => {
    // Clusters {0,1,2} {3}; labels a a b b. Precision: 2/3, 2/3, 1/3, 1 -> 8/3 / 4. Recall: 1, 1, 1/2, 1/2 -> 3 / 4.
    const got = bcubed([0, 0, 0, 1], ['a', 'a', 'b', 'b']);
    expect(got.precision).toBeCloseTo(8 / 12, 15);
    expect(got.recall).toBeCloseTo(3 / 4, 15);
  });

  it('refuses mismatched lengths and empty input', () => {
    expect(() => bcubed([0, 1], ['a'])).toThrow(AppError);
    expect(() => bcubed([], [])).toThrow(AppError);
  });
});

/**
 * BCubed precision and recall of a clustering against gold labels (Amigó,
 * Gonzalo, Artiles and Verdejo 2009), the score issue 17 sets its clustering
 * target in. Per item: precision is the share of the items in its predicted
 * cluster that share its gold label (itself included), recall the share of
 * the items with its gold label that are in its predicted cluster; both are
 * averaged over items, so singletons count like every other item.
 *
 * Items in one (cluster, label) cell all have the same two shares, so the
 * averages are sums over the cells: O(n) with count maps, not O(n²) pairs.
 */
import { AppError } from '../../src/core/errors.ts';

export interface BCubedScore {
  readonly precision: number;
  readonly recall: number;
  /** Harmonic mean of precision and recall. */
  readonly f: number;
}

/** Dense ids 0.. in order of first appearance, and how many there are. */
function denseIds(labels: ArrayLike<string | number>): { ids: Int32Array; count: number } {
  const idOf = new Map<string | number, number>();
  const ids = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    let id = idOf.get(labels[i]);
    if (id === undefined) {
      id = idOf.size;
      idOf.set(labels[i], id);
    }
    ids[i] = id;
  }
  return { ids, count: idOf.size };
}

/** BCubed precision, recall and F of `predicted` (a cluster id per item) against `gold` (a label per item). */
export function bcubed(predicted: ArrayLike<string | number>, gold: ArrayLike<string | number>): BCubedScore {
  const n = gold.length;
  if (predicted.length !== n) {
    throw new AppError('invalid-argument', `BCubed got ${predicted.length} predicted clusters for ${n} gold labels`, 'Pass one cluster id and one gold label per item, in the same order.');
  }
  if (n === 0) throw new AppError('invalid-argument', 'BCubed of no items is undefined', 'Score a clustering of at least one item.');
  const clusters = denseIds(predicted);
  const labels = denseIds(gold);
  const clusterSize = new Float64Array(clusters.count);
  const labelSize = new Float64Array(labels.count);
  // Cell key cluster * labelCount + label stays an exact integer below 2^53 for any n a Map can hold.
  const cellSize = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const c = clusters.ids[i];
    const g = labels.ids[i];
    clusterSize[c]++;
    labelSize[g]++;
    const key = c * labels.count + g;
    cellSize.set(key, (cellSize.get(key) ?? 0) + 1);
  }
  let precisionSum = 0;
  let recallSum = 0;
  for (const [key, size] of cellSize) {
    const c = Math.floor(key / labels.count);
    const g = key - c * labels.count;
    precisionSum += (size * size) / clusterSize[c];
    recallSum += (size * size) / labelSize[g];
  }
  const precision = precisionSum / n;
  const recall = recallSum / n;
  return { precision, recall, f: (2 * precision * recall) / (precision + recall) };
}

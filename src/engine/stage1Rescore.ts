/**
 * Stage 1's top k ordered again by finer scores of the same candidates.
 *
 * A compact gallery searches int8 (or 4-bit, then int8) rows, whose cosines
 * are off by up to ~1e-4: enough to swap two near-tied faces, so the first
 * face shown could differ from what float32 vectors would rank first. Each
 * stored record also keeps the vector at 16 bits (quant/int16Rows.ts), and
 * stage 2 reads the k candidates' records anyway; the engine takes their
 * cosines from those (k dot products) and re-orders the k here. Only the top
 * k move: the rest of a longer stage-1 list (evaluation asks for one) keeps
 * its int8 scores after them.
 */

export interface RescoredTopK {
  /** order[r] is the coarse rank (0-based) of the candidate now at rank r. */
  readonly order: readonly number[];
  /** The candidates' scores in the new order: the fine score, or the coarse one where a candidate has none. */
  readonly scores: Float64Array;
}

/** Orders candidates by their fine score (null: the coarse score stands), highest first; equal scores keep their coarse order. */
export function rescoreTopK(coarse: ArrayLike<number>, fine: readonly (number | null)[]): RescoredTopK {
  if (coarse.length !== fine.length) throw new RangeError(`${coarse.length} coarse scores for ${fine.length} fine ones`);
  const score = Float64Array.from(fine, (f, i) => f ?? coarse[i]);
  // Array.prototype.sort is stable, so ties stay in coarse order.
  const order = Array.from(score, (_, i) => i).sort((a, b) => score[b] - score[a]);
  return { order, scores: Float64Array.from(order, (i) => score[i]) };
}

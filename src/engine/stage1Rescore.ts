/**
 * Stage 1's top k scored again from finer copies of the candidates' vectors.
 *
 * A compact gallery searches int8 (or 4-bit, then int8) rows, whose cosines
 * are off by up to ~1e-4: enough to swap two near-tied faces, so the first
 * face shown could differ from what float32 vectors would rank first. Each
 * stored record also keeps the vector at 16 bits (quant/int16Rows.ts), and
 * stage 2 reads the k candidates' records anyway; re-scoring them from those
 * costs k dot products. Only the top k move: the rest of a longer stage-1
 * list (evaluation asks for one) keeps its int8 scores after them.
 */

export interface RescoredTopK {
  /** order[r] is the coarse rank (0-based) of the candidate now at rank r. */
  readonly order: readonly number[];
  /** The candidates' scores in the new order: the fine cosine, or the coarse score where a candidate has no fine row. */
  readonly scores: Float64Array;
  /** How many candidates had a fine row. */
  readonly rescored: number;
}

/**
 * Re-ranks candidates by the cosine of `query` (unit) with each fine row (unit; null: keep the coarse score),
 * highest first; equal scores keep their coarse order. Accumulates in float64.
 */
export function rescoreTopK(query: Float32Array, coarse: ArrayLike<number>, fine: readonly (Float32Array | null)[]): RescoredTopK {
  if (coarse.length !== fine.length) throw new RangeError(`${coarse.length} coarse scores for ${fine.length} fine rows`);
  const score = new Float64Array(fine.length);
  let rescored = 0;
  fine.forEach((row, i) => {
    if (!row) {
      score[i] = coarse[i];
      return;
    }
    if (row.length !== query.length) throw new RangeError(`a fine row of ${row.length} values for a ${query.length}-D query`);
    let d = 0;
    for (let j = 0; j < row.length; j++) d += query[j] * row[j];
    score[i] = d;
    rescored++;
  });
  // Array.prototype.sort is stable, so ties stay in coarse order.
  const order = Array.from(score, (_, i) => i).sort((a, b) => score[b] - score[a]);
  return { order, scores: Float64Array.from(order, (i) => score[i]), rescored };
}

/**
 * Retrieval metrics exactly as the method doc defines them, per query, then
 * averaged and reported in percent. R = the number of gallery images of the
 * query's identity, the query itself excluded; where the ranked list is
 * shorter than R, R is capped at its length.
 */

/** 1 if the top-1 label is the query's. */
export function precisionAt1(ranked: readonly string[], label: string): number {
  return ranked.length > 0 && ranked[0] === label ? 1 : 0;
}

function cappedR(ranked: readonly string[], relevantCount: number): number {
  return Math.min(relevantCount, ranked.length);
}

/** (# same-identity in the top R) / R. */
export function rPrecision(ranked: readonly string[], label: string, relevantCount: number): number {
  const r = cappedR(ranked, relevantCount);
  if (r <= 0) return 0;
  let hits = 0;
  for (let i = 0; i < r; i++) if (ranked[i] === label) hits++;
  return hits / r;
}

/** sum_{i<=R} rel_i * (cumsum(rel)_i / i) / R. */
export function mapAtR(ranked: readonly string[], label: string, relevantCount: number): number {
  const r = cappedR(ranked, relevantCount);
  if (r <= 0) return 0;
  let hits = 0;
  let sum = 0;
  for (let i = 0; i < r; i++) {
    if (ranked[i] === label) {
      hits++;
      sum += hits / (i + 1);
    }
  }
  return sum / r;
}

/** The best P@1 re-ranking the top k could reach: 1 if any of the top k has the query's identity. */
export function maxPrecisionAtK(ranked: readonly string[], label: string, k: number): number {
  const end = Math.min(k, ranked.length);
  for (let i = 0; i < end; i++) if (ranked[i] === label) return 1;
  return 0;
}

export interface RankedQuery {
  readonly label: string;
  /** Gallery labels in ranked order (the query itself not among them). */
  readonly ranked: readonly string[];
}

export interface RetrievalMetrics {
  /** Queries scored: those whose identity has at least one gallery image. */
  readonly queries: number;
  /** Queries left out because the gallery holds no other image of their identity. */
  readonly skipped: number;
  /** Percentages. */
  readonly p1: number;
  readonly rPrecision: number;
  readonly mapAtR: number;
  readonly maxPrecisionAtK: number;
}

/**
 * Averages over queries. `galleryCounts` maps each label to its number of
 * gallery images (the query excluded); `k` is the re-ranking depth for max-precision@k.
 */
export function evaluateRetrieval(queries: readonly RankedQuery[], galleryCounts: ReadonlyMap<string, number>, k: number): RetrievalMetrics {
  let n = 0;
  let p1 = 0;
  let rp = 0;
  let map = 0;
  let maxP = 0;
  for (const q of queries) {
    const relevant = galleryCounts.get(q.label) ?? 0;
    if (relevant <= 0) continue;
    n++;
    p1 += precisionAt1(q.ranked, q.label);
    rp += rPrecision(q.ranked, q.label, relevant);
    map += mapAtR(q.ranked, q.label, relevant);
    maxP += maxPrecisionAtK(q.ranked, q.label, k);
  }
  const pct = (x: number) => (n > 0 ? (100 * x) / n : 0);
  return { queries: n, skipped: queries.length - n, p1: pct(p1), rPrecision: pct(rp), mapAtR: pct(map), maxPrecisionAtK: pct(maxP) };
}

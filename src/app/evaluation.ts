/**
 * Leave-one-out identification over a labelled gallery, summarised for any
 * alpha without re-running Sinkhorn: each query keeps its stage-1 list and
 * the top-k's separate s_cos and s_emd, so an alpha sweep only re-blends.
 */
import { evaluateRetrieval, type RankedQuery, type RetrievalMetrics } from '../engine/metrics.ts';
import type { AdaptiveAlpha, FusedCosineLayout } from '../core/types.ts';
import { alphaForQuery, finalOrder, rerankTopK, reweighFusedCosine, type Alpha, type QueryDamage } from '../engine/rerank.ts';

export interface EvalQueryScores {
  readonly queryKey: string;
  readonly label: string;
  /** Stage-1 labels, best first, the query itself excluded; at least max(k, R) long where the gallery allows. */
  readonly stage1Labels: readonly string[];
  /** s_cos (the stage-1 score) and s_emd of the first k stage-1 entries. */
  readonly sCos: ArrayLike<number>;
  readonly sEmd: ArrayLike<number>;
  /** A fused pipeline's layout and its second recognizer's own cosine of the same entries, for a rule that re-weighs them. */
  readonly fused?: { readonly layout: FusedCosineLayout; readonly sCosSecondary: ArrayLike<number> };
  /** The damage detector's reading of the query (the search's own), for a `byDamage` rule. */
  readonly damage?: QueryDamage;
  /** The visible-part cosines of the same entries, or why the search had none, where the rule compares them. */
  readonly visible?: { readonly sVisible: ArrayLike<number> } | { readonly missing: string };
}

export interface EvalSummary {
  readonly alpha: Alpha;
  readonly stage1: RetrievalMetrics;
  readonly stage2: RetrievalMetrics;
}

/** Gallery images per label, less one: in leave-one-out the query is not in its own gallery. */
export function leaveOneOutCounts(labels: Iterable<string>): Map<string, number> {
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  for (const [l, c] of counts) counts.set(l, c - 1);
  return counts;
}

/**
 * Labels in the final (re-ranked) order. With an adaptive rule the query's
 * alpha comes from its stage-1 top-1 score as in a real search (the query
 * itself already left out of the list, as it is absent from a real gallery),
 * or from the damage the search read in the query (which may also re-weigh
 * a fused pipeline's two cosines, as the search does).
 */
export function stage2Labels(q: EvalQueryScores, alpha: Alpha, adaptive?: AdaptiveAlpha | null): string[] {
  const k = q.sCos.length;
  const visible = q.visible;
  const chosen = alphaForQuery(alpha, adaptive, k > 0 ? q.sCos[0] : 0, q.damage, q.fused?.layout, visible ? ('sVisible' in visible ? { ready: true } : visible) : undefined);
  const v = chosen.secondaryCosineWeight;
  const fused = q.fused;
  const cosine = (i: number) => (fused && v !== undefined ? reweighFusedCosine(q.sCos[i], fused.sCosSecondary[i], fused.layout, v) : q.sCos[i]);
  const sVisible = visible && 'sVisible' in visible ? visible.sVisible : null;
  const top = Array.from({ length: k }, (_, i) => ({ sCos: cosine(i), sEmd: q.sEmd[i], ...(sVisible ? { sVisible: sVisible[i] } : {}) }));
  return finalOrder(q.stage1Labels.length, rerankTopK(top, chosen.alpha, chosen.visibleWeight ?? 0)).map((i) => q.stage1Labels[i]);
}

export function summarise(queries: readonly EvalQueryScores[], counts: ReadonlyMap<string, number>, k: number, alpha: Alpha, adaptive?: AdaptiveAlpha | null): EvalSummary {
  const s1: RankedQuery[] = queries.map((q) => ({ label: q.label, ranked: q.stage1Labels }));
  const s2: RankedQuery[] = queries.map((q) => ({ label: q.label, ranked: stage2Labels(q, alpha, adaptive) }));
  return { alpha, stage1: evaluateRetrieval(s1, counts, k), stage2: evaluateRetrieval(s2, counts, k) };
}

export const ALPHA_SWEEP: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];

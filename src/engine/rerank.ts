/**
 * Stage 2's final step: blend s_emd with s_cos, re-sort the top k, leave
 * every rank after k as stage 1 had it. s_emd and s_cos stay separate per
 * candidate so a new alpha only re-blends (no Sinkhorn).
 */
import { AppError } from '../core/errors.ts';
import type { AdaptiveAlpha, FusedCosineLayout, OodTransform } from '../core/types.ts';

/** alpha in [0, 1]: alpha*s_emd + (1-alpha)*s_cos. 'sum' (or any alpha < 0, the authors' convention): s_emd + s_cos. */
export type Alpha = number | 'sum';

export function validateAlpha(alpha: Alpha): void {
  if (alpha === 'sum') return;
  if (typeof alpha !== 'number' || Number.isNaN(alpha) || alpha > 1) {
    throw new AppError('invalid-argument', `alpha must be in [0, 1] or 'sum', got ${String(alpha)}`, 'The paper uses 0.7.');
  }
}

export function blendScore(sEmd: number, sCos: number, alpha: Alpha): number {
  if (alpha === 'sum' || alpha < 0) return sEmd + sCos;
  return alpha * sEmd + (1 - alpha) * sCos;
}

export interface RerankInput {
  readonly sCos: number;
  readonly sEmd: number;
}

export interface RerankedEntry {
  /** Position in the stage-1 list (0-based). */
  readonly stage1Index: number;
  readonly score: number;
  readonly sEmd: number;
  readonly sCos: number;
  /** 1-based. */
  readonly rankBefore: number;
  readonly rankAfter: number;
}

/**
 * Re-sorts the stage-1 top-k (given in stage-1 order) by the blended score;
 * equal scores keep their stage-1 order.
 */
export function rerankTopK(topK: readonly RerankInput[], alpha: Alpha): RerankedEntry[] {
  validateAlpha(alpha);
  const scored = topK.map((e, i) => ({ i, score: blendScore(e.sEmd, e.sCos, alpha) }));
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored.map((s, r) => ({ stage1Index: s.i, score: s.score, sEmd: topK[s.i].sEmd, sCos: topK[s.i].sCos, rankBefore: s.i + 1, rankAfter: r + 1 }));
}

/**
 * The full final order as stage-1 positions: the re-ranked top k, then
 * positions k.. of stage 1 unchanged.
 */
export function finalOrder(stage1Length: number, reranked: readonly RerankedEntry[]): number[] {
  const order = reranked.map((e) => e.stage1Index);
  for (let i = reranked.length; i < stage1Length; i++) order.push(i);
  return order;
}

/** The alpha one query gets, and why (the UI shows both). */
export interface QueryAlpha {
  readonly alpha: Alpha;
  /** Empty for a fixed alpha. */
  readonly reason: string;
  /** A fused pipeline's secondary weight in the cosine stage 2 blends, where the rule re-weighs it for this query. */
  readonly secondaryCosineWeight?: number;
}

/**
 * A fused cosine w * cos_s + (1 - w) * cos_p re-weighted to v * cos_s + (1 - v) * cos_p,
 * given the secondary's own cosine cos_s (the primary's follows from the two).
 */
export function reweighFusedCosine(fused: number, secondary: number, layout: FusedCosineLayout, v: number): number {
  const w = layout.secondaryWeight;
  const primary = (fused - w * secondary) / (1 - w);
  return v * secondary + (1 - v) * primary;
}

/** The secondary recognizer's own cosine of two fused unit vectors (stored rows or a query's). */
export function secondaryCosine(query: ArrayLike<number>, row: ArrayLike<number>, layout: FusedCosineLayout): number {
  let s = 0;
  for (let d = 0; d < layout.secondaryDims; d++) s += query[d] * row[d];
  return s / layout.secondaryWeight;
}

export function validateFusedCosineLayout(layout: FusedCosineLayout): void {
  const w = layout.secondaryWeight;
  if (!(w > 0 && w < 1) || !Number.isInteger(layout.secondaryDims) || layout.secondaryDims <= 0)
    throw new AppError(
      'invalid-argument',
      `a fused cosine layout needs a secondary weight in (0, 1) and a positive whole number of secondary dimensions, got ${JSON.stringify(layout)}`,
      'Check the fused pipeline in src/models/pipelines.ts.',
    );
}

/** What the damage detector made of a query, or why it could not run. */
export type QueryDamage = { readonly kind: OodTransform; readonly probability: number } | { readonly unavailable: string };

const DAMAGE_WORDS: Readonly<Record<OodTransform, string>> = { none: 'clean', crop: 'cropped', mask: 'masked', sunglasses: 'wearing sunglasses' };

/**
 * A fixed alpha, or the adaptive rule's choice: by the detected kind of
 * damage where the rule has `byDamage` and the detector ran, else from the
 * query's stage-1 top-1 score (a damaged query matches nothing well, so its
 * best score is low).
 */
export function alphaForQuery(fixed: Alpha, rule: AdaptiveAlpha | null | undefined, stage1Top1: number, damage?: QueryDamage | null, fused?: FusedCosineLayout | null): QueryAlpha {
  if (!rule) return { alpha: fixed, reason: '' };
  validateAdaptiveAlpha(rule);
  if (rule.byDamage && damage && 'kind' in damage) {
    const alpha = rule.byDamage[damage.kind];
    const read = `the damage detector reads the query as ${DAMAGE_WORDS[damage.kind]} (p ${damage.probability.toFixed(2)})`;
    const weight = fused ? rule.secondaryCosineByDamage?.[damage.kind] : undefined;
    const reweighed = weight === undefined ? {} : { secondaryCosineWeight: weight };
    const cosine = weight === undefined ? '' : `; stage 2's cosine gives the second recognizer weight ${weight} (stage 1's: ${fused?.secondaryWeight})`;
    return damage.kind === 'none'
      ? { alpha, reason: `${read}, so cosine leads (alpha ${alpha})${cosine}`, ...reweighed }
      : { alpha, reason: `${read}, so the patch EMD gets alpha ${alpha}${cosine}`, ...reweighed };
  }
  const fallback = rule.byDamage ? `${damage && 'unavailable' in damage ? damage.unavailable : 'no damage detector ran'}; ` : '';
  const clean = stage1Top1 >= rule.threshold;
  const cmp = `${fallback}top-1 stage-1 score ${stage1Top1.toFixed(3)} ${clean ? '>=' : '<'} ${rule.threshold}`;
  return clean
    ? { alpha: rule.clean, reason: `${cmp}: the query looks clean, so cosine leads (alpha ${rule.clean})` }
    : { alpha: rule.damaged, reason: `${cmp}: the query looks damaged (occluded or cropped), so the patch EMD gets more say (alpha ${rule.damaged})` };
}

export function validateAdaptiveAlpha(rule: AdaptiveAlpha): void {
  const ok = (x: number) => typeof x === 'number' && x >= 0 && x <= 1;
  const byDamageOk = rule.byDamage === undefined || (['none', 'crop', 'mask', 'sunglasses'] as const).every((k) => ok(rule.byDamage?.[k] as number));
  const cosineOk = Object.values(rule.secondaryCosineByDamage ?? {}).every((w) => w === undefined || ok(w));
  if (!ok(rule.clean) || !ok(rule.damaged) || !Number.isFinite(rule.threshold) || !byDamageOk || !cosineOk) {
    throw new AppError(
      'invalid-argument',
      `adaptive alpha needs alphas and cosine weights in [0, 1] (also per damage kind) and a finite threshold, got ${JSON.stringify(rule)}`,
      'Use the default preset, or a fixed alpha.',
    );
  }
}

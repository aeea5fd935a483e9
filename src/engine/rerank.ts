/**
 * Stage 2's final step: blend s_emd with s_cos, re-sort the top k, leave
 * every rank after k as stage 1 had it. s_emd and s_cos stay separate per
 * candidate so a new alpha only re-blends (no Sinkhorn).
 */
import { AppError } from '../core/errors.ts';
import { VISIBLE_DAMAGES, type AdaptiveAlpha, type FusedCosineLayout, type OodTransform, type VisibleDamage } from '../core/types.ts';

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
  /** The cosine of the two faces' visible-part embeddings, where the query's rule compares them. */
  readonly sVisible?: number;
}

export interface RerankedEntry {
  /** Position in the stage-1 list (0-based). */
  readonly stage1Index: number;
  readonly score: number;
  readonly sEmd: number;
  readonly sCos: number;
  readonly sVisible?: number;
  /** 1-based. */
  readonly rankBefore: number;
  readonly rankAfter: number;
}

/**
 * Re-sorts the stage-1 top-k (given in stage-1 order) by the blended score;
 * equal scores keep their stage-1 order. With a `visibleWeight` v > 0 the
 * score is alpha * s_emd + (1 - alpha - v) * s_cos + v * s_visible, and
 * every entry must carry its s_visible.
 */
export function rerankTopK(topK: readonly RerankInput[], alpha: Alpha, visibleWeight = 0): RerankedEntry[] {
  validateAlpha(alpha);
  if (visibleWeight !== 0) {
    if (alpha === 'sum' || !(visibleWeight > 0 && alpha >= 0 && alpha + visibleWeight <= 1 + 1e-12))
      throw new AppError('invalid-argument', `a visible-part weight ${visibleWeight} needs an alpha in [0, ${1 - visibleWeight}], got ${String(alpha)}`, 'Check visibleByDamage in the settings.');
    if (topK.some((e) => e.sVisible === undefined || !Number.isFinite(e.sVisible)))
      throw new AppError('internal', 'a candidate has no visible-part cosine to blend', 'Report this as a bug; re-ranking without it still works (switch the preset).');
  }
  const score = (e: RerankInput) =>
    visibleWeight === 0 ? blendScore(e.sEmd, e.sCos, alpha) : (alpha as number) * e.sEmd + (1 - (alpha as number) - visibleWeight) * e.sCos + visibleWeight * (e.sVisible as number);
  const scored = topK.map((e, i) => ({ i, score: score(e) }));
  scored.sort((a, b) => b.score - a.score || a.i - b.i);
  return scored.map((s, r) => {
    const e = topK[s.i];
    return { stage1Index: s.i, score: s.score, sEmd: e.sEmd, sCos: e.sCos, ...(e.sVisible !== undefined ? { sVisible: e.sVisible } : {}), rankBefore: s.i + 1, rankAfter: r + 1 };
  });
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
  /** The weight of the visible-part cosine, where the rule compares the visible part for this query's kind of damage. */
  readonly visibleWeight?: number;
  /** Which kind's visible-part embeddings that cosine compares. */
  readonly visibleDamage?: VisibleDamage;
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

/** The kind of damage whose visible part the rule compares for this reading, or null. */
export function visibleDamageFor(rule: AdaptiveAlpha | null | undefined, damage: QueryDamage | null | undefined, fused: FusedCosineLayout | null | undefined): VisibleDamage | null {
  if (!rule?.byDamage || !rule.visibleByDamage || !fused || !damage || !('kind' in damage)) return null;
  const kind = VISIBLE_DAMAGES.find((k) => k === damage.kind);
  return kind && rule.visibleByDamage[kind] ? kind : null;
}

/**
 * A fixed alpha, or the adaptive rule's choice: by the detected kind of
 * damage where the rule has `byDamage` and the detector ran, else from the
 * query's stage-1 top-1 score (a damaged query matches nothing well, so its
 * best score is low). `visible`: for a kind the rule compares by its visible
 * part (visibleDamageFor), whether the query and every candidate have that
 * embedding, or why not; without it the kind's plain entries decide.
 */
export function alphaForQuery(
  fixed: Alpha,
  rule: AdaptiveAlpha | null | undefined,
  stage1Top1: number,
  damage?: QueryDamage | null,
  fused?: FusedCosineLayout | null,
  visible?: { readonly ready: true } | { readonly missing: string },
): QueryAlpha {
  if (!rule) return { alpha: fixed, reason: '' };
  validateAdaptiveAlpha(rule);
  if (rule.byDamage && damage && 'kind' in damage) {
    const read = `the damage detector reads the query as ${DAMAGE_WORDS[damage.kind]} (p ${damage.probability.toFixed(2)})`;
    const visibleKind = visibleDamageFor(rule, damage, fused);
    const v = visibleKind ? rule.visibleByDamage?.[visibleKind] : undefined;
    if (visibleKind && v && visible && 'ready' in visible)
      return {
        alpha: v.alpha,
        reason: `${read}, so stage 2 blends the patch EMD (alpha ${v.alpha}), the cosine of only the part ${visibleKind === 'mask' ? 'the mask leaves' : 'the glasses leave'} visible (weight ${v.visible}) and the cosine with the second recognizer at weight ${v.secondaryCosine} (stage 1's: ${fused?.secondaryWeight})`,
        secondaryCosineWeight: v.secondaryCosine,
        visibleWeight: v.visible,
        visibleDamage: visibleKind,
      };
    const without = visibleKind && visible && 'missing' in visible ? `; the visible part is not compared: ${visible.missing}` : '';
    const alpha = rule.byDamage[damage.kind];
    const weight = fused ? rule.secondaryCosineByDamage?.[damage.kind] : undefined;
    const reweighed = weight === undefined ? {} : { secondaryCosineWeight: weight };
    const cosine = weight === undefined ? '' : `; stage 2's cosine gives the second recognizer weight ${weight} (stage 1's: ${fused?.secondaryWeight})`;
    return damage.kind === 'none'
      ? { alpha, reason: `${read}, so cosine leads (alpha ${alpha})${cosine}`, ...reweighed }
      : { alpha, reason: `${read}, so the patch EMD gets alpha ${alpha}${cosine}${without}`, ...reweighed };
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
  const visibleOk = Object.values(rule.visibleByDamage ?? {}).every((v) => v === undefined || (ok(v.alpha) && ok(v.secondaryCosine) && v.visible > 0 && v.alpha + v.visible <= 1 + 1e-12));
  if (!ok(rule.clean) || !ok(rule.damaged) || !Number.isFinite(rule.threshold) || !byDamageOk || !cosineOk || !visibleOk) {
    throw new AppError(
      'invalid-argument',
      `adaptive alpha needs alphas and cosine weights in [0, 1] (also per damage kind; a visible-part weight above 0 with alpha + weight <= 1) and a finite threshold, got ${JSON.stringify(rule)}`,
      'Use the default preset, or a fixed alpha.',
    );
  }
}

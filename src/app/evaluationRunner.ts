/**
 * Leave-one-out identification over the gallery: every image of an identity
 * with >= 2 images is a query against all other gallery images. Query
 * transforms are applied to the stored aligned face. Stage 1 and the top-k's
 * s_emd are computed once per query and settings variant; every alpha of the
 * sweep only re-blends (src/app/evaluation.ts).
 */
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, RerankSettings } from '../core/types.ts';
import type { RetrievalMetrics } from '../engine/metrics.ts';
import type { Stage2Hit } from '../engine/searchEngine.ts';
import type { EvalOptions, EvalProgress, EvalReport, MetricTriple } from './engineApi.ts';
import { ALPHA_SWEEP, leaveOneOutCounts, stage2Labels, summarise, type EvalQueryScores } from './evaluation.ts';
import type { GalleryEntry, GalleryService } from './galleryService.ts';
import type { ExtractorPort } from './ports.ts';
import { storedToFeatures } from './storedFace.ts';

interface VariantScores {
  readonly scores: EvalQueryScores[];
  stage1Ms: number;
  stage2Ms: number;
  emdBackend: string;
}

/** An evenly spaced, deterministic subset of `limit` items (all of them without a limit). */
export function evenlySpaced<T>(items: readonly T[], limit?: number): T[] {
  if (limit === undefined || limit >= items.length) return [...items];
  const step = items.length / limit;
  return Array.from({ length: limit }, (_, i) => items[Math.floor(i * step)]);
}

/** The visible-part cosines the search computed for these hits (all or none), or why it had none. */
function visibleScores(hits: readonly Stage2Hit[], missing: string | undefined): Pick<EvalQueryScores, 'visible'> {
  if (hits.length > 0 && hits.every((h) => h.sVisible !== undefined)) return { visible: { sVisible: hits.map((h) => h.sVisible as number) } };
  return missing ? { visible: { missing } } : {};
}

/** Queries per detected kind of damage (or per reason the detector could not run). */
export function damageReadCounts(scores: readonly EvalQueryScores[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const q of scores) {
    const key = !q.damage ? 'not read' : 'kind' in q.damage ? q.damage.kind : q.damage.unavailable;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

export class EvaluationRunner {
  private cancelled = false;

  constructor(
    private readonly gallery: GalleryService,
    private readonly extractor: ExtractorPort,
  ) {}

  cancel(): void {
    this.cancelled = true;
  }

  async run(opts: EvalOptions, onProgress?: (p: EvalProgress) => void): Promise<EvalReport> {
    this.cancelled = false;
    // The main settings first, then any extra variants: each query's features
    // (the expensive part for a transformed query) are computed once for all.
    const variants = [opts.settings, ...(opts.extraSettings ?? [])];
    const all = this.gallery.all();
    const counts = leaveOneOutCounts(all.map(([, v]) => v.label));
    // Only identities with another image in the gallery can be found.
    const candidates = all.filter(([, v]) => (counts.get(v.label) ?? 0) >= 1).sort((a, b) => a[1].fileName.localeCompare(b[1].fileName));
    const queries = evenlySpaced(candidates, opts.limit);
    const maxR = Math.max(0, ...counts.values());
    const listLength = Math.max(...variants.map((s) => s.k), maxR) + 1;
    const perVariant: VariantScores[] = variants.map(() => ({ scores: [], stage1Ms: 0, stage2Ms: 0, emdBackend: '' }));
    // The next query's features are extracted (by the extractor) while this one is searched (here).
    let upcoming: Promise<FaceFeatures> | null = queries.length > 0 ? this.queryFeatures(queries[0][0], opts, 0) : null;
    for (let qi = 0; upcoming && !this.cancelled; qi++) {
      const [key, meta] = queries[qi];
      const features = await upcoming;
      upcoming = qi + 1 < queries.length ? this.queryFeatures(queries[qi + 1][0], opts, qi + 1) : null;
      for (const [vi, settings] of variants.entries()) await this.scoreQuery(key, meta, features, settings, listLength, perVariant[vi]);
      if (onProgress && (qi % 10 === 0 || qi === queries.length - 1)) onProgress({ done: qi + 1, total: queries.length });
    }
    // A cancelled run still lets its prefetch finish, so no extraction is left running (or failing) unobserved.
    if (upcoming) await upcoming;
    const reports = variants.map((settings, vi) => this.report(opts, settings, perVariant[vi], counts, vi === 0 && opts.withRankings === true));
    const [main, ...extra] = reports;
    return extra.length > 0 ? { ...main, variants: extra } : main;
  }

  private async queryFeatures(key: string, opts: EvalOptions, qi: number): Promise<FaceFeatures> {
    const stored = await this.gallery.get(key);
    if (!stored)
      throw new AppError(
        'unknown-id',
        `gallery image ${this.gallery.entry(key)?.fileName ?? key} disappeared during the evaluation`,
        'Do not edit the gallery while an evaluation runs; run it again.',
      );
    if (opts.ood === 'none') return storedToFeatures(stored);
    return this.extractor.embedAligned(stored.thumbnail, stored.landmarks68 ?? new Float32Array(), opts.ood, opts.seed + qi);
  }

  private async scoreQuery(key: string, meta: GalleryEntry, features: FaceFeatures, settings: RerankSettings, listLength: number, acc: VariantScores): Promise<void> {
    // One extra candidate, since the query itself is still in the gallery; it is dropped below.
    const r = await this.gallery.index.search(features, { ...settings, k: settings.k + 1 }, { stage1Length: listLength });
    acc.stage1Ms += r.timings.stage1Ms;
    acc.stage2Ms += r.timings.stage2Ms;
    acc.emdBackend = r.backendUsed;
    const layout = this.gallery.index.fusedCosineLayout;
    const byStage1 = [...r.stage2]
      .sort((a, b) => a.rankBefore - b.rankBefore)
      .filter((e) => e.id !== key)
      .slice(0, settings.k);
    acc.scores.push({
      queryKey: key,
      label: meta.label,
      stage1Labels: r.stage1.filter((h) => h.id !== key).map((h) => h.label),
      // The stage-1 score, not the hit's sCos: a rule may have re-weighed that one for this search's alpha alone.
      sCos: byStage1.map((e) => r.stage1[e.rankBefore - 1].score),
      sEmd: byStage1.map((e) => e.sEmd),
      ...(layout ? { fused: { layout, sCosSecondary: byStage1.map((e) => requireSecondaryCosine(e.sCosSecondary, meta.fileName)) } } : {}),
      ...(r.damage ? { damage: r.damage } : {}),
      ...visibleScores(byStage1, r.visibleMissing),
    });
  }

  private report(opts: EvalOptions, settings: RerankSettings, acc: VariantScores, counts: ReadonlyMap<string, number>, withRankings: boolean): EvalReport {
    const { scores } = acc;
    const main = summarise(scores, counts, settings.k, settings.alpha, settings.adaptiveAlpha);
    const triple = (m: RetrievalMetrics): MetricTriple => ({ p1: m.p1, rp: m.rPrecision, mapr: m.mapAtR });
    const n = Math.max(scores.length, 1);
    return {
      model: this.gallery.modelKey,
      grid: settings.grid,
      weights: settings.weighting,
      alpha: settings.alpha,
      adaptive_alpha: settings.adaptiveAlpha ?? null,
      ...(settings.adaptiveAlpha?.byDamage ? { damage_read: damageReadCounts(scores) } : {}),
      k: settings.k,
      ood: opts.ood,
      sinkhorn: settings.sinkhorn.mode,
      n_queries: main.stage1.queries,
      gallery_size: this.gallery.size,
      stage1: triple(main.stage1),
      stage2: triple(main.stage2),
      max_precision_at_k: main.stage1.maxPrecisionAtK,
      ms_per_query: { stage1: acc.stage1Ms / n, stage2: acc.stage2Ms / n },
      emd_backend: acc.emdBackend,
      alpha_sweep: ALPHA_SWEEP.map((alpha) => ({ alpha, stage2: triple(summarise(scores, counts, settings.k, alpha).stage2) })),
      cancelled: this.cancelled,
      ...(withRankings
        ? {
            rankings: scores.map((q) => ({
              query: this.gallery.entry(q.queryKey)?.fileName ?? q.queryKey,
              label: q.label,
              relevant: counts.get(q.label) ?? 0,
              stage1: q.stage1Labels,
              stage2: stage2Labels(q, settings.alpha, settings.adaptiveAlpha),
            })),
          }
        : {}),
    };
  }
}

function requireSecondaryCosine(x: number | undefined, fileName: string): number {
  if (x === undefined)
    throw new AppError('internal', `the search for ${fileName} returned no second-recognizer cosine although the gallery is fused`, 'Report this as a bug; the ranking itself is unaffected.');
  return x;
}

/**
 * The study's evaluation: stage-1 lists of a fused cosine and stage-2 re-ranking
 * of its top k with a blend of cached s_emd, scored with the engine's metrics.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { mapAtR } from '../../src/engine/metrics.ts';
import { readVariant } from './features.ts';
import { cosineMatrix, FUSION_GRID, K, studySetup, topK } from './setup.ts';
import { STUDY_DIR, type Variant } from './shared.ts';

export interface QueryData {
  readonly pos: number;
  readonly label: string;
  /** Relevant gallery images (query excluded). */
  readonly R: number;
  /** Stage-1 top lists (gallery positions), one per FUSION_GRID entry, length max(K, R). */
  readonly lists: number[][];
  readonly cm: Float32Array;
  readonly cr: Float32Array;
  readonly emdFr: Map<number, number>;
  readonly emdMf: Map<number, number>;
}

export interface VariantData {
  readonly variant: Variant;
  readonly labels: string[];
  readonly queries: QueryData[];
}

/** Which s_emd cache to read: `emd` (scores.ts), or projectedScores.ts's `emdp` / `emdq` (env STUDY_EMD). */
export const EMD_CACHE = process.env.STUDY_EMD ?? 'emd';

export function loadVariantData(variant: Variant): VariantData {
  const s = studySetup();
  const counts = new Map<string, number>();
  for (const l of s.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const emd = new Map<number, { cand: number[]; fr: number[]; mf: number[] }>();
  for (let part = 0; existsSync(join(STUDY_DIR, `${EMD_CACHE}-${variant}-${part}.json`)); part++) {
    for (const r of JSON.parse(readFileSync(join(STUDY_DIR, `${EMD_CACHE}-${variant}-${part}.json`), 'utf8')) as { q: number; cand: number[]; fr: number[]; mf: number[] }[]) emd.set(r.q, r);
  }
  const withEmd = s.queryPositions.flatMap((p) => {
    const e = emd.get(p);
    return e ? [{ p, e }] : [];
  });
  const gal = readVariant('none', s.galleryRows, false);
  const qf =
    variant === 'none'
      ? null
      : readVariant(
          variant,
          withEmd.map(({ p }) => s.galleryRows[p]),
          false,
        );
  const queries = withEmd.map(({ p, e }, i) => {
    const qm = qf ? qf.mf.emb.subarray(i * 512, (i + 1) * 512) : gal.mf.emb.subarray(p * 512, (p + 1) * 512);
    const qr = qf ? qf.fr.emb.subarray(i * 1024, (i + 1) * 1024) : gal.fr.emb.subarray(p * 1024, (p + 1) * 1024);
    const cm = cosineMatrix(qm, gal.mf.emb, 512);
    const cr = cosineMatrix(qr, gal.fr.emb, 1024);
    const R = (counts.get(s.labels[p]) ?? 1) - 1;
    const lists = FUSION_GRID.map((w) =>
      topK(
        Float32Array.from(cm, (x, j) => w * x + (1 - w) * cr[j]),
        Math.max(K, R),
        p,
      ),
    );
    return { pos: p, label: s.labels[p], R, lists, cm, cr, emdFr: new Map(e.cand.map((g, j) => [g, e.fr[j]])), emdMf: new Map(e.cand.map((g, j) => [g, e.mf[j]])) };
  });
  return { variant, labels: s.labels, queries };
}

export interface Policy {
  /** Index into FUSION_GRID: stage-1 weight of MobileFaceNet's cosine. */
  readonly wi: number;
  /** Stage-2 weight of s_emd, per query. */
  readonly alpha: (q: QueryData) => number;
  /** Share of FaceRes's s_emd in the EMD term (rest: MobileFaceNet's). */
  readonly beta: number;
}

export interface QueryOutcome {
  readonly s1p1: number;
  readonly s1map: number;
  readonly s2p1: number;
  readonly s2map: number;
}

export function runQuery(q: QueryData, labels: readonly string[], p: Policy): QueryOutcome {
  const w = FUSION_GRID[p.wi];
  const list = q.lists[p.wi];
  const lab = (g: number) => labels[g];
  const s1 = list.map(lab);
  const a = p.alpha(q);
  const top = list.slice(0, K).map((g, i) => {
    const cos = w * q.cm[g] + (1 - w) * q.cr[g];
    const fr = q.emdFr.get(g);
    const mf = q.emdMf.get(g);
    if (fr === undefined || mf === undefined)
      throw new Error(`query ${q.pos}: no cached s_emd for gallery position ${g}; the EMD cache was made from other stage-1 lists: re-run bench/study/scores.ts`);
    const e = p.beta * fr + (1 - p.beta) * mf;
    return { g, i, score: a * e + (1 - a) * cos };
  });
  top.sort((x, y) => y.score - x.score || x.i - y.i);
  const s2 = [...top.map((t) => lab(t.g)), ...s1.slice(K)];
  return { s1p1: s1[0] === q.label ? 1 : 0, s1map: mapAtR(s1, q.label, q.R), s2p1: s2[0] === q.label ? 1 : 0, s2map: mapAtR(s2, q.label, q.R) };
}

export function mean(xs: readonly QueryOutcome[]): QueryOutcome {
  const n = Math.max(xs.length, 1);
  const sum = (f: (o: QueryOutcome) => number) => (100 * xs.reduce((s, o) => s + f(o), 0)) / n;
  return { s1p1: sum((o) => o.s1p1), s1map: sum((o) => o.s1map), s2p1: sum((o) => o.s2p1), s2map: sum((o) => o.s2map) };
}

/**
 * Chooses the default pipeline's settings on lfw-dev by 5-fold
 * cross-validation by identity, and reports the held-out folds:
 * `npx tsx bench/study/cv.ts`. Policies: a fixed alpha, or an alpha per
 * query from a threshold on the stage-1 top-1 score (low = the query looks
 * damaged). Objective on the training folds: mean over none / crop / mask /
 * sunglasses of (stage-2 P@1 + MAP@R) / 2, with in distribution stage 2
 * P@1 >= stage 1 and MAP@R >= stage 1 - 0.1 (else the policy is skipped).
 */
import { FUSION_GRID } from './setup.ts';
import { loadVariantData, runQuery, type QueryOutcome, type VariantData } from './evalCore.ts';
import { VARIANTS } from './shared.ts';

const ALPHAS = Array.from({ length: 21 }, (_, i) => i / 20);
const BETA = Number(process.env.STUDY_BETA ?? 1);
const FOLDS = 5;

function fold(identity: string): number {
  let h = 2166136261;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 16777619) >>> 0;
  return h % FOLDS;
}

interface Table {
  readonly variant: string;
  readonly folds: Int8Array;
  /** [wi][alphaIndex][query] */
  readonly out: QueryOutcome[][][];
  /** [wi][query]: stage-1 top-1 fused score. */
  readonly top1: Float32Array[];
}

function table(d: VariantData): Table {
  const out = FUSION_GRID.map((_, wi) => ALPHAS.map((a) => d.queries.map((q) => runQuery(q, d.labels, { wi, beta: BETA, alpha: () => a }))));
  const top1 = FUSION_GRID.map((w, wi) => Float32Array.from(d.queries, (q) => w * q.cm[q.lists[wi][0]] + (1 - w) * q.cr[q.lists[wi][0]]));
  return { variant: d.variant, folds: Int8Array.from(d.queries, (q) => fold(q.label)), out, top1 };
}

type Policy = { wi: number; kind: 'fixed'; a: number } | { wi: number; kind: 'adaptive'; t: number; conf: number; doubt: number };

function alphaIndex(p: Policy, t: Table, q: number): number {
  if (p.kind === 'fixed') return p.a;
  return t.top1[p.wi][q] >= p.t ? p.conf : p.doubt;
}

interface Score { s1p1: number; s1map: number; s2p1: number; s2map: number; n: number }

function score(p: Policy, t: Table, keep: (f: number) => boolean): Score {
  const s = { s1p1: 0, s1map: 0, s2p1: 0, s2map: 0, n: 0 };
  for (let q = 0; q < t.folds.length; q++) {
    if (!keep(t.folds[q])) continue;
    const o = t.out[p.wi][alphaIndex(p, t, q)][q];
    s.s1p1 += o.s1p1;
    s.s1map += o.s1map;
    s.s2p1 += o.s2p1;
    s.s2map += o.s2map;
    s.n++;
  }
  const n = Math.max(s.n, 1);
  return { s1p1: (100 * s.s1p1) / n, s1map: (100 * s.s1map) / n, s2p1: (100 * s.s2p1) / n, s2map: (100 * s.s2map) / n, n: s.n };
}

function objective(p: Policy, tables: Table[], keep: (f: number) => boolean): number {
  const scores = tables.map((t) => score(p, t, keep));
  const clean = scores[0];
  if (clean.s2p1 < clean.s1p1 || clean.s2map < clean.s1map - 0.1) return -Infinity;
  return scores.reduce((s, x) => s + (x.s2p1 + x.s2map) / 2, 0) / scores.length;
}

function policies(tables: Table[]): Policy[] {
  const out: Policy[] = [];
  FUSION_GRID.forEach((_, wi) => {
    ALPHAS.forEach((_, a) => out.push({ wi, kind: 'fixed', a }));
    const all = Float32Array.from(tables.flatMap((t) => Array.from(t.top1[wi]))).sort();
    const cuts = Array.from({ length: 19 }, (_, i) => all[Math.floor(((i + 1) / 20) * all.length)]);
    for (const t of cuts) for (let conf = 0; conf < ALPHAS.length; conf += 2) for (let doubt = conf + 2; doubt < ALPHAS.length; doubt += 2) out.push({ wi, kind: 'adaptive', t, conf, doubt });
  });
  return out;
}

const describe = (p: Policy) =>
  p.kind === 'fixed' ? `w ${FUSION_GRID[p.wi]}, alpha ${ALPHAS[p.a]}` : `w ${FUSION_GRID[p.wi]}, alpha ${ALPHAS[p.conf]} if top-1 >= ${p.t.toFixed(3)} else ${ALPHAS[p.doubt]}`;

const tables = VARIANTS.map((v) => {
  const t0 = Date.now();
  const t = table(loadVariantData(v));
  process.stderr.write(`${v}: ${t.folds.length} queries, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  return t;
});
const all = policies(tables);
for (const kind of ['fixed', 'adaptive'] as const) {
  const pool = all.filter((p) => p.kind === kind || (kind === 'adaptive' && p.kind === 'fixed'));
  console.log(`\n## ${kind === 'fixed' ? 'fixed alpha' : 'fixed or adaptive alpha'} (beta ${BETA}), 5-fold CV by identity`);
  const held = tables.map(() => ({ s1p1: 0, s1map: 0, s2p1: 0, s2map: 0, n: 0 }));
  for (let f = 0; f < FOLDS; f++) {
    let best = pool[0];
    let bestObj = -Infinity;
    for (const p of pool) {
      const o = objective(p, tables, (x) => x !== f);
      if (o > bestObj) {
        bestObj = o;
        best = p;
      }
    }
    console.log(`fold ${f}: chose ${describe(best)} (train objective ${bestObj.toFixed(2)})`);
    tables.forEach((t, i) => {
      const s = score(best, t, (x) => x === f);
      for (const k of ['s1p1', 's1map', 's2p1', 's2map'] as const) held[i][k] += s[k] * s.n;
      held[i].n += s.n;
    });
  }
  console.log('| queries | n | stage 1 P@1 / MAP@R | stage 2 P@1 / MAP@R (held-out folds) | Δ |');
  tables.forEach((t, i) => {
    const h = held[i];
    const m = (x: number) => (x / h.n).toFixed(2);
    console.log(`| ${t.variant} | ${h.n} | ${m(h.s1p1)} / ${m(h.s1map)} | ${m(h.s2p1)} / ${m(h.s2map)} | ${((h.s2p1 - h.s1p1) / h.n).toFixed(2)} / ${((h.s2map - h.s1map) / h.n).toFixed(2)} |`);
  });
  let best = pool[0];
  let bestObj = -Infinity;
  for (const p of pool) {
    const o = objective(p, tables, () => true);
    if (o > bestObj) {
      bestObj = o;
      best = p;
    }
  }
  console.log(`on all of lfw-dev: ${describe(best)} (objective ${bestObj.toFixed(2)})`);
  tables.forEach((t) => {
    const s = score(best, t, () => true);
    console.log(`  ${t.variant}: ${s.s1p1.toFixed(2)} / ${s.s1map.toFixed(2)} -> ${s.s2p1.toFixed(2)} / ${s.s2map.toFixed(2)}`);
  });
}

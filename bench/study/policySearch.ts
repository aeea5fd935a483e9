/**
 * Chooses the default pipeline's policy on lfw-dev by 5-fold cross-validation
 * by identity, and reports the held-out folds: `npx tsx bench/study/policySearch.ts`.
 *
 * A policy picks, per query, the stage-1 fusion weight w (MobileFaceNet's
 * share) and the stage-2 alpha from signals a real search has:
 *   w = wTrust if MobileFaceNet's own top-1 cosine >= tw, else wDoubt
 *   alpha = aClean if the fused stage-1 top-1 >= ta, else aDamaged
 * (tw = -inf: a fixed w; aClean = aDamaged: a fixed alpha). Objective on the
 * training folds: mean over none / crop / mask / sunglasses of
 * (stage-2 P@1 + MAP@R) / 2, subject to, in distribution, stage-2 P@1 >=
 * stage 1 and MAP@R >= stage 1 - 0.1 (else the policy is skipped).
 */
import { FUSION_GRID } from './setup.ts';
import { ALPHAS, loadTable, type Table } from './tables.ts';
import { VARIANTS } from './shared.ts';

export interface Policy {
  readonly tw: number;
  readonly wTrust: number;
  readonly wDoubt: number;
  readonly ta: number;
  readonly aClean: number;
  readonly aDamaged: number;
}

export function decide(p: Policy, t: Table, q: number): { wi: number; ai: number } {
  const wi = t.mfTop1[q] >= p.tw ? p.wTrust : p.wDoubt;
  const ai = t.top1[wi * t.n + q] >= p.ta ? p.aClean : p.aDamaged;
  return { wi, ai };
}

export interface Score {
  s1p1: number;
  s1map: number;
  s2p1: number;
  s2map: number;
  n: number;
}

/** Stage 1 is the policy's own fused ranking (with its per-query w); stage 2 adds its alpha. */
export function score(p: Policy, t: Table, keep: (f: number) => boolean): Score {
  let s1p1 = 0,
    s1map = 0,
    s2p1 = 0,
    s2map = 0,
    n = 0;
  for (let q = 0; q < t.n; q++) {
    if (!keep(t.folds[q])) continue;
    const { wi, ai } = decide(p, t, q);
    const o = ((wi * ALPHAS.length + ai) * t.n + q) * 4;
    s1p1 += t.out[o];
    s1map += t.out[o + 1];
    s2p1 += t.out[o + 2];
    s2map += t.out[o + 3];
    n++;
  }
  const k = 100 / Math.max(n, 1);
  return { s1p1: s1p1 * k, s1map: s1map * k, s2p1: s2p1 * k, s2map: s2map * k, n };
}

function objective(p: Policy, tables: readonly Table[], keep: (f: number) => boolean): number {
  const scores = tables.map((t) => score(p, t, keep));
  const clean = scores[0];
  if (clean.s2p1 < clean.s1p1 || clean.s2map < clean.s1map - 0.1) return -Infinity;
  return scores.reduce((s, x) => s + (x.s2p1 + x.s2map) / 2, 0) / scores.length;
}

function quantiles(values: Float32Array, count: number): number[] {
  const s = Float32Array.from(values).sort();
  return Array.from({ length: count }, (_, i) => s[Math.floor(((i + 1) / (count + 1)) * s.length)]);
}

export function policySpace(tables: readonly Table[]): Policy[] {
  const cat = (f: (t: Table) => Float32Array) => Float32Array.from(tables.flatMap((t) => Array.from(f(t))));
  const wIdx = (w: number) => FUSION_GRID.indexOf(w as (typeof FUSION_GRID)[number]);
  const mfCuts = [
    -Infinity,
    ...quantiles(
      cat((t) => t.mfTop1),
      12,
    ),
  ];
  const out: Policy[] = [];
  for (const tw of mfCuts) {
    for (const wTrust of [0.4, 0.5, 0.6, 0.8, 1]) {
      for (const wDoubt of tw === -Infinity ? [wTrust] : [0, 0.2, 0.4]) {
        if (tw !== -Infinity && wDoubt >= wTrust) continue;
        const wiT = wIdx(wTrust);
        const taCuts = [
          Infinity,
          ...quantiles(
            cat((t) => t.top1.subarray(wiT * t.n, (wiT + 1) * t.n)),
            12,
          ),
        ];
        for (const ta of taCuts) {
          for (let aClean = 0; aClean <= 8; aClean += 2) {
            for (let aDamaged = ta === Infinity ? aClean : aClean + 2; aDamaged <= 20; aDamaged += 2) {
              if (ta === Infinity && aDamaged !== aClean) break;
              out.push({ tw, wTrust: wiT, wDoubt: wIdx(wDoubt), ta, aClean, aDamaged });
            }
          }
        }
        if (tw === -Infinity) {
          for (let a = 10; a <= 20; a += 2) out.push({ tw, wTrust: wiT, wDoubt: wiT, ta: Infinity, aClean: a, aDamaged: a });
        }
      }
    }
  }
  return out;
}

export function describePolicy(p: Policy): string {
  const w = p.tw === -Infinity ? `w ${FUSION_GRID[p.wTrust]}` : `w ${FUSION_GRID[p.wTrust]} if MobileFaceNet top-1 >= ${p.tw.toFixed(3)} else ${FUSION_GRID[p.wDoubt]}`;
  const a = p.aClean === p.aDamaged ? `alpha ${ALPHAS[p.aClean]}` : `alpha ${ALPHAS[p.aClean]} if stage-1 top-1 >= ${p.ta.toFixed(3)} else ${ALPHAS[p.aDamaged]}`;
  return `${w}; ${a}`;
}

function best(pool: readonly Policy[], tables: readonly Table[], keep: (f: number) => boolean): { p: Policy; obj: number } {
  let p = pool[0];
  let obj = -Infinity;
  for (const c of pool) {
    const o = objective(c, tables, keep);
    if (o > obj) {
      obj = o;
      p = c;
    }
  }
  return { p, obj };
}

function report(title: string, pool: readonly Policy[], tables: readonly Table[]): void {
  console.log(`\n## ${title} (${pool.length} policies), 5-fold CV by identity`);
  const held = tables.map(() => ({ s1p1: 0, s1map: 0, s2p1: 0, s2map: 0, n: 0 }));
  for (let f = 0; f < 5; f++) {
    const { p, obj } = best(pool, tables, (x) => x !== f);
    console.log(`fold ${f}: ${describePolicy(p)} (train objective ${obj.toFixed(2)})`);
    tables.forEach((t, i) => {
      const s = score(p, t, (x) => x === f);
      for (const k of ['s1p1', 's1map', 's2p1', 's2map'] as const) held[i][k] += s[k] * s.n;
      held[i].n += s.n;
    });
  }
  console.log('| queries | n | stage 1 P@1 / MAP@R | stage 2 P@1 / MAP@R | Δ P@1 / Δ MAP@R |\n|---|---|---|---|---|');
  tables.forEach((t, i) => {
    const h = held[i];
    const m = (x: number) => (x / h.n).toFixed(2);
    console.log(
      `| ${t.variant} (held-out) | ${h.n} | ${m(h.s1p1)} / ${m(h.s1map)} | ${m(h.s2p1)} / ${m(h.s2map)} | ${((h.s2p1 - h.s1p1) / h.n).toFixed(2)} / ${((h.s2map - h.s1map) / h.n).toFixed(2)} |`,
    );
  });
  const all = best(pool, tables, () => true);
  console.log(`chosen on all of lfw-dev: ${describePolicy(all.p)} (objective ${all.obj.toFixed(2)}); raw: ${JSON.stringify({ ...all.p, tw: all.p.tw, ta: all.p.ta })}`);
  tables.forEach((t) => {
    const s = score(all.p, t, () => true);
    console.log(
      `| ${t.variant} (fit) | ${s.n} | ${s.s1p1.toFixed(2)} / ${s.s1map.toFixed(2)} | ${s.s2p1.toFixed(2)} / ${s.s2map.toFixed(2)} | ${(s.s2p1 - s.s1p1).toFixed(2)} / ${(s.s2map - s.s1map).toFixed(2)} |`,
    );
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  // --beta: share of FaceRes's s_emd in the EMD term (1: FaceRes alone, the shipped default).
  const betaAt = process.argv.indexOf('--beta');
  const beta = betaAt > 0 ? Number(process.argv[betaAt + 1]) : 1;
  const tables = VARIANTS.map((v) => {
    const t0 = Date.now();
    const t = loadTable(v, beta);
    process.stderr.write(`${v}: ${t.n} queries, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
    return t;
  });
  const space = policySpace(tables);
  const fixedW = space.filter((p) => p.tw === -Infinity);
  report(
    'fixed w, fixed alpha',
    fixedW.filter((p) => p.aClean === p.aDamaged),
    tables,
  );
  report('fixed w, alpha per query', fixedW, tables);
  report('w and alpha per query', space, tables);
}

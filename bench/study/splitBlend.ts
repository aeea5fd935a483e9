/**
 * Issue 13: does stage 2 gain more when it re-weighs the two recognizers'
 * cosines as well as blending in FaceRes's s_emd? Stage 1 stays the fused
 * cosine (w 0.4); stage 2 of a query of one kind scores its top K by
 *
 *   (1 - alpha) * (wm * cos_MobileFaceNet + (1 - wm) * cos_FaceRes) + alpha * s_emd_FaceRes
 *
 * with wm and alpha chosen per kind. wm = 0.4 is the family shipped before
 * (stage 2 blends stage 1's cosine). The pair is chosen on the training
 * identities of each fold (5-fold by identity) and scored on the held-out
 * fold; the pair fitted on every query is what DEFAULT_SETTINGS ships
 * (adaptiveAlpha.byDamage and secondaryCosineByDamage).
 *
 *   npx tsx bench/study/splitBlend.ts mask sunglasses   (after damageScores.ts for those variants)
 */
import { mapAtR } from '../../src/engine/metrics.ts';
import { dotAt, loadDamageRows, readVariant } from './features.ts';
import { K, studySetup } from './setup.ts';
import type { Variant } from './shared.ts';
import { identityFold } from './tables.ts';

const GRID = Array.from({ length: 11 }, (_, i) => i / 10);
const FOLDS = 5;

interface QueryScores {
  readonly q: number;
  readonly R: number;
  readonly list: number[];
  readonly cm: Float64Array;
  readonly cf: Float64Array;
  readonly emd: readonly number[];
}

function queryScores(variant: Variant): QueryScores[] {
  const s = studySetup();
  const rows = loadDamageRows(variant);
  const gal = readVariant('none', s.galleryRows, false);
  const qf = variant === 'none' ? gal : readVariant(variant, s.galleryRows, false);
  return rows.map((r) => {
    const top = r.list.slice(0, K);
    const cm = Float64Array.from(top, (g) => dotAt(qf.mf.emb, r.q * 512, gal.mf.emb, g * 512, 512));
    const cf = Float64Array.from(top, (g) => dotAt(qf.fr.emb, r.q * 1024, gal.fr.emb, g * 1024, 1024));
    return { q: r.q, R: r.R, list: r.list, cm, cf, emd: r.emd };
  });
}

/** [P@1, MAP@R] (0/1, fraction) of one query under (wm, alpha). */
function outcome(x: QueryScores, labels: readonly string[], wm: number, alpha: number): [number, number] {
  const label = labels[x.q];
  const order = x.emd.map((e, i) => ({ i, s: (1 - alpha) * (wm * x.cm[i] + (1 - wm) * x.cf[i]) + alpha * e }));
  order.sort((a, b) => b.s - a.s || a.i - b.i);
  const ranked = [...order.map((o) => labels[x.list[o.i]]), ...x.list.slice(K).map((g) => labels[g])];
  return [ranked[0] === label ? 1 : 0, mapAtR(ranked, label, x.R)];
}

function main(): void {
  const variants = (process.argv.slice(2).length ? process.argv.slice(2) : ['mask', 'sunglasses']) as Variant[];
  const s = studySetup();
  const folds = s.labels.map(identityFold);
  for (const v of variants) {
    const qs = queryScores(v);
    // table[wi][ai][qi] = [p1, map]
    const table = GRID.map((wm) => GRID.map((a) => qs.map((x) => outcome(x, s.labels, wm, a))));
    const stage1 = qs.map((x) => outcome(x, s.labels, 0.4, 0));
    const mean = (o: [number, number][], keep: (qi: number) => boolean) => {
      let p = 0;
      let m = 0;
      let n = 0;
      o.forEach((r, qi) => {
        if (!keep(qi)) return;
        p += r[0];
        m += r[1];
        n++;
      });
      return { p1: (100 * p) / n, map: (100 * m) / n, n };
    };
    const choose = (keep: (qi: number) => boolean, wms: readonly number[]) => {
      let best = { wi: 0, ai: 0, obj: -Infinity };
      for (const wi of wms)
        GRID.forEach((_, ai) => {
          const r = mean(table[wi][ai], keep);
          const obj = (r.p1 + r.map) / 2;
          if (obj > best.obj + 1e-9) best = { wi, ai, obj };
        });
      return best;
    };
    const all = GRID.map((_, i) => i);
    const shipped = [GRID.indexOf(0.4)];
    for (const [name, wms] of [
      ['shipped family (wm 0.4, alpha chosen)', shipped],
      ['split (wm and alpha chosen)', all],
    ] as const) {
      const acc = { p1: 0, map: 0, n: 0 };
      const picks: string[] = [];
      for (let f = 0; f < FOLDS; f++) {
        const b = choose((qi) => folds[qs[qi].q] !== f, wms);
        picks.push(`wm ${GRID[b.wi]} a ${GRID[b.ai]}`);
        const r = mean(table[b.wi][b.ai], (qi) => folds[qs[qi].q] === f);
        acc.p1 += r.p1 * r.n;
        acc.map += r.map * r.n;
        acc.n += r.n;
      }
      const s1 = mean(stage1, () => true);
      console.log(`${v} (${acc.n}) ${name}: stage 1 ${s1.p1.toFixed(2)} / ${s1.map.toFixed(2)} -> held out ${(acc.p1 / acc.n).toFixed(2)} / ${(acc.map / acc.n).toFixed(2)}  [${picks.join('; ')}]`);
    }
    const fit = choose(() => true, all);
    console.log(`  fitted on every query (what ships): wm ${GRID[fit.wi]} alpha ${GRID[fit.ai]}`);
    // The whole grid in sample, for reading.
    const line = (wi: number) => `wm ${GRID[wi].toFixed(1)}: ${GRID.map((_, ai) => mean(table[wi][ai], () => true).p1.toFixed(1)).join(' ')}`;
    console.log(`  in-sample P@1 by alpha 0..1:\n  ${all.map(line).join('\n  ')}`);
  }
}

main();

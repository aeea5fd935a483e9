/**
 * The pipeline study's tables: `npx tsx bench/study/analyse.ts [--variants none,mask]`.
 * Needs dump.ts and scores.ts run first (.cache/study). Prints stage 1 and
 * stage 2 (P@1 / MAP@R) per fusion weight w, EMD mix beta and alpha.
 */
import { FUSION_GRID } from './setup.ts';
import { loadVariantData, mean, runQuery, type VariantData } from './evalCore.ts';
import { VARIANTS, type Variant } from './shared.ts';

const arg = (n: string) => {
  const i = process.argv.indexOf(`--${n}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const variants = (arg('variants')?.split(',') ?? [...VARIANTS]) as Variant[];
const ALPHAS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
const f = (x: number) => x.toFixed(2);

for (const v of variants) {
  const d: VariantData = loadVariantData(v);
  console.log(`\n## ${v}: ${d.queries.length} queries`);
  for (const beta of [1, 0.5, 0]) {
    console.log(`\nbeta ${beta} (share of FaceRes s_emd); rows: w (MFN cosine weight); cells: stage-2 P@1 / MAP@R per alpha`);
    console.log(`| w | stage 1 | ${ALPHAS.map((a) => `a ${a}`).join(' | ')} |`);
    FUSION_GRID.forEach((w, wi) => {
      const cells = ALPHAS.map((a) => mean(d.queries.map((q) => runQuery(q, d.labels, { wi, beta, alpha: () => a }))));
      console.log(`| ${w} | ${f(cells[0].s1p1)} / ${f(cells[0].s1map)} | ${cells.map((c) => `${f(c.s2p1)} / ${f(c.s2map)}`).join(' | ')} |`);
    });
  }
}

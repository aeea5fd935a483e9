/**
 * Issue 17, damage-matched library search: how high do two *different*
 * people's scores run when both faces wear the same damage? A clean query
 * compared with a masked library face through the query drawn with the same
 * mask gets a masked-vs-masked score, and masks (or sunglasses) pull any two
 * faces together, so those scores sit higher than clean-vs-clean ones. This
 * script measures the impostor distribution of each pairing (none-none,
 * crop-crop, mask-mask, sunglasses-sunglasses) on the study dump, for the
 * default's stage-1 score (fused cosine, w 0.4) and stage-2 score (blended
 * with FaceRes's s_emd at that kind's alpha of the default). The app puts
 * every pairing's scores on one scale by subtracting the stage-1 mean
 * (src/models/damageMatched.ts); dividing by the sd as well (z-norm) and the
 * stage-2 blend were measured and lost on the group-photo study
 * (docs/RESULTS.md).
 *
 *   npx tsx bench/study/matchedCalibration.ts [--pairs 3000] [--folds]
 *
 * Needs .cache/study (dump.ts; --limit is fine: it only draws pairs). Prints
 * mean and sd per pairing and stage; --folds also prints them per
 * cross-validation fold (identities by FNV hash mod 5) to show how stable they are.
 */
import { seededRandom } from '../../src/core/random.ts';
import { DEFAULT_SETTINGS } from '../../src/core/types.ts';
import { CpuStage2Scorer } from '../../src/engine/stage2Batch.ts';
import { argValue } from '../browser.ts';
import { readVariant } from './features.ts';
import { fnv } from './napFit.ts';
import { apcBatch, faceSlice, studySetup } from './setup.ts';
import { VARIANTS, type Variant } from './shared.ts';

const W = 0.4;

function meanSd(xs: readonly number[]): { mean: number; sd: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
  return { mean, sd };
}

function main(): void {
  const argv = process.argv.slice(2);
  const pairs = Number(argValue(argv, 'pairs') ?? 3000);
  const s = studySetup();
  const rows = s.galleryRows;
  const scorer = new CpuStage2Scorer();
  const byDamage = DEFAULT_SETTINGS.adaptiveAlpha?.byDamage;
  if (!byDamage) throw new Error('the default has no alpha by damage');
  const out: Record<string, unknown> = {};
  for (const v of VARIANTS as readonly Variant[]) {
    const f = readVariant(v, rows);
    const random = seededRandom(11);
    const cosines: number[] = [];
    const blended: number[] = [];
    const fold: number[] = [];
    while (cosines.length < pairs) {
      const a = Math.floor(random() * rows.length);
      const b = Math.floor(random() * rows.length);
      if (s.labels[a] === s.labels[b]) continue;
      let cm = 0;
      for (let d = 0; d < 512; d++) cm += f.mf.emb[a * 512 + d] * f.mf.emb[b * 512 + d];
      let cr = 0;
      for (let d = 0; d < 1024; d++) cr += f.fr.emb[a * 1024 + d] * f.fr.emb[b * 1024 + d];
      const cos = W * cm + (1 - W) * cr;
      const q = faceSlice(f.fr, a);
      const { candidates, u, v: vw } = apcBatch(q, f.fr, [b]);
      const r = scorer.scoreBatch({ n: 49, c: 1024, query: q.grid, candidates, weights: { kind: 'given', u, v: vw }, sinkhorn: { ...DEFAULT_SETTINGS.sinkhorn } });
      const alpha = byDamage[v];
      cosines.push(cos);
      blended.push((1 - alpha) * cos + alpha * r.similarity[0]);
      fold.push(fnv(s.labels[a]) % 5);
    }
    const all = { stage1: meanSd(cosines), stage2: meanSd(blended), alpha: byDamage[v] };
    out[v] = all;
    console.log(
      `${v}-${v} impostors (${pairs} pairs, alpha ${byDamage[v]}): stage 1 mean ${all.stage1.mean.toFixed(4)} sd ${all.stage1.sd.toFixed(4)}; stage 2 mean ${all.stage2.mean.toFixed(4)} sd ${all.stage2.sd.toFixed(4)}`,
    );
    if (argv.includes('--folds'))
      for (let k = 0; k < 5; k++) {
        const c1 = meanSd(cosines.filter((_, i) => fold[i] === k));
        const c2 = meanSd(blended.filter((_, i) => fold[i] === k));
        console.log(`  fold ${k}: stage 1 ${c1.mean.toFixed(4)} / ${c1.sd.toFixed(4)}, stage 2 ${c2.mean.toFixed(4)} / ${c2.sd.toFixed(4)}`);
      }
  }
  console.log(JSON.stringify(out));
}

main();

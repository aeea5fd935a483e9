/**
 * s_emd of every candidate the study's stage-1 variants can put in a top 100:
 * `npx tsx bench/study/scores.ts --variant mask [--part 0/2]`. Writes
 * .cache/study/emd-{variant}-{part}.json. APC weights, reference Sinkhorn,
 * 7x7, both recognizers' maps, computed by the engine's own CPU scorer.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../src/core/types.ts';
import { CpuStage2Scorer } from '../../src/engine/stage2Batch.ts';
import { patchWeightsApc } from '../../src/engine/weights.ts';
import { readVariant, type ModelFeatures } from './features.ts';
import { cosineMatrix, FUSION_GRID, K, studySetup, topK } from './setup.ts';
import { STUDY_DIR, type Variant } from './shared.ts';

const arg = (n: string) => {
  const i = process.argv.indexOf(`--${n}`);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const variant = (arg('variant') ?? 'none') as Variant;
const [part, parts] = (arg('part') ?? '0/1').split('/').map(Number);
const limit = arg('limit') ? Number(arg('limit')) : undefined;

const s = studySetup();
let queries = s.queryPositions.filter((_, i) => i % parts === part);
if (limit) queries = queries.slice(0, limit);
const t0 = Date.now();
const gal = readVariant('none', s.galleryRows);
const qf =
  variant === 'none'
    ? null
    : readVariant(
        variant,
        queries.map((p) => s.galleryRows[p]),
      );
process.stderr.write(`loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
const scorer = new CpuStage2Scorer();
const sinkhorn = { ...DEFAULT_SETTINGS.sinkhorn };

function slice(m: ModelFeatures, i: number) {
  return { emb: m.emb.subarray(i * m.dim, (i + 1) * m.dim), grid: m.grid.subarray(i * 49 * m.c, (i + 1) * 49 * m.c), avg: m.avg.subarray(i * m.c, (i + 1) * m.c) };
}

function emd(gm: ModelFeatures, q: ReturnType<typeof slice>, cands: readonly number[]): number[] {
  const n = 49;
  const u = new Float32Array(cands.length * n);
  const v = new Float32Array(cands.length * n);
  const candidates = cands.map((g, p) => {
    const gs = slice(gm, g);
    u.set(patchWeightsApc(q.grid, n, gm.c, gs.avg), p * n);
    v.set(patchWeightsApc(gs.grid, n, gm.c, q.avg), p * n);
    return gs.grid;
  });
  return Array.from(scorer.scoreBatch({ n, c: gm.c, query: q.grid, candidates, weights: { kind: 'given', u, v }, sinkhorn }).similarity);
}

const out: { q: number; cand: number[]; fr: number[]; mf: number[] }[] = [];
queries.forEach((qp, qi) => {
  const qmf = qf ? slice(qf.mf, qi) : slice(gal.mf, qp);
  const qfr = qf ? slice(qf.fr, qi) : slice(gal.fr, qp);
  const cm = cosineMatrix(qmf.emb, gal.mf.emb, 512);
  const cr = cosineMatrix(qfr.emb, gal.fr.emb, 1024);
  const cand = new Set<number>();
  for (const w of FUSION_GRID) {
    const fused = Float32Array.from(cm, (x, j) => w * x + (1 - w) * cr[j]);
    for (const j of topK(fused, K, qp)) cand.add(j);
  }
  const list = [...cand];
  out.push({ q: qp, cand: list, fr: emd(gal.fr, qfr, list), mf: emd(gal.mf, qmf, list) });
  if (qi % 50 === 0) process.stderr.write(`\r${variant} ${part}/${parts}: ${qi}/${queries.length} (${list.length} candidates) ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
});
writeFileSync(join(STUDY_DIR, `emd-${variant}-${part}.json`), JSON.stringify(out));
process.stderr.write(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);

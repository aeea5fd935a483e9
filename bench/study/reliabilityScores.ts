/**
 * Issue 13: patch weights that know which of the query's patches are
 * occluded. APC weighs a patch by its correlation with the other face's
 * average patch; FaceRes's patches are post-ReLU6, so every correlation is
 * positive and APC barely separates a sunglasses patch from an eye.
 *
 * Reliability of patch p of a face: z_p = (cos(x_p, mu_p) - m_p) / s_p, where
 * mu_p is the unit mean of the gallery's unit patches at position p and m_p,
 * s_p the mean and spread of that cosine over the gallery's faces. A patch
 * far below its position's usual cosine (a lens where an eye should be) gets
 * weight APC x clamp(1 + z_p / t, 0, 1). Nothing is learnt from labels: the
 * statistics are the gallery's own, so the app can keep them as a running sum.
 *
 * `npx tsx bench/study/reliabilityScores.ts --variant sunglasses --part 0/2 [--every 8] [--t 2]`
 * reads the candidate lists of emd-{variant}-{part}.json (scores.ts) and
 * writes emdr-{variant}-{part}.json with FaceRes's s_emd (`fr`) recomputed
 * under the reliability weights (MobileFaceNet's copied), so
 * `STUDY_EMD=emdr npx tsx bench/study/analyse.ts` prints the tables. With
 * --every it scores a subset and prints a quick comparison instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../src/core/types.ts';
import { CpuStage2Scorer } from '../../src/engine/stage2Batch.ts';
import { patchWeightsApc } from '../../src/engine/weights.ts';
import { readVariant, type ModelFeatures } from './features.ts';
import { cosineMatrix, K, studySetup, topK } from './setup.ts';
import { STUDY_DIR, type Variant } from './shared.ts';

const N = 49;

export interface PositionStats {
  /** 49 x c unit mean patch per position. */
  readonly mean: Float32Array;
  readonly cosMean: Float64Array;
  readonly cosStd: Float64Array;
}

function dot(a: Float32Array, ao: number, b: Float32Array, bo: number, c: number): number {
  let s = 0;
  for (let i = 0; i < c; i++) s += a[ao + i] * b[bo + i];
  return s;
}

/** Per-position statistics of a set of unit patch grids (rows x 49 x c). */
export function positionStats(grids: Float32Array, c: number): PositionStats {
  const rows = grids.length / (N * c);
  const acc = new Float64Array(N * c);
  for (let r = 0; r < rows; r++) for (let i = 0; i < N * c; i++) acc[i] += grids[r * N * c + i];
  const mean = new Float32Array(N * c);
  for (let p = 0; p < N; p++) {
    let s = 0;
    for (let i = 0; i < c; i++) s += acc[p * c + i] ** 2;
    const inv = 1 / Math.sqrt(s);
    for (let i = 0; i < c; i++) mean[p * c + i] = acc[p * c + i] * inv;
  }
  const s1 = new Float64Array(N);
  const s2 = new Float64Array(N);
  for (let r = 0; r < rows; r++) {
    for (let p = 0; p < N; p++) {
      const x = dot(grids, (r * N + p) * c, mean, p * c, c);
      s1[p] += x;
      s2[p] += x * x;
    }
  }
  const cosMean = s1.map((x) => x / rows);
  const cosStd = s2.map((x, p) => Math.sqrt(Math.max(x / rows - cosMean[p] ** 2, 1e-12)));
  return { mean, cosMean, cosStd };
}

/** z-score of each patch's cosine with its position's mean patch. */
export function patchReliability(stats: PositionStats, grid: Float32Array, c: number): Float64Array {
  const z = new Float64Array(N);
  for (let p = 0; p < N; p++) z[p] = (dot(grid, p * c, stats.mean, p * c, c) - stats.cosMean[p]) / stats.cosStd[p];
  return z;
}

function slice(m: ModelFeatures, i: number) {
  return { emb: m.emb.subarray(i * m.dim, (i + 1) * m.dim), grid: m.grid.subarray(i * N * m.c, (i + 1) * N * m.c), avg: m.avg.subarray(i * m.c, (i + 1) * m.c) };
}

type Mode = 'apc' | 'rel' | 'relq' | 'relavg';

function reliabilityFactor(z: Float64Array, t: number): Float64Array {
  return z.map((x) => Math.min(1, Math.max(0, 1 + x / t)));
}

/** Unit average of the patches weighted by reliability (the APC partner without the occluded patches). */
function reliableAverage(grid: Float32Array, c: number, f: Float64Array): Float32Array {
  const out = new Float32Array(c);
  for (let p = 0; p < N; p++) for (let i = 0; i < c; i++) out[i] += f[p] * grid[p * c + i];
  let s = 0;
  for (const x of out) s += x * x;
  const inv = 1 / Math.sqrt(s || 1);
  return out.map((x) => x * inv);
}

function main(): void {
  const arg = (n: string) => {
    const i = process.argv.indexOf(`--${n}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const variant = (arg('variant') ?? 'none') as Variant;
  const part = Number((arg('part') ?? '0/1').split('/')[0]);
  const every = Number(arg('every') ?? 1);
  const t = Number(arg('t') ?? 2);
  const modes = (arg('modes') ?? (every > 1 ? 'apc,rel,relq,relavg' : 'rel')).split(',') as Mode[];
  const t0 = Date.now();
  const s = studySetup();
  const cached = (JSON.parse(readFileSync(join(STUDY_DIR, `emd-${variant}-${part}.json`), 'utf8')) as { q: number; cand: number[]; fr: number[]; mf: number[] }[]).filter((_, i) => i % every === 0);
  const gal = readVariant('none', s.galleryRows);
  const qf =
    variant === 'none'
      ? null
      : readVariant(
          variant,
          cached.map((r) => s.galleryRows[r.q]),
        );
  const c = gal.fr.c;
  const stats = positionStats(gal.fr.grid, c);
  const galZ = Array.from({ length: s.galleryRows.length }, (_, g) => patchReliability(stats, slice(gal.fr, g).grid, c));
  process.stderr.write(`loaded in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  const scorer = new CpuStage2Scorer();
  const sinkhorn = { ...DEFAULT_SETTINGS.sinkhorn };
  const scored: Record<Mode, number[][]> = { apc: [], rel: [], relq: [], relavg: [] };
  cached.forEach((r, qi) => {
    const q = qf ? slice(qf.fr, qi) : slice(gal.fr, r.q);
    const fq = reliabilityFactor(patchReliability(stats, q.grid, c), t);
    const qAvgRel = reliableAverage(q.grid, c, fq);
    const m = r.cand.length;
    const candidates = r.cand.map((g) => slice(gal.fr, g));
    for (const mode of modes) {
      const u = new Float32Array(m * N);
      const v = new Float32Array(m * N);
      candidates.forEach((gs, j) => {
        const fg = reliabilityFactor(galZ[r.cand[j]], t);
        const qAvg = mode === 'relavg' ? qAvgRel : q.avg;
        const gAvg = mode === 'relavg' ? reliableAverage(gs.grid, c, fg) : gs.avg;
        const uj = patchWeightsApc(q.grid, N, c, gAvg);
        const vj = patchWeightsApc(gs.grid, N, c, qAvg);
        if (mode !== 'apc') for (let p = 0; p < N; p++) uj[p] *= fq[p];
        if (mode === 'rel' || mode === 'relavg') for (let p = 0; p < N; p++) vj[p] *= fg[p];
        u.set(uj, j * N);
        v.set(vj, j * N);
      });
      const sim = scorer.scoreBatch({ n: N, c, query: q.grid, candidates: candidates.map((x) => x.grid), weights: { kind: 'given', u, v }, sinkhorn }).similarity;
      scored[mode].push(Array.from(sim));
    }
    if (qi % 20 === 0) process.stderr.write(`\r${variant} part ${part}: ${qi}/${cached.length} ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
  });
  process.stderr.write('\n');
  if (every === 1) {
    const mode = modes[0];
    writeFileSync(join(STUDY_DIR, `emdr-${variant}-${part}.json`), JSON.stringify(cached.map((r, i) => ({ q: r.q, cand: r.cand, fr: scored[mode][i], mf: r.mf }))));
    return;
  }
  // Quick comparison on the subset: fused stage 1 (w 0.4), then (1 - alpha) cos + alpha s_emd.
  const w = 0.4;
  const rows = cached.map((r, qi) => {
    const qm = qf ? slice(qf.mf, qi).emb : slice(gal.mf, r.q).emb;
    const qr = qf ? slice(qf.fr, qi).emb : slice(gal.fr, r.q).emb;
    const cm = cosineMatrix(qm, gal.mf.emb, 512);
    const cr = cosineMatrix(qr, gal.fr.emb, 1024);
    const fused = Float32Array.from(cm, (x, j) => w * x + (1 - w) * cr[j]);
    return { r, qi, fused, list: topK(fused, K, r.q) };
  });
  const report = (name: string, emdOf: (qi: number) => Map<number, number>) => {
    const cells = [0, 0.3, 0.5, 0.7, 1].map((a) => {
      let hit = 0;
      for (const { r, qi, fused, list } of rows) {
        const e = emdOf(qi);
        let best = -Infinity;
        let bestG = -1;
        for (const g of list) {
          const sc = a * (e.get(g) ?? NaN) + (1 - a) * fused[g];
          if (sc > best) {
            best = sc;
            bestG = g;
          }
        }
        if (s.labels[bestG] === s.labels[r.q]) hit++;
      }
      return `a${a}: ${((100 * hit) / rows.length).toFixed(2)}`;
    });
    process.stdout.write(`${variant} ${name.padEnd(8)} ${cells.join('  ')}\n`);
  };
  report('cached', (qi) => new Map(cached[qi].cand.map((g, j) => [g, cached[qi].fr[j]])));
  for (const mode of modes) report(mode, (qi) => new Map(cached[qi].cand.map((g, j) => [g, scored[mode][qi][j]])));
  process.stdout.write(`${rows.length} queries, t ${t}, ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}

if (process.argv[1]?.endsWith('reliabilityScores.ts')) main();

/**
 * Issue 13: once the damage detector says which part of the face is hidden,
 * does a stage 2 that looks only at the visible part re-rank better?
 *
 *   npx tsx bench/study/regionStage2.ts mask 3 0,1,2
 *   npx tsx bench/study/regionStage2.ts sunglasses 3 4,5,6
 *   npx tsx bench/study/regionStage2.ts --rows   # how much each patch changes under each generator
 *
 * Arguments: the query set, every n-th query of damageScores.ts's rows, and
 * the rows of FaceRes's 7x7 map taken as visible (mask: the upper three,
 * sunglasses: the lower three; docs/RESULTS.md shows how much each row of
 * the map changes under each generator). The kind is taken as known (the
 * detector is right on 99.8% of damaged queries). Compares, as stage-2
 * blends with the default's fused cosine: the shipped EMD; "emdV", the EMD
 * with the query's APC weights zeroed on the hidden rows (and the gallery's
 * APC partner the visible rows' mean); "cosV", the cosine of the visible
 * rows' mean unit patches; and sums of them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../src/core/types.ts';
import { mapAtR } from '../../src/engine/metrics.ts';
import { CpuStage2Scorer } from '../../src/engine/stage2Batch.ts';
import { patchWeightsApc } from '../../src/engine/weights.ts';
import type { DamageRow } from './damageScores.ts';
import { readVariant } from './features.ts';
import { K, studySetup } from './setup.ts';
import { STUDY_DIR, type Variant } from './shared.ts';
/** Mean cosine, per patch position, of an image's unit patch with and without the generator (every 25th gallery image). */
function rowChange(): void {
  const st = studySetup();
  const rows = st.galleryRows.filter((_, i) => i % 25 === 0);
  const clean = readVariant('none', rows);
  for (const v of ['crop', 'mask', 'sunglasses'] as const) {
    const d = readVariant(v, rows);
    const acc = new Float64Array(49);
    for (let r = 0; r < rows.length; r++)
      for (let p = 0; p < 49; p++) {
        let x = 0;
        const o = (r * 49 + p) * 1024;
        for (let i = 0; i < 1024; i++) x += clean.fr.grid[o + i] * d.fr.grid[o + i];
        acc[p] += x / rows.length;
      }
    console.log(v);
    for (let y = 0; y < 7; y++) console.log(Array.from(acc.subarray(y * 7, y * 7 + 7), (x) => x.toFixed(2)).join(' '));
  }
}
if (process.argv[2] === '--rows') {
  rowChange();
  process.exit(0);
}
const variant = process.argv[2] as Variant;
const every = Number(process.argv[3] ?? 3);
const rowsV = (process.argv[4] ?? '0,1,2').split(',').map(Number);
const N = 49,
  c = 1024;
const vis = new Set<number>();
for (const y of rowsV) for (let x = 0; x < 7; x++) vis.add(y * 7 + x);
const s = studySetup();
const dmg: DamageRow[] = [0, 1].flatMap((p) => JSON.parse(readFileSync(join(STUDY_DIR, `dmg-${variant}-${p}.json`), 'utf8')) as DamageRow[]);
dmg.sort((a, b) => a.q - b.q);
const rows = dmg.filter((_, i) => i % every === 0);
const gal = readVariant('none', s.galleryRows);
const qf = readVariant(
  variant,
  rows.map((r) => s.galleryRows[r.q]),
);
const scorer = new CpuStage2Scorer();
const pool = (grid: Float32Array, o: number) => {
  const v = new Float64Array(c);
  for (const p of vis) for (let j = 0; j < c; j++) v[j] += grid[o + p * c + j];
  let n = 0;
  for (const x of v) n += x * x;
  n = 1 / Math.sqrt(n);
  return v.map((x) => x * n);
};
type Acc = { p1: number; map: number };
const res = new Map<string, Acc>();
const add = (k: string, ranked: string[], label: string, R: number) => {
  const a = res.get(k) ?? { p1: 0, map: 0 };
  a.p1 += ranked[0] === label ? 1 : 0;
  a.map += mapAtR(ranked, label, R);
  res.set(k, a);
};
const t0 = Date.now();
rows.forEach((r, qi) => {
  const qg = qf.fr.grid.subarray(qi * N * c, (qi + 1) * N * c);
  const qpool = pool(qf.fr.grid, qi * N * c);
  const qpoolF = Float32Array.from(qpool);
  const top = r.list.slice(0, K);
  const u = new Float32Array(K * N),
    v = new Float32Array(K * N);
  const cands = top.map((g, p) => {
    const gg = gal.fr.grid.subarray(g * N * c, (g + 1) * N * c);
    const ga = gal.fr.avg.subarray(g * c, (g + 1) * c);
    const uu = patchWeightsApc(qg, N, c, ga);
    let su = 0;
    for (let i = 0; i < N; i++) {
      if (!vis.has(i)) uu[i] = 0;
      su += uu[i];
    }
    for (let i = 0; i < N; i++) u[p * N + i] = uu[i] / su;
    v.set(patchWeightsApc(gg, N, c, qpoolF), p * N);
    return gg;
  });
  const emdV = scorer.scoreBatch({ n: N, c, query: qg, candidates: cands, weights: { kind: 'given', u, v }, sinkhorn: { ...DEFAULT_SETTINGS.sinkhorn } }).similarity;
  const cosV = top.map((g) => {
    const gp = pool(gal.fr.grid, g * N * c);
    let d = 0;
    for (let j = 0; j < c; j++) d += gp[j] * qpool[j];
    return d;
  });
  const label = s.labels[r.q];
  const rest = r.list.slice(K).map((g) => s.labels[g]);
  const rank = (f: (i: number) => number) => {
    const o = top.map((g, i) => ({ i, s: f(i) }));
    o.sort((x, y) => y.s - x.s || x.i - y.i);
    return [...o.map((x) => s.labels[top[x.i]]), ...rest];
  };
  add(
    'stage1',
    rank((i) => r.cos[i]),
    label,
    r.R,
  );
  for (const a of [0.2, 0.3, 0.4])
    add(
      `emd a${a}`,
      rank((i) => a * r.emd[i] + (1 - a) * r.cos[i]),
      label,
      r.R,
    );
  for (const a of [0.2, 0.3, 0.4, 0.5])
    add(
      `emdV a${a}`,
      rank((i) => a * emdV[i] + (1 - a) * r.cos[i]),
      label,
      r.R,
    );
  for (const a of [0.2, 0.3])
    for (const b of [0.1, 0.2, 0.3])
      add(
        `emd a${a} + cosV b${b}`,
        rank((i) => a * r.emd[i] + b * cosV[i] + (1 - a - b) * r.cos[i]),
        label,
        r.R,
      );
  for (const a of [0.2, 0.3])
    for (const b of [0.1, 0.2, 0.3])
      add(
        `emdV a${a} + cosV b${b}`,
        rank((i) => a * emdV[i] + b * cosV[i] + (1 - a - b) * r.cos[i]),
        label,
        r.R,
      );
  for (const b of [0.2, 0.3, 0.4])
    add(
      `cosV b${b}`,
      rank((i) => b * cosV[i] + (1 - b) * r.cos[i]),
      label,
      r.R,
    );
  if (qi % 50 === 0) process.stderr.write(`\r${qi}/${rows.length} ${((Date.now() - t0) / 1000).toFixed(0)} s`);
});
console.log(`\n${variant} rows ${rowsV} n=${rows.length}`);
for (const [k, a] of res) console.log(`${k}: ${((100 * a.p1) / rows.length).toFixed(2)} / ${((100 * a.map) / rows.length).toFixed(2)}`);

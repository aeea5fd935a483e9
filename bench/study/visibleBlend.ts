/**
 * Issue 13, sunglasses: once stage 2 re-weighs the two cosines
 * (splitBlend.ts), does a third term that looks only at the part of the face
 * the damage leaves visible add held out? The term is the cosine of the mean
 * unit FaceRes patch over the visible rows of the 7x7 map (query and
 * candidate alike), "cosV". Stage 2 of a query then scores its top K by
 *
 *   (1 - alpha - beta) * (wm * cos_MobileFaceNet + (1 - wm) * cos_FaceRes) + alpha * s_emd + beta * cosV
 *
 * with wm, alpha, beta and the visible rows chosen on the training
 * identities of each fold (5-fold by identity, objective (P@1 + MAP@R) / 2)
 * and scored on the held-out fold. beta = 0 is the shipped family.
 *
 *   npx tsx bench/study/visibleBlend.ts sunglasses   (after damageScores.ts for that variant)
 *   npx tsx bench/study/visibleBlend.ts sunglasses --term mfn   (cosV from MobileFaceNet's visible part instead)
 */
import { mapAtR } from '../../src/engine/metrics.ts';
import { dotAt, loadDamageRows, mfnVisible, readVariant } from './features.ts';
import { K, studySetup } from './setup.ts';
import type { Variant } from './shared.ts';
import { identityFold } from './tables.ts';

const FOLDS = 5;
const WM = [0.4, 0.6, 0.8, 0.9, 1];
const STEP = 0.1;
const ROW_SETS: Record<string, readonly number[][]> = {
  sunglasses: [
    [4, 5, 6],
    [0, 4, 5, 6],
    [5, 6],
    [0, 5, 6],
  ],
  mask: [
    [0, 1, 2],
    [0, 1, 2, 3],
    [1, 2],
    [0, 1],
  ],
};
const C = 1024;
const N = 49;

/** Unit mean of the unit patches at the rows `rows` of each face of `variant` at dump rows `dumpRows`, read in chunks. */
function visibleMeans(variant: Variant, dumpRows: readonly number[], rowSets: readonly number[][]): Float32Array[] {
  const out = rowSets.map(() => new Float32Array(dumpRows.length * C));
  const chunk = 256;
  for (let start = 0; start < dumpRows.length; start += chunk) {
    const part = dumpRows.slice(start, start + chunk);
    const f = readVariant(variant, part).fr;
    rowSets.forEach((rows, si) => {
      for (let i = 0; i < part.length; i++) {
        const v = new Float64Array(C);
        for (const y of rows)
          for (let x = 0; x < 7; x++) {
            const o = (i * N + y * 7 + x) * C;
            for (let j = 0; j < C; j++) v[j] += f.grid[o + j];
          }
        let n = 0;
        for (const x of v) n += x * x;
        const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
        const dst = out[si].subarray((start + i) * C, (start + i + 1) * C);
        for (let j = 0; j < C; j++) dst[j] = v[j] * inv;
      }
    });
    process.stderr.write(`\r${variant} visible means ${Math.min(start + chunk, dumpRows.length)}/${dumpRows.length}   `);
  }
  process.stderr.write('\n');
  return out;
}

interface QueryScores {
  readonly q: number;
  readonly R: number;
  readonly list: number[];
  readonly cm: Float64Array;
  readonly cf: Float64Array;
  readonly emd: readonly number[];
  /** Per row set, cosV of each of the top K. */
  readonly cv: Float64Array[];
}

interface Setting {
  readonly set: number;
  readonly wm: number;
  readonly alpha: number;
  readonly beta: number;
}

function main(): void {
  const variant = (process.argv.slice(2).find((a) => !a.startsWith('--') && a !== 'mfn' && a !== 'faceres') ?? 'sunglasses') as Variant;
  const rowSets = ROW_SETS[variant];
  if (!rowSets) throw new Error(`no visible rows known for ${variant}: use sunglasses or mask`);
  const s = studySetup();
  const rows = loadDamageRows(variant);
  const gal = readVariant('none', s.galleryRows, false);
  const qf = readVariant(variant, s.galleryRows, false);
  const term = process.argv.includes('--term') ? process.argv[process.argv.indexOf('--term') + 1] : 'faceres';
  const vectors = term === 'mfn' ? mfnVisible : visibleMeans;
  const D = term === 'mfn' ? 512 : C;
  const galV = vectors('none', s.galleryRows, rowSets);
  const qRows = rows.map((r) => s.galleryRows[r.q]);
  const qV = vectors(variant, qRows, rowSets);
  const qs: QueryScores[] = rows.map((r, qi) => {
    const top = r.list.slice(0, K);
    return {
      q: r.q,
      R: r.R,
      list: r.list,
      emd: r.emd,
      cm: Float64Array.from(top, (g) => dotAt(qf.mf.emb, r.q * 512, gal.mf.emb, g * 512, 512)),
      cf: Float64Array.from(top, (g) => dotAt(qf.fr.emb, r.q * 1024, gal.fr.emb, g * 1024, 1024)),
      cv: rowSets.map((_, si) => Float64Array.from(top, (g) => dotAt(qV[si], qi * D, galV[si], g * D, D))),
    };
  });
  const labels = s.labels;
  const folds = qs.map((x) => identityFold(labels[x.q]));
  const settings: Setting[] = [];
  const steps = Math.round(1 / STEP);
  rowSets.forEach((_, set) => {
    for (const wm of WM)
      for (let a = 0; a <= steps; a++)
        for (let b = 0; a + b <= steps; b++) {
          if (b === 0 && set > 0) continue; // beta 0 does not depend on the rows
          settings.push({ set, wm, alpha: a * STEP, beta: b * STEP });
        }
  });
  // outcome[setting][query] = P@1 (0/1) and MAP@R
  const t0 = Date.now();
  const p1 = settings.map(() => new Uint8Array(qs.length));
  const map = settings.map(() => new Float32Array(qs.length));
  const order = Array.from({ length: K }, (_, i) => i);
  const score = new Float64Array(K);
  qs.forEach((x, qi) => {
    const label = labels[x.q];
    const rest = x.list.slice(K).map((g) => labels[g]);
    settings.forEach((st, si) => {
      const cv = x.cv[st.set];
      const g = 1 - st.alpha - st.beta;
      for (let i = 0; i < K; i++) score[i] = g * (st.wm * x.cm[i] + (1 - st.wm) * x.cf[i]) + st.alpha * x.emd[i] + st.beta * cv[i];
      order.sort((a, b) => score[b] - score[a] || a - b);
      const ranked = [...order.map((i) => labels[x.list[i]]), ...rest];
      p1[si][qi] = ranked[0] === label ? 1 : 0;
      map[si][qi] = mapAtR(ranked, label, x.R);
    });
    if (qi % 200 === 0) process.stderr.write(`\rscoring ${qi}/${qs.length} ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
  });
  process.stderr.write('\n');
  const mean = (si: number, keep: (qi: number) => boolean) => {
    let a = 0;
    let m = 0;
    let n = 0;
    for (let qi = 0; qi < qs.length; qi++)
      if (keep(qi)) {
        a += p1[si][qi];
        m += map[si][qi];
        n++;
      }
    return { p1: (100 * a) / n, map: (100 * m) / n, n };
  };
  const choose = (keep: (qi: number) => boolean, allowed: (st: Setting) => boolean) => {
    let best = -1;
    let obj = -Infinity;
    settings.forEach((st, si) => {
      if (!allowed(st)) return;
      const r = mean(si, keep);
      const o = (r.p1 + r.map) / 2;
      if (o > obj + 1e-9) {
        obj = o;
        best = si;
      }
    });
    return best;
  };
  const describe = (st: Setting) => `rows ${rowSets[st.set].join('')} wm ${st.wm} a ${st.alpha.toFixed(1)} b ${st.beta.toFixed(1)}`;
  const stage1 = settings.findIndex((st) => st.wm === 0.4 && st.alpha === 0 && st.beta === 0);
  const s1 = mean(stage1, () => true);
  console.log(`${variant}: ${qs.length} queries; stage 1 ${s1.p1.toFixed(2)} / ${s1.map.toFixed(2)}`);
  for (const [name, allowed] of [
    ['split, no cosV (shipped family)', (st: Setting) => st.beta === 0],
    ['split + cosV (rows chosen too)', () => true],
    ['cosV without the EMD (alpha 0)', (st: Setting) => st.alpha === 0],
    ...rowSets.map((r, set) => [`split + cosV rows ${r.join('')}`, (st: Setting) => st.beta === 0 || st.set === set] as const),
  ] as const) {
    let accP = 0;
    let accM = 0;
    let accN = 0;
    const picks: string[] = [];
    for (let f = 0; f < FOLDS; f++) {
      const si = choose((qi) => folds[qi] !== f, allowed);
      picks.push(describe(settings[si]));
      const r = mean(si, (qi) => folds[qi] === f);
      accP += r.p1 * r.n;
      accM += r.map * r.n;
      accN += r.n;
    }
    const fit = choose(() => true, allowed);
    const inSample = mean(fit, () => true);
    console.log(
      `${name}: held out ${(accP / accN).toFixed(2)} / ${(accM / accN).toFixed(2)} (Δ ${(accP / accN - s1.p1).toFixed(2)} / ${(accM / accN - s1.map).toFixed(2)})  [${picks.join('; ')}]  fitted on all: ${describe(settings[fit])} ${inSample.p1.toFixed(2)} / ${inSample.map.toFixed(2)}`,
    );
  }
}

main();

/**
 * Issue 13, alpha per query from a damage detector: cross-validates the
 * detector (src/engine/damageDetector.ts) and the alpha each detected kind
 * gets, 5 folds by identity, and reports the held-out folds; `--fit`
 * trains on all of lfw-dev and writes the shipped model.
 *
 *   npx tsx bench/study/damageScores.ts --variant V --part 0/2   (and 1/2, each V)
 *   npx tsx bench/study/damagePolicy.ts            # held-out report
 *   npx tsx bench/study/damagePolicy.ts --fit      # writes src/models/damage/faceres-damage.bin
 *
 * Per fold: class means from the training identities' faces of each kind
 * (the dump's none / crop / mask / sunglasses versions of every gallery
 * image), features by the app's own damageFeatures, a softmax regression
 * (Adam, L2 1e-3) on them; then, on the training identities' queries, the
 * alpha of each detected kind (grid 0..1 by 0.1) that maximises the mean
 * over the four sets of (stage-2 P@1 + MAP@R) / 2, subject to the
 * in-distribution bar (none: stage-2 P@1 >= stage 1, MAP@R >= stage 1 - 0.1).
 * Stage 1 is the default's fused cosine (w 0.4); s_emd is FaceRes's
 * (damageScores.ts), so stage 2 is exactly what the app computes.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { mapAtR } from '../../src/engine/metrics.ts';
import { classifyFeatures, DAMAGE_CLASSES, damageFeatures, featureCount, type DamageDetectorModel } from '../../src/engine/damageDetector.ts';
import { serialiseDamageDetector } from './damageDetectorFile.ts';
import { REPO_ROOT } from '../../tests/unit/face/helpers/data.ts';
import type { DamageRow } from './damageScores.ts';
import { K, studySetup } from './setup.ts';
import { DIMS, RECORD_FLOATS, STUDY_DIR, VARIANTS, type Variant } from './shared.ts';
import { identityFold } from './tables.ts';

const N = 49;
const C = 1024;
const FOLDS = 5;
const ALPHAS = [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1];
export const MODEL_PATH = join(REPO_ROOT, 'src/models/damage/faceres-damage.bin');
const FR_MAP_OFFSET = DIMS.mfEmb + DIMS.mfPatch + DIMS.frEmb;

/** Raw FaceRes maps of the gallery rows, one array per variant. */
function readMaps(rows: readonly number[]): Float32Array[] {
  return VARIANTS.map((v) => {
    const fd = openSync(join(STUDY_DIR, `${v}.f32`), 'r');
    const out = new Float32Array(rows.length * N * C);
    rows.forEach((row, i) => readSync(fd, new Uint8Array(out.buffer, i * N * C * 4, N * C * 4), 0, N * C * 4, (row * RECORD_FLOATS + FR_MAP_OFFSET) * 4));
    closeSync(fd);
    process.stderr.write(`read ${v}\n`);
    return out;
  });
}

/** Unit mean of the unit patches at each position, per class, over the images `use`. */
function classMeans(maps: readonly Float32Array[], use: readonly number[]): Float32Array {
  const out = new Float32Array(DAMAGE_CLASSES.length * N * C);
  maps.forEach((m, k) => {
    const acc = new Float64Array(N * C);
    for (const i of use) {
      for (let p = 0; p < N; p++) {
        const o = (i * N + p) * C;
        let s = 0;
        for (let j = 0; j < C; j++) s += m[o + j] ** 2;
        const inv = s > 0 ? 1 / Math.sqrt(s) : 0;
        for (let j = 0; j < C; j++) acc[p * C + j] += m[o + j] * inv;
      }
    }
    for (let p = 0; p < N; p++) {
      let s = 0;
      for (let j = 0; j < C; j++) s += acc[p * C + j] ** 2;
      const inv = 1 / Math.sqrt(s);
      for (let j = 0; j < C; j++) out[(k * N + p) * C + j] = acc[p * C + j] * inv;
    }
  });
  return out;
}

/** Softmax regression on standardised features (Adam, full batch). */
function fitSoftmax(X: readonly Float64Array[], y: readonly number[], epochs = 300, l2 = 1e-3): Pick<DamageDetectorModel, 'featureMean' | 'featureScale' | 'weights'> {
  const D = X[0].length;
  const Kc = DAMAGE_CLASSES.length;
  const featureMean = new Float64Array(D);
  const featureScale = new Float64Array(D);
  for (const x of X) for (let j = 0; j < D; j++) featureMean[j] += x[j] / X.length;
  for (const x of X) for (let j = 0; j < D; j++) featureScale[j] += (x[j] - featureMean[j]) ** 2 / X.length;
  for (let j = 0; j < D; j++) featureScale[j] = Math.sqrt(featureScale[j]) || 1;
  const Z = X.map((x) => Float64Array.from(x, (v, j) => (v - featureMean[j]) / featureScale[j]));
  const W = new Float64Array(Kc * (D + 1));
  const m = new Float64Array(W.length);
  const v = new Float64Array(W.length);
  const g = new Float64Array(W.length);
  const z = new Float64Array(Kc);
  for (let e = 1; e <= epochs; e++) {
    g.fill(0);
    Z.forEach((x, r) => {
      for (let k = 0; k < Kc; k++) {
        let t = W[k * (D + 1) + D];
        for (let j = 0; j < D; j++) t += W[k * (D + 1) + j] * x[j];
        z[k] = t;
      }
      const top = Math.max(...z);
      let s = 0;
      for (let k = 0; k < Kc; k++) s += z[k] = Math.exp(z[k] - top);
      for (let k = 0; k < Kc; k++) {
        const gk = z[k] / s - (k === y[r] ? 1 : 0);
        for (let j = 0; j < D; j++) g[k * (D + 1) + j] += gk * x[j];
        g[k * (D + 1) + D] += gk;
      }
    });
    for (let t = 0; t < W.length; t++) {
      const gt = g[t] / Z.length + (t % (D + 1) < D ? l2 * W[t] : 0);
      m[t] = 0.9 * m[t] + 0.1 * gt;
      v[t] = 0.999 * v[t] + 0.001 * gt * gt;
      W[t] -= (0.05 * m[t]) / (1 - 0.9 ** e) / (Math.sqrt(v[t] / (1 - 0.999 ** e)) + 1e-8);
    }
  }
  return { featureMean, featureScale, weights: W };
}

function trainDetector(maps: readonly Float32Array[], use: readonly number[], source: string): DamageDetectorModel {
  const means = classMeans(maps, use);
  const base = {
    positions: N,
    channels: C,
    classMeans: means,
    featureMean: new Float64Array(featureCount(N)),
    featureScale: new Float64Array(featureCount(N)).fill(1),
    weights: new Float64Array(0),
    source,
  };
  const X: Float64Array[] = [];
  const y: number[] = [];
  maps.forEach((m, k) => {
    for (const i of use) {
      X.push(damageFeatures(base, { h: 7, w: 7, c: C, data: m.subarray(i * N * C, (i + 1) * N * C) }));
      y.push(k);
    }
  });
  return { ...base, ...fitSoftmax(X, y) };
}

function loadRows(variant: Variant): Map<number, DamageRow> {
  const out = new Map<number, DamageRow>();
  for (let part = 0; existsSync(join(STUDY_DIR, `dmg-${variant}-${part}.json`)); part++)
    for (const r of JSON.parse(readFileSync(join(STUDY_DIR, `dmg-${variant}-${part}.json`), 'utf8')) as DamageRow[]) out.set(r.q, r);
  if (out.size === 0) throw new Error(`no .cache/study/dmg-${variant}-*.json: run bench/study/damageScores.ts --variant ${variant} first`);
  return out;
}

/** Per query and alpha: stage-2 [P@1, MAP@R] (0/1 and fraction); stage 1 at alpha 0 of the list itself. */
interface Outcomes {
  readonly q: number[];
  readonly s1: Float64Array; // n x 2
  readonly s2: Float64Array; // n x ALPHAS x 2
}

function outcomes(rows: Map<number, DamageRow>, labels: readonly string[], queries: readonly number[]): Outcomes {
  const s1 = new Float64Array(queries.length * 2);
  const s2 = new Float64Array(queries.length * ALPHAS.length * 2);
  queries.forEach((qp, qi) => {
    const r = rows.get(qp);
    if (!r) throw new Error(`query ${qp} has no s_emd row: re-run damageScores.ts`);
    const label = labels[qp];
    const s1l = r.list.map((g) => labels[g]);
    s1[qi * 2] = s1l[0] === label ? 1 : 0;
    s1[qi * 2 + 1] = mapAtR(s1l, label, r.R);
    ALPHAS.forEach((a, ai) => {
      const order = r.cos.map((cs, i) => ({ i, s: a * r.emd[i] + (1 - a) * cs }));
      order.sort((x, y) => y.s - x.s || x.i - y.i);
      const ranked = [...order.map((o) => labels[r.list[o.i]]), ...r.list.slice(K).map((g) => labels[g])];
      s2[(qi * ALPHAS.length + ai) * 2] = ranked[0] === label ? 1 : 0;
      s2[(qi * ALPHAS.length + ai) * 2 + 1] = mapAtR(ranked, label, r.R);
    });
  });
  return { q: [...queries], s1, s2 };
}

interface SetScore {
  s1p1: number;
  s1map: number;
  s2p1: number;
  s2map: number;
  n: number;
}

/** Scores of one set under per-class alphas, over the queries `keep` accepts. */
function scoreSet(o: Outcomes, predicted: readonly number[], alphaIndex: readonly number[], keep: (qi: number) => boolean): SetScore {
  const r = { s1p1: 0, s1map: 0, s2p1: 0, s2map: 0, n: 0 };
  o.q.forEach((_, qi) => {
    if (!keep(qi)) return;
    const ai = alphaIndex[predicted[qi]];
    r.s1p1 += o.s1[qi * 2];
    r.s1map += o.s1[qi * 2 + 1];
    r.s2p1 += o.s2[(qi * ALPHAS.length + ai) * 2];
    r.s2map += o.s2[(qi * ALPHAS.length + ai) * 2 + 1];
    r.n++;
  });
  const k = 100 / Math.max(r.n, 1);
  return { s1p1: r.s1p1 * k, s1map: r.s1map * k, s2p1: r.s2p1 * k, s2map: r.s2map * k, n: r.n };
}

/** Alpha index per class maximising the objective under the in-distribution bar (coordinate ascent). */
function chooseAlphas(sets: readonly Outcomes[], predicted: readonly (readonly number[])[], keep: (set: number, qi: number) => boolean): number[] {
  const alphaIndex = [0, 0, 0, 0];
  const objective = (ai: readonly number[]) => {
    const scores = sets.map((o, s) => scoreSet(o, predicted[s], ai, (qi) => keep(s, qi)));
    const none = scores[0];
    if (none.s2p1 < none.s1p1 - 1e-9 || none.s2map < none.s1map - 0.1) return -Infinity;
    return scores.reduce((t, x) => t + (x.s2p1 + x.s2map) / 2, 0) / scores.length;
  };
  for (let pass = 0; pass < 3; pass++)
    for (let k = 0; k < alphaIndex.length; k++) {
      let best = alphaIndex[k];
      let bestObj = objective(alphaIndex);
      for (let ai = 0; ai < ALPHAS.length; ai++) {
        const trial = alphaIndex.map((x, j) => (j === k ? ai : x));
        const obj = objective(trial);
        if (obj > bestObj + 1e-9) {
          bestObj = obj;
          best = ai;
        }
      }
      alphaIndex[k] = best;
    }
  return alphaIndex;
}

const fmt = (a: number, b: number) => `${a.toFixed(2)} / ${b.toFixed(2)}`;

function main(): void {
  const fit = process.argv.includes('--fit');
  const s = studySetup();
  const folds = s.labels.map(identityFold);
  const maps = readMaps(s.galleryRows);
  const all = s.labels.map((_, i) => i);
  const sets = VARIANTS.map((v) => outcomes(loadRows(v), s.labels, s.queryPositions));
  const classOf = (model: DamageDetectorModel, v: number, i: number) =>
    DAMAGE_CLASSES.indexOf(classifyFeatures(model, damageFeatures(model, { h: 7, w: 7, c: C, data: maps[v].subarray(i * N * C, (i + 1) * N * C) })).kind);
  if (fit) {
    const model = trainDetector(maps, all, 'bench/study/damagePolicy.ts --fit on lfw-dev (all 5,021 gallery images x none / crop / mask / sunglasses)');
    const predicted = sets.map((_, v) => s.queryPositions.map((qp) => classOf(model, v, qp)));
    const alphaIndex = chooseAlphas(sets, predicted, () => true);
    mkdirSync(dirname(MODEL_PATH), { recursive: true });
    writeFileSync(MODEL_PATH, serialiseDamageDetector(model));
    console.log(`wrote ${MODEL_PATH}; alphas (fitted on all lfw-dev): ${DAMAGE_CLASSES.map((c, k) => `${c} ${ALPHAS[alphaIndex[k]]}`).join(', ')}`);
    sets.forEach((o, v) => {
      const r = scoreSet(o, predicted[v], alphaIndex, () => true);
      console.log(`${VARIANTS[v]} (in-sample): ${fmt(r.s1p1, r.s1map)} -> ${fmt(r.s2p1, r.s2map)}`);
    });
    return;
  }
  // Held-out detector predictions for every query of every set.
  const predicted = sets.map((o) => new Array<number>(o.q.length).fill(-1));
  const confusion = VARIANTS.map(() => new Array<number>(DAMAGE_CLASSES.length).fill(0));
  for (let f = 0; f < FOLDS; f++) {
    const t0 = Date.now();
    const model = trainDetector(
      maps,
      all.filter((i) => folds[i] !== f),
      `fold ${f}`,
    );
    for (let v = 0; v < VARIANTS.length; v++)
      for (const i of all) {
        if (folds[i] !== f) continue;
        const k = classOf(model, v, i);
        confusion[v][k]++;
        const qi = sets[v].q.indexOf(i);
        if (qi >= 0) predicted[v][qi] = k;
      }
    process.stderr.write(`fold ${f} detector in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  }
  console.log('\nDetector, held-out identities (rows: true kind; columns: detected none / crop / mask / sunglasses), all gallery images:');
  VARIANTS.forEach((v, i) => console.log(`| ${v} | ${confusion[i].join(' | ')} |`));
  const qFold = s.queryPositions.map((qp) => folds[qp]);
  const heldOut = VARIANTS.map(() => ({ s1p1: 0, s1map: 0, s2p1: 0, s2map: 0, n: 0 }));
  const oracle = VARIANTS.map(() => ({ s1p1: 0, s1map: 0, s2p1: 0, s2map: 0, n: 0 }));
  const truth = sets.map((o, v) => o.q.map(() => v));
  for (let f = 0; f < FOLDS; f++) {
    const alphaIndex = chooseAlphas(sets, predicted, (_, qi) => qFold[qi] !== f);
    const oracleIndex = chooseAlphas(sets, truth, (_, qi) => qFold[qi] !== f);
    console.log(`fold ${f}: alphas ${DAMAGE_CLASSES.map((c, k) => `${c} ${ALPHAS[alphaIndex[k]]}`).join(', ')} (true kinds: ${oracleIndex.map((a) => ALPHAS[a]).join(', ')})`);
    sets.forEach((o, v) => {
      for (const [acc, pred, ai] of [
        [heldOut, predicted, alphaIndex],
        [oracle, truth, oracleIndex],
      ] as const) {
        const r = scoreSet(o, pred[v], ai, (qi) => qFold[qi] === f);
        const a = acc[v];
        a.s1p1 += r.s1p1 * r.n;
        a.s1map += r.s1map * r.n;
        a.s2p1 += r.s2p1 * r.n;
        a.s2map += r.s2map * r.n;
        a.n += r.n;
      }
    });
  }
  console.log('\n| queries | n | stage 1 | stage 2, detector (held out) | Δ | stage 2, true kind known (held out) |');
  console.log('|---|---|---|---|---|---|');
  VARIANTS.forEach((v, i) => {
    const a = heldOut[i];
    const o = oracle[i];
    const d = (x: number) => x / a.n;
    console.log(
      `| ${v} | ${a.n} | ${fmt(d(a.s1p1), d(a.s1map))} | ${fmt(d(a.s2p1), d(a.s2map))} | ${(d(a.s2p1) - d(a.s1p1)).toFixed(2)} / ${(d(a.s2map) - d(a.s1map)).toFixed(2)} | ${fmt(o.s2p1 / o.n, o.s2map / o.n)} |`,
    );
  });
}

main();

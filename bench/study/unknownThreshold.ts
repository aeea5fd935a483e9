/**
 * The "unknown person" threshold (issue 15, item 10): the stage-1 top-1 score
 * below which the top-1 is more often wrong than right on lfw-dev, chosen by
 * 5-fold cross-validation by identity. `npx tsx bench/study/unknownThreshold.ts [--fresh]`.
 *
 * Reads the study's caches only (.cache/study: meta.json, the embeddings of
 * {variant}.f32, emd-{variant}-*.json); no feature is recomputed. Every
 * gallery image queries all the others (leave-one-out). An image whose
 * identity has no other gallery image is a stranger: its top-1 is wrong
 * whatever the score, which is the case the threshold exists for. A query
 * counts as correct when the top-1 the app presents (after stage 2) has its
 * identity. Per-query outcomes are cached in .cache/study/unknown-{variant}.json
 * (`--fresh` recomputes them: about a minute of CPU per variant).
 */
import { closeSync, existsSync, openSync, readFileSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS, type AdaptiveAlpha } from '../../src/core/types.ts';
import { unitEmbedding } from '../../src/engine/vectors.ts';
import { FUSED_PIPELINES } from '../../src/models/pipelines.ts';
import { PAPER_SETTINGS } from '../../src/models/presets.ts';
import { unknownPersonThresholds } from '../../src/models/unknownPerson.ts';
import { readMeta } from './features.ts';
import { DIMS, RECORD_FLOATS, STUDY_DIR, VARIANTS, type Variant } from './shared.ts';
import { identityFold } from './tables.ts';
import { topK } from './setup.ts';

const FOLDS = 5;
/** Bumped when the cached per-query outcomes would change meaning. */
const CACHE_VERSION = 1;

/** The app's own values, so the study follows any retuning of them. */
function appRules(): { mfWeight: number; adaptive: AdaptiveAlpha; paperAlpha: number } {
  const fused = FUSED_PIPELINES.find((p) => p.id === 'mfn-faceres');
  const adaptive = DEFAULT_SETTINGS.adaptiveAlpha;
  const paperAlpha = PAPER_SETTINGS.alpha;
  if (!fused || !adaptive || typeof paperAlpha !== 'number') throw new Error('the default pipeline, its adaptive alpha or the paper alpha changed shape: update this script');
  // MobileFaceNet is the fused pipeline's secondary: its weight is the secondary's.
  return { mfWeight: fused.secondaryWeight, adaptive, paperAlpha };
}
const RULES = appRules();

type RecognizerKey = 'mfn-faceres' | 'mobilefacenet-arcface';
const RECOGNIZERS: readonly RecognizerKey[] = ['mfn-faceres', 'mobilefacenet-arcface'];

interface Outcome {
  /** Stage-1 top-1 cosine: the signal. */
  readonly top1: number;
  readonly s1Correct: boolean;
  readonly finalCorrect: boolean;
  /** Score of the presented top-1 after stage 2; null where s_emd was never computed (strangers re-ranked). */
  readonly finalScore: number | null;
}

interface QueryRecord {
  readonly identity: string;
  readonly stranger: boolean;
  readonly out: Record<RecognizerKey, Outcome>;
}

interface Sample {
  readonly score: number;
  readonly correct: boolean;
  readonly stranger: boolean;
  readonly fold: number;
}

function arg(flag: string): boolean {
  return process.argv.includes(`--${flag}`);
}

/** Unit embeddings only: two positioned reads per record instead of its 300 KB of patch maps. */
function readEmbeddings(variant: Variant, rows: readonly number[]): { mf: Float32Array; fr: Float32Array } {
  const fd = openSync(join(STUDY_DIR, `${variant}.f32`), 'r');
  const mf = new Float32Array(rows.length * DIMS.mfEmb);
  const fr = new Float32Array(rows.length * DIMS.frEmb);
  const bufMf = new Float32Array(DIMS.mfEmb);
  const bufFr = new Float32Array(DIMS.frEmb);
  try {
    rows.forEach((row, i) => {
      const base = row * RECORD_FLOATS * 4;
      readSync(fd, new Uint8Array(bufMf.buffer), 0, bufMf.byteLength, base);
      readSync(fd, new Uint8Array(bufFr.buffer), 0, bufFr.byteLength, base + (DIMS.mfEmb + DIMS.mfPatch) * 4);
      mf.set(unitEmbedding(bufMf, `${variant} row ${row} MobileFaceNet`), i * DIMS.mfEmb);
      fr.set(unitEmbedding(bufFr, `${variant} row ${row} FaceRes`), i * DIMS.frEmb);
    });
  } finally {
    closeSync(fd);
  }
  return { mf, fr };
}

/** s_emd per (query position, candidate position), for FaceRes's map and MobileFaceNet's. */
function readEmd(variant: Variant): Map<number, { fr: Map<number, number>; mf: Map<number, number> }> {
  const out = new Map<number, { fr: Map<number, number>; mf: Map<number, number> }>();
  for (let part = 0; existsSync(join(STUDY_DIR, `emd-${variant}-${part}.json`)); part++) {
    const rows = JSON.parse(readFileSync(join(STUDY_DIR, `emd-${variant}-${part}.json`), 'utf8')) as { q: number; cand: number[]; fr: number[]; mf: number[] }[];
    for (const r of rows) out.set(r.q, { fr: new Map(r.cand.map((g, j) => [g, r.fr[j]])), mf: new Map(r.cand.map((g, j) => [g, r.mf[j]])) });
  }
  return out;
}

function dots(q: Float32Array, qOff: number, g: Float32Array, dim: number, out: Float32Array): void {
  const rows = out.length;
  for (let j = 0; j < rows; j++) {
    const go = j * dim;
    let s0 = 0,
      s1 = 0,
      s2 = 0,
      s3 = 0;
    for (let d = 0; d < dim; d += 4) {
      s0 += q[qOff + d] * g[go + d];
      s1 += q[qOff + d + 1] * g[go + d + 1];
      s2 += q[qOff + d + 2] * g[go + d + 2];
      s3 += q[qOff + d + 3] * g[go + d + 3];
    }
    out[j] = s0 + s1 + s2 + s3;
  }
}

/**
 * The presented top-1 after stage 2, as the engine ranks: the stage-1 top k
 * re-sorted by alpha * s_emd + (1 - alpha) * cos, stage-1 order breaking ties.
 */
function presented(list: readonly number[], cos: Float32Array, alpha: number, emd: Map<number, number> | undefined): { g: number; score: number | null } {
  if (alpha === 0) return { g: list[0], score: cos[list[0]] };
  if (!emd) return { g: -1, score: null };
  let best = { g: -1, score: -Infinity };
  for (const g of list.slice(0, DEFAULT_SETTINGS.k)) {
    const e = emd.get(g);
    if (e === undefined) throw new Error(`no s_emd cached for candidate ${g}: rerun bench/study/scores.ts`);
    const s = alpha * e + (1 - alpha) * cos[g];
    if (s > best.score) best = { g, score: s };
  }
  return best;
}

function computeVariant(variant: Variant): QueryRecord[] {
  const meta = readMeta();
  const rows: number[] = [];
  meta.images.forEach((m, i) => {
    if (m.ok && !m.refused) rows.push(i);
  });
  const labels = rows.map((r) => meta.images[r].identity);
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const gal = readEmbeddings('none', rows);
  const qry = variant === 'none' ? gal : readEmbeddings(variant, rows);
  const emd = readEmd(variant);
  const G = rows.length;
  const cm = new Float32Array(G);
  const cr = new Float32Array(G);
  const fused = new Float32Array(G);
  const t0 = Date.now();
  const records: QueryRecord[] = [];
  for (let p = 0; p < G; p++) {
    dots(qry.mf, p * DIMS.mfEmb, gal.mf, DIMS.mfEmb, cm);
    dots(qry.fr, p * DIMS.frEmb, gal.fr, DIMS.frEmb, cr);
    for (let j = 0; j < G; j++) fused[j] = RULES.mfWeight * cm[j] + (1 - RULES.mfWeight) * cr[j];
    const identity = labels[p];
    const stranger = (counts.get(identity) ?? 0) < 2;
    const e = emd.get(p);
    if (!stranger && !e) throw new Error(`${variant}: no s_emd cached for query ${p}`);
    const outcome = (scores: Float32Array, alpha: number, emdOf: Map<number, number> | undefined): Outcome => {
      // Strangers need only their top-1 (always wrong); others may be re-ranked over the top k.
      const list = topK(scores, stranger ? 1 : DEFAULT_SETTINGS.k, p);
      const top = presented(list, scores, alpha, emdOf);
      return { top1: scores[list[0]], s1Correct: labels[list[0]] === identity, finalCorrect: top.g >= 0 && labels[top.g] === identity, finalScore: top.score };
    };
    const alphaFused = fused[argmaxSkipping(fused, p)] >= RULES.adaptive.threshold ? RULES.adaptive.clean : RULES.adaptive.damaged;
    records.push({
      identity,
      stranger,
      out: { 'mfn-faceres': outcome(fused, alphaFused, e?.fr), 'mobilefacenet-arcface': outcome(cm, RULES.paperAlpha, e?.mf) },
    });
    if (p % 500 === 0) process.stderr.write(`\r${variant}: ${p}/${G} ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
  }
  process.stderr.write(`\r${variant}: ${G} queries in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
  return records;
}

function argmaxSkipping(a: Float32Array, skip: number): number {
  let best = -1;
  for (let j = 0; j < a.length; j++) if (j !== skip && (best < 0 || a[j] > a[best])) best = j;
  return best;
}

function loadVariant(variant: Variant): QueryRecord[] {
  const path = join(STUDY_DIR, `unknown-${variant}.json`);
  // The outcomes depend on the app's rules: a retuned weight or alpha invalidates them.
  const key = JSON.stringify({ version: CACHE_VERSION, rules: RULES, k: DEFAULT_SETTINGS.k });
  if (!arg('fresh') && existsSync(path)) {
    const cached = JSON.parse(readFileSync(path, 'utf8')) as { key: string; records: QueryRecord[] };
    if (cached.key === key) return cached.records;
  }
  const records = computeVariant(variant);
  writeFileSync(path, JSON.stringify({ key, records }));
  return records;
}

function samples(records: readonly QueryRecord[], key: RecognizerKey): Sample[] {
  return records.map((r) => ({ score: r.out[key].top1, correct: r.out[key].finalCorrect, stranger: r.stranger, fold: identityFold(r.identity) }));
}

/**
 * T maximising (correct at or above T) + (wrong below T) on a 0.001 grid:
 * where that count peaks, local accuracy crosses 50%. Of a plateau of equal
 * counts the middle maximiser is taken, so T does not sit on one query's score.
 */
function fitThreshold(xs: readonly Sample[]): number {
  const correct = Float64Array.from(
    xs.filter((x) => x.correct),
    (x) => x.score,
  ).sort();
  const wrong = Float64Array.from(
    xs.filter((x) => !x.correct),
    (x) => x.score,
  ).sort();
  let best = -Infinity;
  let arg: number[] = [];
  for (let i = 0; i <= 1000; i++) {
    const t = i / 1000;
    const v = correct.length - below(correct, t) + below(wrong, t);
    if (v > best) {
      best = v;
      arg = [t];
    } else if (v === best) arg.push(t);
  }
  return arg[Math.floor((arg.length - 1) / 2)];
}

/** How many of the sorted values are < t. */
function below(sorted: Float64Array, t: number): number {
  let lo = 0,
    hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

interface Rates {
  n: number;
  strangers: number;
  strangersFlagged: number;
  correct: number;
  correctFlagged: number;
  wrong: number;
  wrongFlagged: number;
  /** Wrong top-1s of queries that do have a match in the gallery. */
  misidentified: number;
  misidentifiedFlagged: number;
}

function emptyRates(): Rates {
  return { n: 0, strangers: 0, strangersFlagged: 0, correct: 0, correctFlagged: 0, wrong: 0, wrongFlagged: 0, misidentified: 0, misidentifiedFlagged: 0 };
}

function addRates(r: Rates, x: Sample, t: number): void {
  const flagged = x.score < t ? 1 : 0;
  r.n++;
  if (x.stranger) {
    r.strangers++;
    r.strangersFlagged += flagged;
  }
  if (x.correct) {
    r.correct++;
    r.correctFlagged += flagged;
  } else {
    r.wrong++;
    r.wrongFlagged += flagged;
    if (!x.stranger) {
      r.misidentified++;
      r.misidentifiedFlagged += flagged;
    }
  }
}

const pct = (k: number, n: number) => (n > 0 ? ((100 * k) / n).toFixed(1) : '-');

function ratesRow(label: string, r: Rates): string {
  return `| ${label} | ${r.n} | ${pct(r.strangersFlagged, r.strangers)}% of ${r.strangers} | ${pct(r.correctFlagged, r.correct)}% of ${r.correct} (${r.correctFlagged}) | ${pct(r.wrongFlagged, r.wrong)}% of ${r.wrong} | ${pct(r.misidentifiedFlagged, r.misidentified)}% of ${r.misidentified} |`;
}

const RATES_HEAD = '| queries | n | strangers flagged | correct top-1s flagged | wrong top-1s flagged | misidentified (has a match) flagged |\n|---|---|---|---|---|---|';

/** Held out: each fold's queries judged by the T fitted on the other four folds of `fitOn`. */
function crossValidate(fitOn: readonly Sample[], judged: readonly Sample[]): { ts: number[]; rates: Rates } {
  const ts = foldThresholds(fitOn);
  const rates = emptyRates();
  for (const x of judged) addRates(rates, x, ts[x.fold]);
  return { ts, rates };
}

function foldThresholds(fitOn: readonly Sample[]): number[] {
  return Array.from({ length: FOLDS }, (_, f) => fitThreshold(fitOn.filter((x) => x.fold !== f)));
}

type Verdict = 'match' | 'possibly unknown' | 'likely unknown';
const VERDICTS: readonly Verdict[] = ['match', 'possibly unknown', 'likely unknown'];

/**
 * The two-threshold reading, held out: at or above the clean T a match; below
 * the damaged T likely unknown; between them possibly unknown.
 */
function verdictRow(label: string, judged: readonly Sample[], cleanTs: readonly number[], damagedTs: readonly number[]): string {
  const verdict = (x: Sample): Verdict => (x.score >= cleanTs[x.fold] ? 'match' : x.score >= damagedTs[x.fold] ? 'possibly unknown' : 'likely unknown');
  const split = (xs: readonly Sample[]) => VERDICTS.map((v) => pct(xs.filter((x) => verdict(x) === v).length, xs.length)).join(' / ');
  const correct = judged.filter((x) => x.correct);
  const strangers = judged.filter((x) => x.stranger);
  const mis = judged.filter((x) => !x.correct && !x.stranger);
  return `| ${label} | ${split(correct)} (${correct.length}) | ${split(strangers)} (${strangers.length}) | ${split(mis)} (${mis.length}) |`;
}

function binsAround(xs: readonly Sample[], t: number, width: number, each: number): string {
  const lines = ['| top-1 score | n | strangers | misidentified | correct | accuracy |', '|---|---|---|---|---|---|'];
  const lo0 = Math.round((t - each * width) * 1000) / 1000;
  const edges = Array.from({ length: 2 * each + 1 }, (_, i) => Math.round((lo0 + i * width) * 1000) / 1000);
  const row = (name: string, inBin: (s: number) => boolean) => {
    const b = xs.filter((x) => inBin(x.score));
    const c = b.filter((x) => x.correct).length;
    const s = b.filter((x) => x.stranger).length;
    lines.push(`| ${name} | ${b.length} | ${s} | ${b.length - c - s} | ${c} | ${pct(c, b.length)}% |`);
  };
  row(`< ${edges[0].toFixed(3)}`, (s) => s < edges[0]);
  for (let i = 0; i + 1 < edges.length; i++) row(`[${edges[i].toFixed(3)}, ${edges[i + 1].toFixed(3)})`, (s) => s >= edges[i] && s < edges[i + 1]);
  row(`>= ${edges[edges.length - 1].toFixed(3)}`, (s) => s >= edges[edges.length - 1]);
  return lines.join('\n');
}

/** Probability that a random correct query scores above a random wrong one (ties count half). */
function auc(pairs: readonly { score: number; correct: boolean }[]): number {
  const sorted = [...pairs].sort((a, b) => a.score - b.score);
  let rankSum = 0;
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j < sorted.length && sorted[j].score === sorted[i].score) j++;
    const midRank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) if (sorted[k].correct) rankSum += midRank;
    i = j;
  }
  const nc = sorted.filter((x) => x.correct).length;
  const nw = sorted.length - nc;
  return (rankSum - (nc * (nc + 1)) / 2) / (nc * nw);
}

function report(key: RecognizerKey, data: ReadonlyMap<Variant, readonly QueryRecord[]>): void {
  const recordsOf = (v: Variant) => {
    const r = data.get(v);
    if (!r) throw new Error(`no records for ${v}`);
    return r;
  };
  const clean = samples(recordsOf('none'), key);
  const t = fitThreshold(clean);
  console.log(`\n## ${key}\n`);
  const withMatch = recordsOf('none').filter((r) => !r.stranger);
  const mean = (f: (o: Outcome) => boolean) => pct(withMatch.filter((r) => f(r.out[key])).length, withMatch.length);
  console.log(`Sanity (none, queries with a match): stage-1 P@1 ${mean((o) => o.s1Correct)}, presented (stage 2) P@1 ${mean((o) => o.finalCorrect)}`);
  console.log(`T fitted on all clean queries: ${t.toFixed(3)}`);
  const s1Target = fitThreshold(recordsOf('none').map((r) => ({ score: r.out[key].top1, correct: r.out[key].s1Correct, stranger: r.stranger, fold: 0 })));
  console.log(`(T if "correct" meant the stage-1 top-1 instead of the presented one: ${s1Target.toFixed(3)})`);
  console.log('\nHeld out (5-fold by identity; T fitted on the other folds\u2019 clean queries):\n');
  console.log(RATES_HEAD);
  for (const v of VARIANTS) console.log(ratesRow(v, crossValidate(clean, samples(recordsOf(v), key)).rates));
  const cleanTs = foldThresholds(clean);
  console.log(`\nper-fold T: ${cleanTs.map((x) => x.toFixed(3)).join(', ')}`);
  console.log(`\nThe final T = ${t.toFixed(3)} on all of each set (not held out):\n`);
  console.log(RATES_HEAD);
  for (const v of VARIANTS) {
    const r = emptyRates();
    for (const x of samples(recordsOf(v), key)) addRates(r, x, t);
    console.log(ratesRow(v, r));
  }
  console.log('\nT each set would choose for itself (fitted on all of it):');
  for (const v of VARIANTS) console.log(`  ${v}: ${fitThreshold(samples(recordsOf(v), key)).toFixed(3)}`);
  const damaged = VARIANTS.filter((v) => v !== 'none').flatMap((v) => samples(recordsOf(v), key));
  const tDamaged = fitThreshold(damaged);
  const damagedTs = foldThresholds(damaged);
  console.log(`Damaged T (crop, mask and sunglasses queries pooled): ${tDamaged.toFixed(3)}; per fold ${damagedTs.map((x) => x.toFixed(3)).join(', ')}`);
  const shipped = unknownPersonThresholds(key);
  const same = shipped !== undefined && shipped.clean === t && shipped.damaged === tDamaged;
  console.log(`src/models/unknownPerson.ts holds ${JSON.stringify(shipped ?? null)}: ${same ? 'the same' : 'DIFFERENT: update it'}`);
  console.log('\nTwo thresholds, held out (match >= clean T > possibly unknown >= damaged T > likely unknown); shares match / possibly / likely:\n');
  console.log('| queries | correct top-1s | strangers | misidentified (has a match) |\n|---|---|---|---|');
  for (const v of VARIANTS) console.log(verdictRow(v, samples(recordsOf(v), key), cleanTs, damagedTs));
  console.log(`\nAccuracy of the presented top-1 by stage-1 top-1 score, clean queries (T = ${t.toFixed(3)}):\n`);
  console.log(binsAround(clean, t, 0.02, 4));
  console.log(`\nThe same, crop, mask and sunglasses queries pooled (damaged T = ${tDamaged.toFixed(3)}):\n`);
  console.log(binsAround(damaged, tDamaged, 0.02, 4));
  console.log('\nAlternative signal, the presented top-1\u2019s final score: s_emd exists only for queries with a match, so');
  console.log('it cannot be thresholded for strangers; separation (AUC, correct vs misidentified) among queries with a match:');
  for (const v of VARIANTS) {
    const rs = recordsOf(v).filter((r) => !r.stranger);
    const a1 = auc(rs.map((r) => ({ score: r.out[key].top1, correct: r.out[key].finalCorrect })));
    const a2 = auc(rs.map((r) => ({ score: r.out[key].finalScore ?? Number.NaN, correct: r.out[key].finalCorrect })));
    console.log(`  ${v}: stage-1 top-1 ${a1.toFixed(4)}, final score ${a2.toFixed(4)}`);
  }
}

const data = new Map<Variant, readonly QueryRecord[]>(VARIANTS.map((v) => [v, loadVariant(v)]));
console.log(`# Unknown-person threshold on lfw-dev (${data.get('none')?.length ?? 0} queries per set, leave-one-out)`);
for (const key of RECOGNIZERS) report(key, data);

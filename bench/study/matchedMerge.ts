/**
 * Issue 17, damage-matched library search: how should the lists of the
 * different pairings be merged? A clean query is compared with a clean
 * library face as it is, and with a masked (sunglasses) face through its
 * drawing with a mask (sunglasses); the scores of the pairings are not on
 * one scale. This replays the matched search on lfw-dev as a library in
 * which a share of the faces wear an occluder (like the group-photo study's
 * --damaged): each face wears mask or sunglasses with probability f/2 each
 * (seeded), the study's clean queries are searched, and the first result is
 * scored (P@1). Merge rules, each fitted on the training identities of a fold
 * (5-fold by identity) and scored on the held-out fold:
 * - `level`: each pairing's fused cosine minus its impostor mean (the app's rule until now);
 * - `llr`: each pairing's fused cosine through a logistic fit of same-person
 *   pairs against impostor pairs of that pairing (equal weight to the two classes),
 *   i.e. a log-likelihood ratio, so the pairings are compared by how likely a
 *   pair is the same person;
 * - `llr+visible`: the drawn pairings' logistic also reads the cosine of the
 *   clean query's visible-part embedding with the face's (MobileFaceNet's
 *   head on the rows the occluder leaves visible), so it learns the weight
 *   of that cosine too.
 *
 *   npx tsx bench/study/matchedMerge.ts [--damaged 0.2] [--seed 1] [--pairs 20000]
 *
 * Measured 2026-12-04, not shipped: the shifted visible-part rule won about one
 * query in 500 here and lost on the group photos (docs/RESULTS.md, "Stage 2 of
 * the matched search by the visible part").
 *
 * Needs .cache/study with the none, mask and sunglasses variants (dump.ts).
 */
import { seededRandom } from '../../src/core/random.ts';
import { fitPairLogistic, type PairSample } from './pairLogistic.ts';
import { argValue } from '../browser.ts';
import { dotAt, fusedStudyRows, mfnVisible, readVariant, visibleRowsOf } from './features.ts';
import { studySetup } from './setup.ts';
import { identityFold } from './tables.ts';

const FOLDS = 5;
const W = 0.4;
const KINDS = ['none', 'mask', 'sunglasses'] as const;
type Kind = (typeof KINDS)[number];
/** Candidates kept per pairing and query: every rule below is monotone within a pairing except the visible blend, which re-scores these. */
const KEEP = 100;

interface Features {
  /** rows x 1536, scaled so that one dot product is the fused cosine. */
  readonly fused: Float32Array;
  /** rows x 512 unit visible-part embedding of the kind's rows (none: unused). */
  readonly visible: Float32Array;
}

interface Candidate {
  readonly label: string;
  readonly fused: number;
  readonly visible: number;
}

function main(): void {
  const argv = process.argv.slice(2);
  const damaged = Number(argValue(argv, 'damaged') ?? 0.2);
  const seed = Number(argValue(argv, 'seed') ?? 1);
  const pairs = Number(argValue(argv, 'pairs') ?? 20000);
  const s = studySetup();
  const rows = s.galleryRows;
  const n = rows.length;
  const feats = new Map<Kind, Features>();
  const cleanVisible = new Map<Kind, Float32Array>();
  for (const kind of KINDS) {
    const f = readVariant(kind, rows, false);
    const fused = fusedStudyRows(f, W);
    const visible = kind === 'none' ? new Float32Array(0) : mfnVisible(kind, rows, [visibleRowsOf(kind)])[0];
    if (kind !== 'none') cleanVisible.set(kind, mfnVisible('none', rows, [visibleRowsOf(kind)])[0]);
    feats.set(kind, { fused, visible });
  }
  const get = <T>(m: Map<Kind, T>, k: Kind): T => {
    const v = m.get(k);
    if (v === undefined) throw new Error(`no features for ${k}`);
    return v;
  };
  /** The pair (query a, face b) as the matched search compares it when b wears `kind`. */
  const pairScore = (a: number, b: number, kind: Kind): { fused: number; visible: number } => {
    const f = get(feats, kind);
    return { fused: dotAt(f.fused, a * 1536, f.fused, b * 1536, 1536), visible: kind === 'none' ? 0 : dotAt(get(cleanVisible, kind), a * 512, f.visible, b * 512, 512) };
  };
  const wearRandom = seededRandom(seed);
  const wear: Kind[] = rows.map(() => {
    const r = wearRandom();
    return r < damaged / 2 ? 'mask' : r < damaged ? 'sunglasses' : 'none';
  });
  // Per query and pairing, the KEEP best faces of that pairing by fused cosine.
  const lists: Map<Kind, Candidate[]>[] = [];
  const t0 = Date.now();
  for (const q of s.queryPositions) {
    const byKind = new Map<Kind, { j: number; fused: number }[]>(KINDS.map((k) => [k, []]));
    for (let j = 0; j < n; j++) {
      if (j === q) continue;
      const f = get(feats, wear[j]);
      get(byKind, wear[j]).push({ j, fused: dotAt(f.fused, q * 1536, f.fused, j * 1536, 1536) });
    }
    lists.push(
      new Map(
        KINDS.map((k) => [
          k,
          get(byKind, k)
            .sort((a, b) => b.fused - a.fused || a.j - b.j)
            .slice(0, KEEP)
            .map(({ j }) => ({ label: s.labels[j], ...pairScore(q, j, k) })),
        ]),
      ),
    );
    if (lists.length % 500 === 0) process.stderr.write(`\r${lists.length}/${s.queryPositions.length} queries, ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
  }
  process.stderr.write('\n');
  const folds = s.queryPositions.map((q) => identityFold(s.labels[q]));
  const rowFold = s.labels.map(identityFold);
  type Scorer = (kind: Kind, c: Candidate) => number;
  /** Training pairs of each pairing: same-person pairs of the training identities and as many random impostor pairs. */
  const sampled = new Map<string, PairSample[]>();
  const samplesFor = (fold: number, kind: Kind): PairSample[] => {
    const known = sampled.get(`${fold} ${kind}`);
    if (known) return known;
    const random = seededRandom(100 + fold);
    const train = rows.map((_, i) => i).filter((i) => rowFold[i] !== fold);
    const byLabel = new Map<string, number[]>();
    for (const i of train) byLabel.set(s.labels[i], [...(byLabel.get(s.labels[i]) ?? []), i]);
    const genuine: [number, number][] = [];
    for (const ims of byLabel.values()) for (let a = 0; a < ims.length; a++) for (let b = a + 1; b < ims.length; b++) genuine.push([ims[a], ims[b]]);
    const out: PairSample[] = [];
    for (let i = 0; i < pairs && genuine.length > 0; i++) {
      const [a, b] = genuine[Math.floor(random() * genuine.length)];
      const p = pairScore(a, b, kind);
      out.push({ features: kind === 'none' ? [p.fused] : [p.fused, p.visible], same: true });
    }
    while (out.length < 2 * pairs) {
      const a = train[Math.floor(random() * train.length)];
      const b = train[Math.floor(random() * train.length)];
      if (s.labels[a] === s.labels[b]) continue;
      const p = pairScore(a, b, kind);
      out.push({ features: kind === 'none' ? [p.fused] : [p.fused, p.visible], same: false });
    }
    sampled.set(`${fold} ${kind}`, out);
    return out;
  };
  const rules: Record<string, (fold: number) => Scorer> = {
    level: (fold) => {
      const level = new Map(
        KINDS.map((k) => {
          const imp = samplesFor(fold, k).filter((x) => !x.same);
          return [k, imp.reduce((a, x) => a + x.features[0], 0) / imp.length];
        }),
      );
      return (k, c) => c.fused - get(level, k);
    },
    llr: (fold) => {
      const fits = new Map(KINDS.map((k) => [k, fitPairLogistic(samplesFor(fold, k).map((x) => ({ features: [x.features[0]], same: x.same })))]));
      return (k, c) => get(fits, k).logit([c.fused]);
    },
    'llr+visible': (fold) => {
      const fits = new Map(KINDS.map((k) => [k, fitPairLogistic(samplesFor(fold, k))]));
      return (k, c) => get(fits, k).logit(k === 'none' ? [c.fused] : [c.fused, c.visible]);
    },
  };
  const hitWith = (qi: number, scorer: Scorer): boolean => {
    let best = -Infinity;
    let label = '';
    for (const k of KINDS)
      for (const c of get(lists[qi], k)) {
        const v = scorer(k, c);
        if (v > best) {
          best = v;
          label = c.label;
        }
      }
    return label === s.labels[s.queryPositions[qi]];
  };
  // Queries whose person has no clean face left in the library: the hard case of the group photos.
  const onlyDamaged = s.queryPositions.map((q) => s.labels.every((l, j) => j === q || l !== s.labels[q] || wear[j] !== 'none'));
  // Queries whose person has exactly one other face, as in a group-photo library (one photo per person), by what that face wears.
  const single = s.queryPositions.map((q) => {
    const others = s.labels.flatMap((l, j) => (j !== q && l === s.labels[q] ? [j] : []));
    return others.length === 1 ? wear[others[0]] : null;
  });
  console.log(
    `lfw-dev as a library, ${(100 * damaged).toFixed(0)}% of faces wearing an occluder (seed ${seed}); ${s.queryPositions.length} clean queries, ${onlyDamaged.filter(Boolean).length} of them with no clean face of their person left`,
  );
  // llr+visible with a shift of the drawn pairings' logits, chosen on the training identities (objective: P@1 of
  // the queries whose person has one other face, the group-photo case).
  const DELTAS = [-3, -2.5, -2, -1.5, -1, -0.5, 0, 0.5, 1];
  const chosenDelta: number[] = [];
  rules['llr+visible, shifted'] = (fold) => {
    const base = rules['llr+visible'](fold);
    let best = 0;
    let bestHits = -1;
    for (const delta of DELTAS) {
      const scorer: Scorer = (k, c) => base(k, c) + (k === 'none' ? 0 : delta);
      let h = 0;
      folds.forEach((f, qi) => {
        if (f !== fold && single[qi] !== null && hitWith(qi, scorer)) h++;
      });
      if (h > bestHits) {
        bestHits = h;
        best = delta;
      }
    }
    chosenDelta.push(best);
    return (k, c) => base(k, c) + (k === 'none' ? 0 : best);
  };
  for (const [name, make] of Object.entries(rules)) {
    let hits = 0;
    let hard = 0;
    const singleHits = new Map<Kind, number>();
    for (let fold = 0; fold < FOLDS; fold++) {
      const scorer = make(fold);
      folds.forEach((f, qi) => {
        if (f !== fold) return;
        const hit = hitWith(qi, scorer);
        if (hit) hits++;
        if (hit && onlyDamaged[qi]) hard++;
        const sw = single[qi];
        if (hit && sw) singleHits.set(sw, (singleHits.get(sw) ?? 0) + 1);
      });
    }
    const nHard = onlyDamaged.filter(Boolean).length;
    const singles = KINDS.map((k) => {
      const of = single.filter((w) => w === k).length;
      return `${k} ${((100 * (singleHits.get(k) ?? 0)) / of).toFixed(2)} (${singleHits.get(k) ?? 0}/${of})`;
    });
    const singleAll = single.filter((w) => w !== null).length;
    const singleHit = [...singleHits.values()].reduce((a, b) => a + b, 0);
    console.log(
      `  ${name}: held-out P@1 ${((100 * hits) / s.queryPositions.length).toFixed(2)}; person only damaged ${((100 * hard) / nHard).toFixed(2)} (${hard}/${nHard}); person with one other face ${((100 * singleHit) / singleAll).toFixed(2)}, by what it wears: ${singles.join(', ')}`,
    );
  }
  console.log(`  shift per fold: ${chosenDelta.join(', ')}`);
  const all = Object.fromEntries(KINDS.map((k) => [k, fitPairLogistic(samplesFor(-1, k))]));
  console.log(`fit on all of lfw-dev: ${JSON.stringify(Object.fromEntries(Object.entries(all).map(([k, f]) => [k, f.weights])))}`);
}

main();

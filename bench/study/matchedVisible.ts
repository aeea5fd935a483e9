/**
 * Issue 17, damage-matched library search: a clean query is compared with a
 * masked (or sunglasses) library face through the query drawn with the same
 * occluder, at the fused cosine. Does stage 2 of such a pair gain from also
 * comparing the part of the face the occluder leaves visible (MobileFaceNet's
 * visible-part embedding, as the default does for a damaged query against
 * clean faces)? Each query of the study, drawn with the kind, is ranked
 * against every other face drawn with the same kind (the "both wear it"
 * pairing of the matched search); its top K by fused cosine are re-scored by
 *
 *   (1 - v) * fused cosine + v * cos(visible part of the query, visible part of the face)
 *
 * v is chosen on the training identities of each fold (5-fold by identity,
 * objective (P@1 + MAP@R) / 2) and scored on the held-out fold. The query's
 * visible part is taken from its drawing ("drawn") or from the clean query
 * ("clean": the mirror of the shipped rule, where the clean side is the gallery's).
 * It also prints the impostor mean of the chosen blend (both faces wear the
 * kind), the level the matched search's merge subtracts (src/models/damageMatched.ts).
 *
 *   npx tsx bench/study/matchedVisible.ts [mask|sunglasses] [--pairs 3000]
 *
 * Needs .cache/study with the none and the kind's variants (dump.ts).
 */
import { seededRandom } from '../../src/core/random.ts';
import { mapAtR } from '../../src/engine/metrics.ts';
import { argValue } from '../browser.ts';
import { dotAt, fusedStudyRows, mfnVisible, readVariant, visibleRowsOf } from './features.ts';
import { K, studySetup } from './setup.ts';
import { identityFold } from './tables.ts';

const FOLDS = 5;
const W = 0.4;
const VS = Array.from({ length: 11 }, (_, i) => i / 10);

interface QueryScores {
  readonly label: string;
  readonly relevant: number;
  /** Labels of the top K by fused cosine. */
  readonly labels: string[];
  readonly fused: Float64Array;
  /** Per query source (drawn, clean), the visible-part cosine of each of the top K. */
  readonly visible: [Float64Array, Float64Array];
}

function rankMetrics(q: QueryScores, v: number, source: 0 | 1): { p1: number; map: number } {
  const order = q.labels.map((_, i) => i).sort((a, b) => (1 - v) * q.fused[b] + v * q.visible[source][b] - ((1 - v) * q.fused[a] + v * q.visible[source][a]) || a - b);
  const ranked = order.map((i) => q.labels[i]);
  return { p1: ranked[0] === q.label ? 1 : 0, map: mapAtR(ranked, q.label, q.relevant) };
}

function mean(qs: readonly QueryScores[], v: number, source: 0 | 1): { p1: number; map: number } {
  let p1 = 0;
  let map = 0;
  for (const q of qs) {
    const m = rankMetrics(q, v, source);
    p1 += m.p1;
    map += m.map;
  }
  return { p1: (100 * p1) / qs.length, map: (100 * map) / qs.length };
}

function main(): void {
  const argv = process.argv.slice(2);
  const kind = argv.find((a) => a === 'mask' || a === 'sunglasses') ?? 'mask';
  const pairs = Number(argValue(argv, 'pairs') ?? 3000);
  const s = studySetup();
  const rows = s.galleryRows;
  const f = readVariant(kind, rows, false);
  const [drawnVisible] = mfnVisible(kind, rows, [visibleRowsOf(kind)]);
  const [cleanVisible] = mfnVisible('none', rows, [visibleRowsOf(kind)]);
  const fused = fusedStudyRows(f, W);
  const counts = new Map<string, number>();
  for (const l of s.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const scores: QueryScores[] = [];
  const t0 = Date.now();
  for (const q of s.queryPositions) {
    const all = new Float32Array(rows.length);
    for (let j = 0; j < rows.length; j++) all[j] = j === q ? -Infinity : dotAt(fused, q * 1536, fused, j * 1536, 1536);
    const top = Array.from(all.keys())
      .sort((a, b) => all[b] - all[a] || a - b)
      .slice(0, K);
    scores.push({
      label: s.labels[q],
      relevant: (counts.get(s.labels[q]) ?? 1) - 1,
      labels: top.map((j) => s.labels[j]),
      fused: Float64Array.from(top, (j) => all[j]),
      visible: [Float64Array.from(top, (j) => dotAt(drawnVisible, q * 512, drawnVisible, j * 512, 512)), Float64Array.from(top, (j) => dotAt(cleanVisible, q * 512, drawnVisible, j * 512, 512))],
    });
    if (scores.length % 200 === 0) process.stderr.write(`\r${kind}: ${scores.length}/${s.queryPositions.length} queries, ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
  }
  process.stderr.write('\n');
  const folds = s.queryPositions.map((q) => identityFold(s.labels[q]));
  for (const source of [0, 1] as const) {
    const name = source === 0 ? 'drawn' : 'clean';
    const base = mean(scores, 0, source);
    let heldP1 = 0;
    let heldMap = 0;
    const chosen: number[] = [];
    for (let k = 0; k < FOLDS; k++) {
      const train = scores.filter((_, i) => folds[i] !== k);
      const test = scores.filter((_, i) => folds[i] === k);
      let best = 0;
      let bestObj = -Infinity;
      for (const v of VS) {
        const m = mean(train, v, source);
        const obj = (m.p1 + m.map) / 2;
        if (obj > bestObj + 1e-9) {
          bestObj = obj;
          best = v;
        }
      }
      chosen.push(best);
      const m = mean(test, best, source);
      heldP1 += (m.p1 * test.length) / scores.length;
      heldMap += (m.map * test.length) / scores.length;
    }
    console.log(
      `${kind}-${kind}, query's visible part ${name}: fused cosine ${base.p1.toFixed(2)} / ${base.map.toFixed(2)}; held out ${heldP1.toFixed(2)} / ${heldMap.toFixed(2)} (${(heldP1 - base.p1 >= 0 ? '+' : '') + (heldP1 - base.p1).toFixed(2)} / ${(heldMap - base.map >= 0 ? '+' : '') + (heldMap - base.map).toFixed(2)}); v per fold ${chosen.join(', ')}`,
    );
    console.log(`  on all queries: ${VS.map((v) => `v ${v}: ${mean(scores, v, source).p1.toFixed(2)}`).join(', ')}`);
  }
  // The level of the blend: the mean score of two different people who both wear the kind (drawn visible parts).
  const random = seededRandom(11);
  for (const v of VS) {
    let sum = 0;
    let n = 0;
    while (n < pairs) {
      const a = Math.floor(random() * rows.length);
      const b = Math.floor(random() * rows.length);
      if (s.labels[a] === s.labels[b]) continue;
      sum += (1 - v) * dotAt(fused, a * 1536, fused, b * 1536, 1536) + v * dotAt(drawnVisible, a * 512, drawnVisible, b * 512, 512);
      n++;
    }
    console.log(`  impostor mean (${pairs} pairs, both wear ${kind}) at v ${v}: ${(sum / n).toFixed(4)}`);
  }
}

main();

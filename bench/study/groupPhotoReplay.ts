/**
 * Replays the photo-library search on group-photo dumps
 * (`groupPhotoStudy.ts --dump FILE [--dump-drawn] [--dump-mirrored]`) and scores other ways of merging the pairings, in
 * seconds instead of the study's minutes. Each rule gives every library face
 * one score for a clean query; the top face counts as a hit when its photo
 * shows the query's person, as in the study.
 *
 * `npx tsx bench/study/groupPhotoReplay.ts FILE... [--misses] [--sweep] [--mirrored]`
 * - `--misses`: each query the app's rule misses, with the scores of the true face and the winner;
 * - `--sweep`: the app's rule with its two drawn levels moved by -0.06..+0.02 (what a better level could reach);
 * - `--mirrored`: each query version averaged with its mirrored one (dumps made with --dump-mirrored).
 *
 * The first row replays the app's own `matchedLibrarySearch`; the `shipped`
 * row recomputes its rule from the full score lists, and the two agree.
 */
import { readFileSync } from 'node:fs';
import { deserialize } from 'node:v8';
import { matchedLibrarySearch } from '../../src/app/matchedLibrarySearch.ts';
import { DEFAULT_SETTINGS, type FaceFeatures, type FusedCosineLayout, type OodTransform } from '../../src/core/types.ts';
import { detectDamage, parseDamageDetector } from '../../src/engine/damageDetector.ts';
import { SearchEngine } from '../../src/engine/searchEngine.ts';
import { fuseEmbeddings } from '../../src/face/fusedRecognizer.ts';
import { MATCHED_PAIRING_LEVELS } from '../../src/models/damageMatched.ts';
import { DEFAULT_RECOGNIZER_ID } from '../../src/models/pipelines.ts';
import { resolveRecognizer } from '../../src/models/recognizers.ts';
import { readManifest } from '../../tests/unit/face/helpers/models.ts';
import { shippedMatchedNap } from './shared.ts';

type Version = 'none' | 'mask' | 'sunglasses';
type Drawn = 'mask' | 'sunglasses';
const VERSIONS: readonly Version[] = ['none', 'mask', 'sunglasses'];
const DRAWN: readonly Drawn[] = ['mask', 'sunglasses'];

interface Dump {
  library: { id: string; features: FaceFeatures; drawn?: Partial<Record<Drawn, FaceFeatures>> }[];
  queries: { identity: string; versions: Record<string, FaceFeatures | undefined> }[];
  photoPeople: Record<string, string[]>;
  wearOf: Record<string, OodTransform>;
}

/** What a rule sees of one query against one library. */
interface Context {
  /** Per query version: its fused cosine with every library face. */
  readonly scores: Record<Version, Map<string, number>>;
  /** The library as if every face wore the occluder: a face that wears it as it is, any other drawn (--dump-drawn only). */
  readonly space: Record<Drawn, Map<string, number>> | null;
  readonly kindOf: (id: string) => Version;
  /** The damage detector's class probabilities per face, crop counted as clean. */
  readonly probabilities: (id: string) => Record<Version, number>;
  /** Per face: the mean cosine to its 10 nearest library faces of its own kind in other photos. */
  readonly hubness: (id: string) => number;
  readonly hubnessMean: Record<Version, number>;
}

type Rule = (c: Context) => Map<string, number> | null;

const L = MATCHED_PAIRING_LEVELS;
const kindKey = (k: OodTransform | undefined): Version => (k === 'mask' || k === 'sunglasses' ? k : 'none');
const mean = (xs: readonly number[], fallback: number) => (xs.length ? xs.reduce((a, x) => a + x, 0) / xs.length : fallback);

function eachFace(c: Context, score: (id: string, v: Version) => number): Map<string, number> {
  return new Map([...c.scores.none.keys()].map((id) => [id, score(id, c.kindOf(id))]));
}

/** Per version: its scores against the faces that wear that version's kind. */
function cohort(c: Context, v: Version): number[] {
  return [...c.scores[v]].filter(([id]) => c.kindOf(id) === v).map(([, s]) => s);
}

function shiftedBy(levels: Record<Version, number>): Rule {
  return (c) => eachFace(c, (id, v) => (c.scores[v].get(id) ?? 0) - levels[v]);
}

const rules: Record<string, Rule> = {
  /** The app's rule: each face against the version that wears what it wears, minus that pairing's impostor level. */
  shipped: shiftedBy(L),
  /** The level of each pairing from this query's own scores against the library (nearly all strangers). */
  'per-query level': (c) => {
    const lv = Object.fromEntries(VERSIONS.map((v) => [v, mean(cohort(c, v), L[v])])) as Record<Version, number>;
    return shiftedBy(lv)(c);
  },
  /** The same, also divided by the spread (z-norm per query and pairing). */
  'per-query z': (c) => {
    const z = Object.fromEntries(
      VERSIONS.map((v) => {
        const xs = cohort(c, v);
        const m = mean(xs, L[v]);
        return [
          v,
          {
            m,
            sd: Math.sqrt(
              Math.max(
                1e-9,
                mean(
                  xs.map((x) => (x - m) ** 2),
                  0.01,
                ),
              ),
            ),
          },
        ];
      }),
    ) as Record<Version, { m: number; sd: number }>;
    return eachFace(c, (id, v) => ((c.scores[v].get(id) ?? 0) - z[v].m) / z[v].sd);
  },
  /** A damaged face also counts the clean query's own score (each centred on this query's mean over that kind), half each. */
  'drawn and clean, half each': (c) => {
    const clean = Object.fromEntries(
      DRAWN.map((k) => [
        k,
        mean(
          [...c.scores.none].filter(([id]) => c.kindOf(id) === k).map(([, s]) => s),
          L.none,
        ),
      ]),
    ) as Record<Drawn, number>;
    return eachFace(c, (id, v) => {
      const s0 = c.scores.none.get(id) ?? 0;
      if (v === 'none') return s0 - L.none;
      return 0.5 * ((c.scores[v].get(id) ?? 0) - L[v]) + 0.5 * (s0 - clean[v]);
    });
  },
  /** The detector's probabilities weigh the three pairings' shifted scores (for faces it reads wrongly). */
  'expected over the detector': (c) =>
    eachFace(c, (id) => {
      const p = c.probabilities(id);
      return VERSIONS.reduce((a, v) => a + p[v] * ((c.scores[v].get(id) ?? 0) - L[v]), 0);
    }),
  /** Hubness: a face close to many faces of its kind is lowered by how much closer than its kind's average it is. */
  'minus hubness': (c) => eachFace(c, (id, v) => (c.scores[v].get(id) ?? 0) - L[v] - (c.hubness(id) - c.hubnessMean[v])),
  /** CSLS (2 cos - r_query - r_face, r the mean of the 10 nearest of the face's kind): both sides' hubness. */
  csls: (c) => {
    const rq = Object.fromEntries(
      VERSIONS.map((v) => [
        v,
        mean(
          cohort(c, v)
            .sort((a, b) => b - a)
            .slice(0, 10),
          L[v],
        ),
      ]),
    ) as Record<Version, number>;
    return eachFace(c, (id, v) => 2 * (c.scores[v].get(id) ?? 0) - rq[v] - c.hubness(id));
  },
  /** Clean faces drawn with both occluders too: the mean of their three shifted scores (damaged faces keep one). */
  'clean faces drawn, mean of three': (c) => {
    const space = c.space;
    if (!space) return null;
    return eachFace(c, (id, v) =>
      v === 'none' ? ((c.scores.none.get(id) ?? 0) - L.none + (space.mask.get(id) ?? 0) - L.mask + (space.sunglasses.get(id) ?? 0) - L.sunglasses) / 3 : (c.scores[v].get(id) ?? 0) - L[v],
    );
  },
  /** The app's top 10 again, by pairwise wins: a clean face against a damaged one is compared in the damaged one's space. */
  'clean faces drawn, pairwise in one space': (c) => {
    const space = c.space;
    if (!space) return null;
    const shipped = [...(shiftedBy(L)(c) ?? [])].sort((a, b) => b[1] - a[1]);
    const top = shipped.slice(0, 10).map(([id]) => id);
    const at = (id: string, k: Version | null) => (k ? (space[k as Drawn].get(id) ?? 0) : (c.scores[c.kindOf(id)].get(id) ?? 0) - L[c.kindOf(id)]);
    const wins = (x: string) =>
      top.filter((y) => {
        if (y === x) return false;
        const [kx, ky] = [c.kindOf(x), c.kindOf(y)];
        const k = kx === ky || (kx !== 'none' && ky !== 'none') ? null : kx === 'none' ? ky : kx;
        return at(x, k) > at(y, k);
      }).length;
    return new Map(shipped.map(([id, s], i) => [id, i < top.length ? 1000 + wins(id) - i * 1e-6 : s]));
  },
};

/** Each recognizer's unit embedding averaged with its mirror's, fused again at the same weights (a fused embedding is [sqrt(w) unit(secondary), sqrt(1 - w) unit(primary)]). */
function mirrorAveraged(a: FaceFeatures, b: FaceFeatures | undefined, layout: FusedCosineLayout): FaceFeatures {
  if (!b) return a;
  const sum = a.embedding.map((x, i) => x + b.embedding[i]);
  const d = layout.secondaryDims;
  return { ...a, embedding: fuseEmbeddings(sum.subarray(0, d), sum.subarray(d), Math.sqrt(layout.secondaryWeight), Math.sqrt(1 - layout.secondaryWeight)) };
}

async function replay(file: string, argv: readonly string[]): Promise<void> {
  const dump = deserialize(readFileSync(file)) as Dump;
  const damageModel = parseDamageDetector(readFileSync(new URL('../../src/models/damage/faceres-damage.bin', import.meta.url)), 'faceres-damage.bin');
  const fusedCosine = resolveRecognizer(readManifest(), DEFAULT_RECOGNIZER_ID).fusedCosine;
  const engineOf = (faces: readonly { id: string; features: FaceFeatures }[], detector: boolean) => {
    const e = new SearchEngine({ accelerator: null, ...(detector ? { damageDetector: { model: damageModel } } : {}), ...(fusedCosine ? { fusedCosine } : {}) });
    for (const f of faces) e.add([{ id: f.id, label: 'face', features: f.features }]);
    return e;
  };
  const engine = engineOf(dump.library, true);
  const nap = shippedMatchedNap();
  const ids = dump.library.map((f) => f.id);
  const read = engine.galleryDamage(ids);
  if (!Array.isArray(read)) throw new Error(read.unavailable);
  const kinds = new Map(ids.map((id, i) => [id, kindKey(read[i])]));
  const kindOf = (id: string) => kinds.get(id) ?? 'none';
  const photoOf = (id: string) => id.split('#')[0];
  const probabilities = new Map(
    dump.library.map((f) => {
      const p = detectDamage(damageModel, f.features.patches).probabilities;
      return [f.id, { none: p.none + p.crop, mask: p.mask, sunglasses: p.sunglasses }];
    }),
  );
  const hubness = new Map(
    dump.library.map((f) => {
      const near = engine
        .searchStage1(f.features, ids.length)
        .filter((h) => photoOf(h.id) !== photoOf(f.id) && kindOf(h.id) === kindOf(f.id))
        .slice(0, 10);
      return [
        f.id,
        mean(
          near.map((h) => h.score),
          0,
        ),
      ];
    }),
  );
  const hubnessMean = Object.fromEntries(
    VERSIONS.map((v) => [
      v,
      mean(
        ids.filter((id) => kindOf(id) === v).map((id) => hubness.get(id) ?? 0),
        0,
      ),
    ]),
  ) as Record<Version, number>;
  const spaces = dump.library[0]?.drawn
    ? (Object.fromEntries(
        DRAWN.map((k) => [
          k,
          engineOf(
            dump.library.map((f) => ({ id: f.id, features: kindOf(f.id) === k ? f.features : (f.drawn?.[k] as FaceFeatures) })),
            false,
          ),
        ]),
      ) as Record<Drawn, SearchEngine>)
    : null;
  const active: Record<string, Rule> = { ...rules };
  if (argv.includes('--sweep'))
    for (const dm of [-0.06, -0.04, -0.02, 0, 0.02])
      for (const ds of [-0.06, -0.04, -0.02, 0, 0.02])
        active[`levels mask ${dm >= 0 ? '+' : ''}${dm} sunglasses ${ds >= 0 ? '+' : ''}${ds}`] = shiftedBy({ none: L.none, mask: L.mask + dm, sunglasses: L.sunglasses + ds });
  const tally = new Map<string, Map<Version, [number, number]>>();
  const count = (name: string, wear: Version, hit: boolean) => {
    const t = tally.get(name) ?? new Map<Version, [number, number]>();
    tally.set(name, t);
    const [h, n] = t.get(wear) ?? [0, 0];
    t.set(wear, [h + (hit ? 1 : 0), n + 1]);
  };
  for (const q of dump.queries) {
    const version = (v: Version) => {
      const own = q.versions[v] ?? q.versions.none;
      if (!own) throw new Error(`${file}: the query of ${q.identity} has no features`);
      return argv.includes('--mirrored') && fusedCosine ? mirrorAveraged(own, q.versions[`${v}~mirrored`], fusedCosine) : own;
    };
    const isHit = (id: string) => dump.photoPeople[photoOf(id)]?.includes(q.identity) ?? false;
    const wear = kindKey(dump.wearOf[q.identity]);
    const app = await matchedLibrarySearch(engine, version('none'), { ...DEFAULT_SETTINGS, backend: 'cpu' }, async (kind) => version(kindKey(kind)), nap);
    count("the app's matchedLibrarySearch", wear, isHit(app.stage2[0].id));
    const c: Context = {
      scores: Object.fromEntries(VERSIONS.map((v) => [v, new Map(engine.searchStage1(version(v), ids.length).map((h) => [h.id, h.score]))])) as Record<Version, Map<string, number>>,
      space: spaces ? (Object.fromEntries(DRAWN.map((k) => [k, new Map(spaces[k].searchStage1(version(k), ids.length).map((h) => [h.id, h.score]))])) as Record<Drawn, Map<string, number>>) : null,
      kindOf,
      probabilities: (id) => probabilities.get(id) ?? { none: 1, mask: 0, sunglasses: 0 },
      hubness: (id) => hubness.get(id) ?? 0,
      hubnessMean,
    };
    for (const [name, rule] of Object.entries(active)) {
      const scored = rule(c);
      if (!scored) continue;
      const ranked = [...scored].sort((a, b) => b[1] - a[1]);
      count(name, wear, isHit(ranked[0][0]));
      if (name === 'shipped' && argv.includes('--misses') && !isHit(ranked[0][0])) {
        const truth = ranked.findIndex(([id]) => isHit(id));
        const show = (id: string | undefined) =>
          id === undefined
            ? 'not found'
            : `${id} read ${kindOf(id)}: level ${scored.get(id)?.toFixed(3)}, cosine with the query ${VERSIONS.map((v) => `${v} ${c.scores[v].get(id)?.toFixed(3)}`).join(' ')}`;
        console.log(`  miss: ${q.identity} wears ${wear}; the true face at rank ${truth + 1}: ${show(ranked[truth]?.[0])} | top: ${show(ranked[0][0])}`);
      }
    }
  }
  console.log(`${file}: ${dump.queries.length} clean queries, ${ids.length} library faces; a photo of the person at rank 1 (by what the person wears in the library):`);
  for (const [name, t] of tally) {
    const all = [...t.values()].reduce((a, [h, n]) => [a[0] + h, a[1] + n], [0, 0]);
    console.log(`  ${name.padEnd(42)} ${((100 * all[0]) / all[1]).toFixed(2)}%  ${VERSIONS.map((v) => `${v} ${t.get(v)?.[0] ?? 0}/${t.get(v)?.[1] ?? 0}`).join(', ')}`);
  }
}

const argv = process.argv.slice(2);
for (const file of argv.filter((a) => !a.startsWith('--'))) await replay(file, argv);

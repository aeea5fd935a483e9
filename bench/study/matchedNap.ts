/**
 * Issue 17: nuisance attribute projection (NAP) for the damage-matched library
 * search. Drawing a mask (or sunglasses) on a face moves its embedding mostly
 * along a few directions that are the same for everyone; two strangers who
 * both wear the occluder share that move, so their cosine runs high whatever
 * their identities. Removing those directions from both faces of a matched
 * pair (the query's drawing and the library face that wears the same kind)
 * leaves more of the cosine to the person.
 *
 * The directions are the top-r principal directions (uncentred) of
 * drawn - clean over lfw-dev faces (the study dump, .cache/study), fitted
 * without identity labels; each kind's level is then the mean projected cosine
 * of impostor pairs that both wear it, as src/models/damageMatched.ts does
 * for the raw cosine.
 *
 *   npx tsx bench/study/matchedNap.ts [--r 0,1,2,4,8] [--cv] [--eval DUMP...] [--write]
 * - `--cv`: lfw-dev cross-validation by identity (FNV hash mod 5): fit on four
 *   folds, then on the fifth a library of one photo per identity, a fifth of it
 *   damaged (half mask, half sunglasses), searched with each identity's second
 *   photo, clean; a top-1 of the right identity is a hit;
 * - `--eval DUMP...`: the group-photo dumps (groupPhotoStudy.ts --dump), each
 *   searched with directions fitted on the lfw-dev identities that the dump
 *   does not show;
 * - `--write`: fits on all of lfw-dev at the first r and writes
 *   src/models/damage/matched-nap.bin (src/models/matchedNap.ts reads it).
 *
 * Needs .cache/study with the none, mask and sunglasses variants
 * (`STUDY_VARIANTS=none,mask,sunglasses npx tsx bench/study/dump.ts`, ~25 min).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { deserialize } from 'node:v8';
import { seededRandom } from '../../src/core/random.ts';
import type { FaceFeatures, OodTransform } from '../../src/core/types.ts';
import { parseDamageDetector } from '../../src/engine/damageDetector.ts';
import { napCosine, type NapKind } from '../../src/engine/nuisanceProjection.ts';
import { SearchEngine } from '../../src/engine/searchEngine.ts';
import { unitEmbedding } from '../../src/engine/vectors.ts';
import { MATCHED_PAIRING_LEVELS } from '../../src/models/damageMatched.ts';
import { MATCHED_NAP_FILE } from '../../src/models/matchedNap.ts';
import { DEFAULT_RECOGNIZER_ID } from '../../src/models/pipelines.ts';
import { resolveRecognizer } from '../../src/models/recognizers.ts';
import { readManifest } from '../../tests/unit/face/helpers/models.ts';
import { argValue } from '../browser.ts';
import { readMeta, readVariant } from './features.ts';
import { encodeMatchedNap, fnv, topDirections } from './napFit.ts';

type Version = 'none' | NapKind;
const KINDS: readonly NapKind[] = ['mask', 'sunglasses'];

/** The default pipeline's fused unit embedding of every dump row, per variant. */
function fusedRows(rows: readonly number[]): Record<Version, Float32Array[]> {
  // The default fuses MobileFaceNet (secondary, first) with FaceRes (src/models/pipelines.ts).
  const layout = resolveRecognizer(readManifest(), DEFAULT_RECOGNIZER_ID).fusedCosine;
  if (!layout || layout.secondaryDims !== 512) throw new Error('the default pipeline is not MobileFaceNet fused with FaceRes');
  const ws = Math.sqrt(layout.secondaryWeight);
  const wp = Math.sqrt(1 - layout.secondaryWeight);
  const out = {} as Record<Version, Float32Array[]>;
  for (const v of ['none', ...KINDS] as const) {
    const { mf, fr } = readVariant(v, rows, false);
    out[v] = rows.map((_, i) => {
      const e = new Float32Array(mf.dim + fr.dim);
      for (let d = 0; d < mf.dim; d++) e[d] = ws * mf.emb[i * mf.dim + d];
      for (let d = 0; d < fr.dim; d++) e[mf.dim + d] = wp * fr.emb[i * fr.dim + d];
      return e;
    });
  }
  return out;
}

interface Fit {
  readonly directions: Record<NapKind, Float32Array[]>;
  readonly levels: Record<NapKind, number>;
}

/** For each r: the first r of the rows `train`'s directions, each kind's level from 3,000 seeded impostor pairs among them. */
function fits(f: Record<Version, Float32Array[]>, identities: readonly string[], train: readonly number[], rs: readonly number[]): Fit[] {
  const top = Math.max(...rs);
  const all = Object.fromEntries(
    KINDS.map((k) => [
      k,
      topDirections(
        train.map((i) => f[k][i].map((x, d) => x - f.none[i][d])),
        top,
        60,
      ),
    ]),
  ) as Record<NapKind, Float32Array[]>;
  return rs.map((r) => withLevels(f, identities, train, Object.fromEntries(KINDS.map((k) => [k, all[k].slice(0, r)])) as Record<NapKind, Float32Array[]>));
}

function withLevels(f: Record<Version, Float32Array[]>, identities: readonly string[], train: readonly number[], directions: Record<NapKind, Float32Array[]>): Fit {
  const levels = {} as Record<NapKind, number>;
  for (const k of KINDS) {
    const random = seededRandom(11);
    let sum = 0;
    let n = 0;
    while (n < 3000) {
      const a = train[Math.floor(random() * train.length)];
      const b = train[Math.floor(random() * train.length)];
      if (identities[a] === identities[b]) continue;
      sum += napCosine(f[k][a], f[k][b], directions[k]);
      n++;
    }
    levels[k] = sum / n;
  }
  return { directions, levels };
}

/** The matched rule: a face of kind k against the query drawn with k, projected, minus the level; a clean face as today. */
function matchedScore(query: Record<Version, Float32Array>, face: Float32Array, kind: Version, fitted: Fit | null): number {
  let s = 0;
  for (let d = 0; d < face.length; d++) s += query[kind][d] * face[d];
  if (kind === 'none') return s - MATCHED_PAIRING_LEVELS.none;
  if (!fitted) return s - MATCHED_PAIRING_LEVELS[kind];
  return napCosine(query[kind], face, fitted.directions[kind]) - fitted.levels[kind];
}

function crossValidate(f: Record<Version, Float32Array[]>, identities: readonly string[], rs: readonly number[]): void {
  const folds = identities.map((id) => fnv(id) % 5);
  const hits = new Map<string, [number, number]>();
  const tally = (name: string, hit: boolean) => {
    const [h, n] = hits.get(name) ?? [0, 0];
    hits.set(name, [h + (hit ? 1 : 0), n + 1]);
  };
  for (let fold = 0; fold < 5; fold++) {
    const train = identities.flatMap((_, i) => (folds[i] !== fold ? [i] : []));
    const test = identities.flatMap((_, i) => (folds[i] === fold ? [i] : []));
    // One library photo per identity (its first), a fifth of them damaged; each identity's second photo is its query.
    const random = seededRandom(100 + fold);
    const library: { row: number; kind: Version }[] = [];
    const queries: number[] = [];
    const seen = new Map<string, number>();
    for (const i of test) {
      const count = seen.get(identities[i]) ?? 0;
      seen.set(identities[i], count + 1);
      if (count === 0) {
        const u = random();
        library.push({ row: i, kind: u < 0.1 ? 'mask' : u < 0.2 ? 'sunglasses' : 'none' });
      } else if (count === 1) queries.push(i);
    }
    const fitted = fits(f, identities, train, rs);
    for (const q of queries) {
      const query = { none: f.none[q], mask: f.mask[q], sunglasses: f.sunglasses[q] };
      const wear = library.find((l) => identities[l.row] === identities[q])?.kind ?? 'none';
      for (const [name, fit] of [['shipped levels, no projection', null] as const, ...rs.map((r, i) => [`r=${r}`, fitted[i]] as const)]) {
        let best = -1;
        let bestScore = -Infinity;
        for (const l of library) {
          const s = matchedScore(query, f[l.kind][l.row], l.kind, fit);
          if (s > bestScore) ((bestScore = s), (best = l.row));
        }
        const hit = identities[best] === identities[q];
        tally(name, hit);
        tally(`${name} (${wear})`, hit);
      }
    }
  }
  console.log('lfw-dev cross-validation (5 folds by identity; a fifth of each library damaged; clean queries), top-1 right:');
  for (const [name, [h, n]] of hits) console.log(`  ${name.padEnd(40)} ${((100 * h) / n).toFixed(2)}%  (${h}/${n})`);
}

interface GroupDump {
  library: { id: string; features: FaceFeatures }[];
  queries: { identity: string; versions: Record<string, FaceFeatures | undefined> }[];
  photoPeople: Record<string, string[]>;
  wearOf: Record<string, OodTransform>;
}

function evaluateGroupDump(file: string, f: Record<Version, Float32Array[]>, identities: readonly string[], rs: readonly number[]): void {
  const dump = deserialize(readFileSync(file)) as GroupDump;
  const shown = new Set([...Object.values(dump.photoPeople).flat(), ...dump.queries.map((q) => q.identity)]);
  const train = identities.flatMap((id, i) => (shown.has(id) ? [] : [i]));
  const damageModel = parseDamageDetector(readFileSync(new URL('../../src/models/damage/faceres-damage.bin', import.meta.url)), 'faceres-damage.bin');
  const fusedCosine = resolveRecognizer(readManifest(), DEFAULT_RECOGNIZER_ID).fusedCosine;
  const engine = new SearchEngine({ accelerator: null, damageDetector: { model: damageModel }, ...(fusedCosine ? { fusedCosine } : {}) });
  for (const face of dump.library) engine.add([{ id: face.id, label: 'face', features: face.features }]);
  const read = engine.galleryDamage(dump.library.map((x) => x.id));
  if (!Array.isArray(read)) throw new Error(read.unavailable);
  const kindOf = read.map((k): Version => (k === 'mask' || k === 'sunglasses' ? k : 'none'));
  const faces = dump.library.map((x) => unitEmbedding(x.features.embedding, x.id));
  const photoOf = (id: string) => id.split('#')[0];
  const fitted = fits(f, identities, train, rs);
  const named: [string, Fit | null][] = [['shipped levels, no projection', null], ...rs.map((r, i): [string, Fit] => [`r=${r}`, fitted[i]])];
  const queries = dump.queries.map((q) => {
    const version = (v: Version) => {
      const features = q.versions[v] ?? q.versions.none;
      if (!features) throw new Error(`${file}: the query of ${q.identity} has no features`);
      return unitEmbedding(features.embedding, q.identity);
    };
    return { identity: q.identity, query: { none: version('none'), mask: version('mask'), sunglasses: version('sunglasses') } };
  });
  const line: string[] = [];
  for (const [name, fitted] of named) {
    const t: Record<Version, [number, number]> = { none: [0, 0], mask: [0, 0], sunglasses: [0, 0] };
    for (const { identity, query } of queries) {
      let best = 0;
      let bestScore = -Infinity;
      faces.forEach((face, i) => {
        const s = matchedScore(query, face, kindOf[i], fitted);
        if (s > bestScore) ((bestScore = s), (best = i));
      });
      const worn = dump.wearOf[identity];
      const wear: Version = worn === 'mask' || worn === 'sunglasses' ? worn : 'none';
      t[wear][1]++;
      if (dump.photoPeople[photoOf(dump.library[best].id)]?.includes(identity)) t[wear][0]++;
    }
    const h = t.none[0] + t.mask[0] + t.sunglasses[0];
    const n = t.none[1] + t.mask[1] + t.sunglasses[1];
    line.push(`  ${name.padEnd(32)} ${((100 * h) / n).toFixed(2)}%  clean ${t.none[0]}/${t.none[1]}, mask ${t.mask[0]}/${t.mask[1]}, sunglasses ${t.sunglasses[0]}/${t.sunglasses[1]}`);
  }
  console.log(
    `${file}: ${dump.queries.length} clean queries, ${faces.length} library faces; directions fitted on ${train.length} lfw-dev photos of people the dump does not show; a photo of the person at rank 1:`,
  );
  for (const l of line) console.log(l);
}

function main(): void {
  const argv = process.argv.slice(2);
  const rs = (argValue(argv, 'r') ?? '0,1,2,4,8').split(',').map(Number);
  const meta = readMeta();
  const rows = meta.images.flatMap((m, i) => (m.ok ? [i] : []));
  const identities = rows.map((r) => meta.images[r].identity);
  const f = fusedRows(rows);
  console.log(`${rows.length} lfw-dev photos with features`);
  if (argv.includes('--cv')) crossValidate(f, identities, rs);
  const at = argv.indexOf('--eval');
  if (at >= 0) for (const file of argv.slice(at + 1).filter((a) => !a.startsWith('--'))) evaluateGroupDump(file, f, identities, rs);
  if (argv.includes('--write')) {
    const all = identities.map((_, i) => i);
    const [fitted] = fits(f, identities, all, [rs[0]]);
    const path = new URL(`../../src/models/damage/${MATCHED_NAP_FILE}`, import.meta.url);
    writeFileSync(path, encodeMatchedNap({ directions: fitted.directions, levels: fitted.levels }));
    console.log(`wrote ${path.pathname}: r ${rs[0]}, levels ${KINDS.map((k) => `${k} ${fitted.levels[k].toFixed(4)}`).join(', ')}`);
  }
}

main();

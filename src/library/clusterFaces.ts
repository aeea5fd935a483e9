/**
 * The library's faces into people (issue 17): average-linkage agglomerative
 * clustering of unit embeddings (similarity = dot product) cut at a
 * similarity threshold, with one cannot-link rule: two faces of the same
 * photo are two people, so clusters that share a photo never merge.
 *
 * Exact, not approximate, at O(E) memory instead of a dense n x n matrix:
 * - The average similarity of clusters A and B is (sum of A) . (sum of B) /
 *   (|A| |B|), so each cluster keeps its sum vector and any pair's average
 *   costs O(dim), whatever the sizes.
 * - Two clusters whose average is >= t have some cross pair >= t (the
 *   maximum is at least the average), so only clusters linked by a face pair
 *   with similarity >= t can ever merge. The links come from a sparse graph
 *   of those pairs, and a merged cluster inherits the links of both halves.
 * - A priority queue holds the linked pairs at or above t, keyed by their
 *   average; merging bumps the survivor's version, which retires every entry
 *   that named the old clusters (lazy deletion), and the merged cluster's
 *   links are pushed again with their new averages.
 * Cost: the pair graph is O(n² dim) time (tiles through the SIMD dot
 * kernel; unavoidable without an approximate index, and the part that
 * dominates: measured in Node on a shared 2-core VM, 1.6 s for 5,023 1536-D
 * faces and 6.0 s for 10,000, against 9 s and 58 s with the scalar float64
 * loops it replaced), or free when the caller passes the pairs (a cache). The merging is O(sum over merges of the merged
 * cluster's links x dim + H log H) for H queue entries: 1.8 s on lfw-dev,
 * 2.4 s for 10,000 synthetic faces. Memory: the pair graph, the queue, and
 * one float64 sum per non-singleton cluster.
 *
 * Deterministic: a cluster is named by its smallest face index, and equal
 * averages merge the pair with the smaller (lower name, higher name) first.
 */
import { AppError } from '../core/errors.ts';
import { DotWorkspace } from '../engine/simd/dotWorkspace.ts';

/** What identifies a face's photo: faces with equal keys are never one person. */
export type PhotoKey = string | number;

export interface FaceClustering {
  /** Person of each face: dense ids, 0 the largest person, equal sizes in order of their first face. */
  readonly clusterOf: Int32Array;
  /** How many people. */
  readonly count: number;
}

/** A sparse similarity graph: face pairs (a[k] < b[k]) and their dot products. */
export interface SimilarPairs {
  readonly a: Int32Array;
  readonly b: Int32Array;
  readonly similarity: Float64Array;
}

export interface ClusterInput {
  /** n x dim unit rows. */
  readonly embeddings: Float32Array;
  readonly dim: number;
  /** The photo of each face. */
  readonly photoOf: readonly PhotoKey[];
  /** Clusters merge while their average pairwise similarity is >= this. */
  readonly threshold: number;
  /**
   * Every face pair with similarity >= threshold (pairs below it are
   * ignored, so a graph built for a lower threshold serves any higher one);
   * built with similarPairs when absent. A pair missing from it can keep two
   * people apart that should have merged.
   */
  readonly pairs?: SimilarPairs;
}

/** Rows are checked to be unit length to this much (float32 rounding is ~1e-7). */
const UNIT_TOLERANCE = 1e-3;
/** Pairs a little below the threshold are kept so float rounding in the blocked sums never drops one that belongs. */
const PAIR_MARGIN = 1e-6;
/** Rows per tile of the pair search: 2 x 64 rows of 1536 floats (768 kB) stay in L2 while every pair between them is scored. */
const TILE = 64;
/** The SIMD screen's float32 sums may be this much below the exact score (see similarPairs). */
const SCREEN_MARGIN = 1e-4;

const FEATURES_HINT = 'Pass L2-normalised embeddings, one row per face; extract the faces again if they are corrupt.';

function requireEmbeddings(embeddings: Float32Array, dim: number, what: string): number {
  if (!Number.isInteger(dim) || dim < 1) throw new AppError('invalid-argument', `${what}: dim must be a positive integer, got ${dim}`, FEATURES_HINT);
  if (embeddings.length % dim !== 0) {
    throw new AppError('invalid-argument', `${what}: ${embeddings.length} floats are not whole rows of ${dim}`, FEATURES_HINT);
  }
  const n = embeddings.length / dim;
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let d = i * dim; d < (i + 1) * dim; d++) ss += embeddings[d] * embeddings[d];
    if (!Number.isFinite(ss)) throw new AppError('invalid-vector', `${what}: face ${i} has a non-finite value`, FEATURES_HINT);
    if (Math.abs(ss - 1) > UNIT_TOLERANCE) throw new AppError('invalid-vector', `${what}: face ${i} is not unit length (norm ${Math.sqrt(ss)})`, FEATURES_HINT);
  }
  return n;
}

function requirePhotos(photoOf: readonly PhotoKey[], n: number, what: string): void {
  if (photoOf.length !== n) {
    throw new AppError('invalid-argument', `${what}: ${photoOf.length} photo keys for ${n} faces`, 'Pass one photo key per face, in the order of the embedding rows.');
  }
}

function requireThreshold(threshold: number): void {
  if (!Number.isFinite(threshold) || threshold < -1 || threshold > 1) {
    throw new AppError('invalid-argument', `the clustering threshold must be a similarity in [-1, 1], got ${threshold}`, 'Pass a cosine similarity threshold.');
  }
}

/** Photo keys as dense ints, so photo sets are sets of numbers. */
function photoIds(photoOf: readonly PhotoKey[]): Int32Array {
  const idOf = new Map<PhotoKey, number>();
  return Int32Array.from(photoOf, (key) => {
    let id = idOf.get(key);
    if (id === undefined) idOf.set(key, (id = idOf.size));
    return id;
  });
}

function dot(x: Float32Array | Float64Array, xo: number, y: Float32Array | Float64Array, yo: number, dim: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let d = 0;
  for (; d + 4 <= dim; d += 4) {
    s0 += x[xo + d] * y[yo + d];
    s1 += x[xo + d + 1] * y[yo + d + 1];
    s2 += x[xo + d + 2] * y[yo + d + 2];
    s3 += x[xo + d + 3] * y[yo + d + 3];
  }
  for (; d < dim; d++) s0 += x[xo + d] * y[yo + d];
  return s0 + s1 + s2 + s3;
}

/**
 * Every pair of rows with dot product >= minSimilarity, O(pairs) memory.
 * O(n² dim) time: tiles of rows go through the engine's SIMD dot kernel
 * (float32 sums, DotWorkspace), which screens at minSimilarity -
 * SCREEN_MARGIN; each pair that passes is scored again in float64 and kept
 * by that score, so the result is what float64 sums over all pairs give.
 * Float32 sums of 1536 unit-row products are off by < 3e-5 (4 lanes of
 * 384 terms, |error| <= 384 x 2^-24 x sum |x_d y_d| <= 2.3e-5), well inside
 * the margin, so the screen drops no pair that belongs.
 */
export function similarPairs(embeddings: Float32Array, dim: number, minSimilarity: number): SimilarPairs {
  const n = requireEmbeddings(embeddings, dim, 'similarPairs');
  if (Number.isNaN(minSimilarity)) throw new AppError('invalid-argument', 'similarPairs: minSimilarity is NaN', 'Pass a cosine similarity.');
  const a: number[] = [];
  const b: number[] = [];
  const similarity: number[] = [];
  const screen = minSimilarity - SCREEN_MARGIN;
  const ws = new DotWorkspace();
  const rowsAt = 0;
  const colsAt = TILE * dim;
  const outAt = 2 * TILE * dim;
  ws.reserve(outAt + TILE * TILE);
  const data = ws.data;
  for (let i0 = 0; i0 < n; i0 += TILE) {
    const ni = Math.min(TILE, n - i0);
    data.set(embeddings.subarray(i0 * dim, (i0 + ni) * dim), rowsAt);
    for (let j0 = i0; j0 < n; j0 += TILE) {
      const nj = Math.min(TILE, n - j0);
      data.set(embeddings.subarray(j0 * dim, (j0 + nj) * dim), colsAt);
      ws.dots(rowsAt, ni, colsAt, nj, dim, outAt, TILE);
      for (let i = 0; i < ni; i++) {
        // In the diagonal tile only j > i: each pair once.
        for (let j = j0 === i0 ? i + 1 : 0; j < nj; j++) {
          if (!(data[outAt + i * TILE + j] >= screen)) continue;
          const s = dot(embeddings, (i0 + i) * dim, embeddings, (j0 + j) * dim, dim);
          if (s >= minSimilarity) {
            a.push(i0 + i);
            b.push(j0 + j);
            similarity.push(s);
          }
        }
      }
    }
  }
  return { a: Int32Array.from(a), b: Int32Array.from(b), similarity: Float64Array.from(similarity) };
}

interface Merge {
  readonly score: number;
  /** The two clusters by name (lo < hi) and their versions when the entry was made. */
  readonly lo: number;
  readonly hi: number;
  readonly loVersion: number;
  readonly hiVersion: number;
}

/** Larger average first, then the smaller (lo, hi) cluster names. */
function before(x: Merge, y: Merge): boolean {
  if (x.score !== y.score) return x.score > y.score;
  if (x.lo !== y.lo) return x.lo < y.lo;
  return x.hi < y.hi;
}

/** Binary max-heap of candidate merges. */
class MergeQueue {
  private readonly heap: Merge[] = [];

  push(entry: Merge): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const up = (i - 1) >> 1;
      if (!before(entry, heap[up])) break;
      heap[i] = heap[up];
      i = up;
    }
    heap[i] = entry;
  }

  pop(): Merge | undefined {
    const heap = this.heap;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0 || last === undefined) return top;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= heap.length) break;
      const child = l + 1 < heap.length && before(heap[l + 1], heap[l]) ? l + 1 : l;
      if (!before(heap[child], last)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = last;
    return top;
  }
}

/** Dense ids from the root of each face: largest cluster first, ties in order of first face. */
function denseBySize(rootOf: Int32Array): FaceClustering {
  const n = rootOf.length;
  const size = new Int32Array(n);
  for (let i = 0; i < n; i++) size[rootOf[i]]++;
  const roots: number[] = [];
  for (let i = 0; i < n; i++) if (rootOf[i] === i) roots.push(i);
  // A root is its cluster's smallest face, so ordering roots orders clusters by first face.
  roots.sort((x, y) => size[y] - size[x] || x - y);
  const idOfRoot = new Int32Array(n);
  roots.forEach((root, id) => (idOfRoot[root] = id));
  return { clusterOf: Int32Array.from(rootOf, (root) => idOfRoot[root]), count: roots.length };
}

function setsIntersect(x: ReadonlySet<number>, y: ReadonlySet<number>): boolean {
  const [small, large] = x.size <= y.size ? [x, y] : [y, x];
  for (const v of small) if (large.has(v)) return true;
  return false;
}

/** Average-linkage clustering of faces into people with the same-photo rule (see the file comment). */
export function clusterFaces(input: ClusterInput): FaceClustering {
  const { embeddings, dim, threshold } = input;
  const n = requireEmbeddings(embeddings, dim, 'clusterFaces');
  requirePhotos(input.photoOf, n, 'clusterFaces');
  requireThreshold(threshold);
  const pairs = input.pairs ?? similarPairs(embeddings, dim, threshold - PAIR_MARGIN);
  if (pairs.a.length !== pairs.b.length || pairs.a.length !== pairs.similarity.length) {
    throw new AppError('invalid-argument', 'clusterFaces: the pair graph has lists of different lengths', 'Pass the graph similarPairs returns.');
  }
  const photo = photoIds(input.photoOf);

  // Per cluster, under the name of its smallest face (the root): size, version, sum vector
  // (null while a singleton: its row is the sum), photos, linked clusters.
  const parent = Int32Array.from({ length: n }, (_, i) => i);
  const size = new Float64Array(n).fill(1);
  const version = new Int32Array(n);
  const sums: (Float64Array | null)[] = new Array<Float64Array | null>(n).fill(null);
  const photos: Set<number>[] = Array.from({ length: n }, (_, i) => new Set([photo[i]]));
  const links: Set<number>[] = Array.from({ length: n }, () => new Set<number>());

  const average = (x: number, y: number): number => {
    const sx = sums[x];
    const sy = sums[y];
    const s = dot(sx ?? embeddings, sx ? 0 : x * dim, sy ?? embeddings, sy ? 0 : y * dim, dim);
    return s / (size[x] * size[y]);
  };
  const queue = new MergeQueue();
  const offer = (x: number, y: number): void => {
    const [lo, hi] = x < y ? [x, y] : [y, x];
    const avg = average(lo, hi);
    if (avg >= threshold) queue.push({ score: avg, lo, hi, loVersion: version[lo], hiVersion: version[hi] });
  };

  for (let k = 0; k < pairs.a.length; k++) {
    const i = pairs.a[k];
    const j = pairs.b[k];
    if (!(Number.isInteger(i) && Number.isInteger(j) && i >= 0 && j >= 0 && i < n && j < n && i !== j)) {
      throw new AppError('invalid-argument', `clusterFaces: pair ${k} (${i}, ${j}) is not two distinct faces of ${n}`, 'Pass the graph similarPairs returns for these embeddings.');
    }
    if (pairs.similarity[k] < threshold - PAIR_MARGIN || photo[i] === photo[j] || links[i].has(j)) continue;
    links[i].add(j);
    links[j].add(i);
    offer(i, j);
  }

  for (let entry = queue.pop(); entry; entry = queue.pop()) {
    const { lo, hi, loVersion, hiVersion } = entry;
    if (parent[lo] !== lo || parent[hi] !== hi || version[lo] !== loVersion || version[hi] !== hiVersion) continue;
    // Merge hi into lo: lo stays the smallest face of the union.
    parent[hi] = lo;
    version[lo]++;
    const sum = sums[lo] ?? Float64Array.from(embeddings.subarray(lo * dim, (lo + 1) * dim));
    const hiSum = sums[hi];
    for (let d = 0; d < dim; d++) sum[d] += hiSum ? hiSum[d] : embeddings[hi * dim + d];
    sums[lo] = sum;
    sums[hi] = null;
    size[lo] += size[hi];
    const [smallPhotos, largePhotos] = photos[lo].size >= photos[hi].size ? [photos[hi], photos[lo]] : [photos[lo], photos[hi]];
    for (const p of smallPhotos) largePhotos.add(p);
    photos[lo] = largePhotos;
    photos[hi] = new Set();
    for (const c of links[hi]) {
      links[c].delete(hi);
      if (c !== lo) {
        links[c].add(lo);
        links[lo].add(c);
      }
    }
    links[lo].delete(hi);
    links[hi] = new Set();
    for (const c of [...links[lo]]) {
      // A shared photo stays shared as clusters grow: the link is dead for good.
      if (setsIntersect(photos[lo], photos[c])) {
        links[lo].delete(c);
        links[c].delete(lo);
      } else {
        offer(lo, c);
      }
    }
  }

  const rootOf = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let r = i;
    while (parent[r] !== r) r = parent[r];
    rootOf[i] = r;
  }
  return denseBySize(rootOf);
}

export interface PeopleLibrary {
  /** n x dim unit rows of the faces already in people. */
  readonly embeddings: Float32Array;
  readonly dim: number;
  readonly photoOf: readonly PhotoKey[];
  /** Person id of each face (ids need not be dense; a missing id is a person with no faces). */
  readonly clusterOf: ArrayLike<number>;
}

export interface NewFaces {
  /** m x dim unit rows, the library's dim. */
  readonly embeddings: Float32Array;
  readonly photoOf: readonly PhotoKey[];
}

/**
 * New faces join existing people without re-clustering the library. A face
 * joins the person whose faces it is most similar to on average, if that
 * average is >= threshold (the test average linkage applies to a singleton)
 * and the person has no face of its photo yet; pairs are taken best first
 * over the whole batch, so two faces of one new photo cannot both join one
 * person. The people's faces are those of the library only: what joins in
 * this batch does not move the averages, so the result does not depend on
 * the order of the new faces. Faces that join nobody are clustered among
 * themselves (clusterFaces) into new people, numbered from max id + 1,
 * largest first.
 * Cost: O(m n dim) for m new faces against n library faces, O(people) memory.
 */
export function assignNewFaces(library: PeopleLibrary, added: NewFaces, threshold: number): FaceClustering {
  const { dim } = library;
  const n = requireEmbeddings(library.embeddings, dim, 'assignNewFaces (library)');
  const m = requireEmbeddings(added.embeddings, dim, 'assignNewFaces (new faces)');
  requirePhotos(library.photoOf, n, 'assignNewFaces (library)');
  requirePhotos(added.photoOf, m, 'assignNewFaces (new faces)');
  requireThreshold(threshold);
  if (library.clusterOf.length !== n) {
    throw new AppError('invalid-argument', `assignNewFaces: ${library.clusterOf.length} person ids for ${n} library faces`, 'Pass the clustering of the same library faces.');
  }
  let people = 0;
  for (let i = 0; i < n; i++) {
    const id = library.clusterOf[i];
    if (!Number.isInteger(id) || id < 0) {
      throw new AppError('invalid-argument', `assignNewFaces: library face ${i} has person id ${id}`, 'Person ids are non-negative integers, as clusterFaces returns them.');
    }
    people = Math.max(people, id + 1);
  }

  const personSize = new Float64Array(people);
  const personPhotos = Array.from({ length: people }, () => new Set<PhotoKey>());
  for (let i = 0; i < n; i++) {
    personSize[library.clusterOf[i]]++;
    personPhotos[library.clusterOf[i]].add(library.photoOf[i]);
  }
  const candidates: { score: number; face: number; person: number }[] = [];
  const similaritySum = new Float64Array(people);
  for (let f = 0; f < m; f++) {
    similaritySum.fill(0);
    for (let i = 0; i < n; i++) similaritySum[library.clusterOf[i]] += dot(added.embeddings, f * dim, library.embeddings, i * dim, dim);
    for (let p = 0; p < people; p++) {
      const score = personSize[p] > 0 ? similaritySum[p] / personSize[p] : -Infinity;
      if (score >= threshold) candidates.push({ score, face: f, person: p });
    }
  }
  candidates.sort((x, y) => y.score - x.score || x.face - y.face || x.person - y.person);

  const clusterOf = new Int32Array(m).fill(-1);
  for (const { face, person } of candidates) {
    if (clusterOf[face] >= 0 || personPhotos[person].has(added.photoOf[face])) continue;
    clusterOf[face] = person;
    personPhotos[person].add(added.photoOf[face]);
  }

  const left: number[] = [];
  for (let f = 0; f < m; f++) if (clusterOf[f] < 0) left.push(f);
  const leftEmbeddings = new Float32Array(left.length * dim);
  left.forEach((f, k) => leftEmbeddings.set(added.embeddings.subarray(f * dim, (f + 1) * dim), k * dim));
  const fresh = clusterFaces({ embeddings: leftEmbeddings, dim, photoOf: left.map((f) => added.photoOf[f]), threshold });
  left.forEach((f, k) => (clusterOf[f] = people + fresh.clusterOf[k]));
  return { clusterOf, count: people + fresh.count };
}

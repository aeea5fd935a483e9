/**
 * clusterFaces and assignNewFaces on seeded synthetic embeddings: known
 * groups come back, the same-photo rule holds, output is deterministic, and
 * on small inputs the clustering equals a brute-force average linkage
 * written here from the definition (every pair's dot product, O(n³)).
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom, type RandomSource } from '../../../src/core/random.ts';
import { assignNewFaces, clusterFaces, similarPairs, type PhotoKey } from '../../../src/library/clusterFaces.ts';
import { gaussian } from '../engine/references.ts';

function normalised(v: readonly number[]): number[] {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return v.map((x) => x / norm);
}

function randomDirection(rand: RandomSource, dim: number): number[] {
  return normalised(Array.from({ length: dim }, () => gaussian(rand)));
}

/** A face of the person at `center`: the center plus isotropic noise of `noise` per coordinate, unit length. */
function faceNear(rand: RandomSource, center: readonly number[], noise: number): number[] {
  return normalised(center.map((x) => x + noise * gaussian(rand)));
}

function rows(vectors: readonly (readonly number[])[]): Float32Array {
  return Float32Array.from(vectors.flat());
}

/** Labels renamed to 0, 1, ... in order of first appearance, so two partitions compare with toEqual. */
function canonical(labels: ArrayLike<number>): number[] {
  const idOf = new Map<number, number>();
  return Array.from(labels, (l) => {
    if (!idOf.has(l)) idOf.set(l, idOf.size);
    return idOf.get(l) ?? -1;
  });
}

function dot64(e: Float32Array, dim: number, i: number, j: number): number {
  let s = 0;
  for (let d = 0; d < dim; d++) s += e[i * dim + d] * e[j * dim + d];
  return s;
}

/**
 * Average linkage from the definition: among cluster pairs with no photo in common, merge the one with the
 * largest mean pairwise dot product (ties: smaller (lowest face, lowest face) pair first) while it is >= threshold.
 */
function referenceAverageLinkage(e: Float32Array, dim: number, photoOf: readonly PhotoKey[], threshold: number): number[] {
  const n = e.length / dim;
  let clusters: number[][] = Array.from({ length: n }, (_, i) => [i]);
  for (;;) {
    let best: { avg: number; x: number; y: number } | null = null;
    for (let x = 0; x < clusters.length; x++) {
      for (let y = x + 1; y < clusters.length; y++) {
        const cx = clusters[x];
        const cy = clusters[y];
        if (cx.some((i) => cy.some((j) => photoOf[i] === photoOf[j]))) continue;
        let sum = 0;
        for (const i of cx) for (const j of cy) sum += dot64(e, dim, i, j);
        const avg = sum / (cx.length * cy.length);
        const key = [Math.min(cx[0], cy[0]), Math.max(cx[0], cy[0])];
        const bestKey = best ? [Math.min(clusters[best.x][0], clusters[best.y][0]), Math.max(clusters[best.x][0], clusters[best.y][0])] : null;
        if (!best || !bestKey || avg > best.avg || (avg === best.avg && (key[0] < bestKey[0] || (key[0] === bestKey[0] && key[1] < bestKey[1])))) {
          best = { avg, x, y };
        }
      }
    }
    if (!best || best.avg < threshold) break;
    const merged = [...clusters[best.x], ...clusters[best.y]].sort((a, b) => a - b);
    clusters = clusters.filter((_, k) => k !== best.x && k !== best.y);
    clusters.push(merged);
    clusters.sort((a, b) => a[0] - b[0]);
  }
  const label = new Array<number>(n);
  clusters.forEach((c, k) => c.forEach((i) => (label[i] = k)));
  return label;
}

/** `groups` people of `perGroup` faces each in `dim` dimensions; faces are listed person by person. */
function groupedFaces(seed: number, groups: number, perGroup: number, dim: number, noise: number): { e: Float32Array; truth: number[] } {
  const rand = seededRandom(seed);
  const vectors: number[][] = [];
  const truth: number[] = [];
  for (let g = 0; g < groups; g++) {
    const center = randomDirection(rand, dim);
    for (let k = 0; k < perGroup; k++) {
      vectors.push(faceNear(rand, center, noise));
      truth.push(g);
    }
  }
  return { e: rows(vectors), truth };
}

describe('clusterFaces', () => {
  it('recovers well-separated people, largest first', () => {
    const dim = 64;
    const rand = seededRandom(3);
    const vectors: number[][] = [];
    const truth: number[] = [];
    // People of 2..9 faces, shuffled so faces of one person are not adjacent.
    for (let g = 0; g < 8; g++) {
      const center = randomDirection(rand, dim);
      for (let k = 0; k < g + 2; k++) {
        vectors.push(faceNear(rand, center, 0.08));
        truth.push(g);
      }
    }
    const order = vectors.map((_, i) => i).sort((a, b) => Math.sin(a * 12.9898) - Math.sin(b * 12.9898));
    const e = rows(order.map((i) => vectors[i]));
    const gold = order.map((i) => truth[i]);
    const got = clusterFaces({ embeddings: e, dim, photoOf: gold.map((_, i) => i), threshold: 0.5 });
    expect(got.count).toBe(8);
    expect(canonical(got.clusterOf)).toEqual(canonical(gold));
    // Person g has g + 2 faces, so id 0 is person 7 (9 faces) and id 7 is person 0.
    gold.forEach((g, i) => expect(got.clusterOf[i]).toBe(7 - g));
  });

  it('never puts two faces of one photo in a person, even near-identical ones', () => {
    const dim = 32;
    const rand = seededRandom(5);
    const center = randomDirection(rand, dim);
    const faces = [faceNear(rand, center, 0.001), faceNear(rand, center, 0.001), faceNear(rand, center, 0.05), faceNear(rand, center, 0.05)];
    const e = rows(faces);
    const separate = clusterFaces({ embeddings: e, dim, photoOf: ['a', 'b', 'c', 'd'], threshold: 0.5 });
    expect(separate.count).toBe(1);
    const samePhoto = clusterFaces({ embeddings: e, dim, photoOf: ['a', 'a', 'c', 'd'], threshold: 0.5 });
    expect(samePhoto.clusterOf[0]).not.toBe(samePhoto.clusterOf[1]);
    expect(samePhoto.count).toBe(2);
  });

  it('breaks exact ties by face index', () => {
    const dim = 8;
    const v = randomDirection(seededRandom(9), dim);
    // Three identical faces; 1 and 2 share a photo. (0,1) and (0,2) tie: (0,1) goes first, then 2 may not join.
    const got = clusterFaces({ embeddings: rows([v, v, v]), dim, photoOf: [0, 1, 1], threshold: 0.9 });
    expect(Array.from(got.clusterOf)).toEqual([0, 0, 1]);
  });

  it('is deterministic', () => {
    const { e } = groupedFaces(11, 12, 6, 48, 0.2);
    const photoOf = Array.from({ length: e.length / 48 }, (_, i) => i % 30);
    const a = clusterFaces({ embeddings: e, dim: 48, photoOf, threshold: 0.35 });
    const b = clusterFaces({ embeddings: e, dim: 48, photoOf, threshold: 0.35 });
    expect(Array.from(a.clusterOf)).toEqual(Array.from(b.clusterOf));
    expect(a.count).toBe(b.count);
  });

  it('equals brute-force average linkage on small inputs, with the pair graph built inside or passed in', () => {
    const rand = seededRandom(21);
    let merged = 0;
    for (let trial = 0; trial < 30; trial++) {
      const dim = 8 + Math.floor(rand() * 24);
      const groups = 1 + Math.floor(rand() * 6);
      const n = 5 + Math.floor(rand() * 36);
      const centers = Array.from({ length: groups }, () => randomDirection(rand, dim));
      // Noise from tight to loose, so merges happen at many heights and some groups are ambiguous.
      const noise = 0.05 + rand() * 0.4;
      const vectors = Array.from({ length: n }, () => faceNear(rand, centers[Math.floor(rand() * groups)], noise));
      const e = rows(vectors);
      const photoOf = Array.from({ length: n }, () => Math.floor(rand() * n * 0.7));
      const threshold = 0.2 + rand() * 0.6;
      const expected = referenceAverageLinkage(e, dim, photoOf, threshold);
      const got = clusterFaces({ embeddings: e, dim, photoOf, threshold });
      expect(canonical(got.clusterOf), `trial ${trial}`).toEqual(canonical(expected));
      const viaLowerGraph = clusterFaces({ embeddings: e, dim, photoOf, threshold, pairs: similarPairs(e, dim, threshold - 0.3) });
      expect(Array.from(viaLowerGraph.clusterOf)).toEqual(Array.from(got.clusterOf));
      merged += n - got.count;
    }
    // The trials must exercise merging, not just singletons.
    expect(merged).toBeGreaterThan(100);
  });

  it('similarPairs lists exactly the pairs at or above the bound', () => {
    const dim = 16;
    const rand = seededRandom(4);
    // Odd, so the last row goes through the single-row path of the 2 x 2 kernel.
    const n = 71;
    const e = rows(Array.from({ length: n }, () => randomDirection(rand, dim)));
    const got = similarPairs(e, dim, 0.3);
    const listed = new Set(Array.from(got.a, (a, k) => `${a},${got.b[k]}`));
    let expected = 0;
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const s = dot64(e, dim, i, j);
        if (Math.abs(s - 0.3) < 1e-9) continue;
        expect(listed.has(`${i},${j}`), `${i},${j} at ${s}`).toBe(s >= 0.3);
        if (s >= 0.3) expected++;
      }
    }
    expect(got.a.length).toBe(expected);
    got.similarity.forEach((s, k) => expect(s).toBeCloseTo(dot64(e, dim, got.a[k], got.b[k]), 12));
  });

  it('similarPairs keeps pairs within 1e-6 of the bound exactly as float64 sums decide (its SIMD screen sums in float32)', () => {
    const dim = 1536;
    const t = 0.54;
    const rand = seededRandom(9);
    const pairs = 150;
    const vectors: number[][] = [];
    for (let p = 0; p < pairs; p++) {
      const x = randomDirection(rand, dim);
      const z0 = randomDirection(rand, dim);
      // z: the part of z0 orthogonal to x, so y = c x + sqrt(1 - c^2) z has cosine c with x.
      const along = z0.reduce((s, v, d) => s + v * x[d], 0);
      const z = normalised(z0.map((v, d) => v - along * x[d]));
      const c = t + (rand() - 0.5) * 4e-7;
      vectors.push(x, normalised(x.map((v, d) => c * v + Math.sqrt(1 - c * c) * z[d])));
    }
    const e = rows(vectors);
    const got = similarPairs(e, dim, t);
    const listed = new Set(Array.from(got.a, (a, k) => `${a},${got.b[k]}`));
    let near = 0;
    for (let p = 0; p < pairs; p++) {
      const s = dot64(e, dim, 2 * p, 2 * p + 1);
      if (Math.abs(s - t) < 1e-6) near++;
      expect(listed.has(`${2 * p},${2 * p + 1}`), `pair ${p} at ${s}`).toBe(s >= t);
    }
    expect(near).toBeGreaterThan(pairs / 2);
  });

  it('refuses malformed input', () => {
    const e = rows([normalised([1, 2, 3, 4]), normalised([4, 3, 2, 1])]);
    const ok = { embeddings: e, dim: 4, photoOf: [0, 1], threshold: 0.5 };
    expect(() => clusterFaces({ ...ok, photoOf: [0] })).toThrow(AppError);
    expect(() => clusterFaces({ ...ok, dim: 3 })).toThrow(AppError);
    expect(() => clusterFaces({ ...ok, threshold: 1.5 })).toThrow(AppError);
    expect(() => clusterFaces({ ...ok, threshold: Number.NaN })).toThrow(AppError);
    expect(() => clusterFaces({ ...ok, embeddings: Float32Array.from([1, 2, 3, 4, 0, 0, 0, 1]) })).toThrow(/not unit length/);
    expect(() => clusterFaces({ ...ok, embeddings: Float32Array.from([Number.NaN, 0, 0, 1, 0, 0, 0, 1]) })).toThrow(/non-finite/);
    expect(() => clusterFaces({ ...ok, pairs: { a: Int32Array.of(0), b: Int32Array.of(2), similarity: Float64Array.of(1) } })).toThrow(AppError);
  });
});

describe('assignNewFaces', () => {
  const dim = 32;
  const rand = seededRandom(13);
  const centers = Array.from({ length: 4 }, () => randomDirection(rand, dim));
  // People 0..3 with 5, 4, 3, 2 faces of distinct photos.
  const libraryVectors = centers.flatMap((c, p) => Array.from({ length: 5 - p }, () => faceNear(rand, c, 0.1)));
  const library = clusterFaces({ embeddings: rows(libraryVectors), dim, photoOf: libraryVectors.map((_, i) => `lib-${i}`), threshold: 0.5 });
  const libraryIn = { embeddings: rows(libraryVectors), dim, photoOf: libraryVectors.map((_, i) => `lib-${i}`), clusterOf: library.clusterOf };

  it('library: the four people come back', () => {
    expect(library.count).toBe(4);
  });

  it('joins the person with the best average similarity, by brute force', () => {
    const added = [faceNear(rand, centers[2], 0.1), faceNear(rand, centers[0], 0.1), faceNear(rand, centers[3], 0.1)];
    const got = assignNewFaces(libraryIn, { embeddings: rows(added), photoOf: ['n0', 'n1', 'n2'] }, 0.5);
    const e = rows([...libraryVectors, ...added]);
    added.forEach((_, f) => {
      let best = -1;
      let bestAvg = -Infinity;
      for (let p = 0; p < library.count; p++) {
        const members = libraryVectors.flatMap((_, i) => (library.clusterOf[i] === p ? [i] : []));
        const avg = members.reduce((s, i) => s + dot64(e, dim, libraryVectors.length + f, i), 0) / members.length;
        if (avg > bestAvg) [best, bestAvg] = [p, avg];
      }
      expect(bestAvg).toBeGreaterThan(0.5);
      expect(got.clusterOf[f]).toBe(best);
    });
    expect(got.count).toBe(4);
  });

  it('two faces of one new photo never join one person; strangers become new people, together when alike', () => {
    const stranger = randomDirection(rand, dim);
    const added = [faceNear(rand, centers[1], 0.02), faceNear(rand, centers[1], 0.1), faceNear(rand, stranger, 0.05), faceNear(rand, stranger, 0.05), randomDirection(rand, dim)];
    const person1 = library.clusterOf[5];
    const got = assignNewFaces(libraryIn, { embeddings: rows(added), photoOf: ['p', 'p', 'q', 'r', 's'] }, 0.5);
    // The closer face of photo p joins person 1; its sibling may not, and nobody else is near it.
    expect(got.clusterOf[0]).toBe(person1);
    expect(got.clusterOf[1]).toBeGreaterThanOrEqual(4);
    // The stranger's two photos form one new person of 2 (id 4, the largest new one); the others are singletons.
    expect(got.clusterOf[2]).toBe(4);
    expect(got.clusterOf[3]).toBe(4);
    expect(new Set([got.clusterOf[1], got.clusterOf[4]])).toEqual(new Set([5, 6]));
    expect(got.count).toBe(7);
  });

  it('a new face may not join a person that already has a face of its photo', () => {
    const added = [faceNear(rand, centers[0], 0.02)];
    const photoOfPerson0 = libraryIn.photoOf[0];
    const got = assignNewFaces(libraryIn, { embeddings: rows(added), photoOf: [photoOfPerson0] }, 0.5);
    expect(got.clusterOf[0]).toBe(4);
    const free = assignNewFaces(libraryIn, { embeddings: rows(added), photoOf: ['new'] }, 0.5);
    expect(free.clusterOf[0]).toBe(library.clusterOf[0]);
  });

  it('refuses person ids that do not fit the library', () => {
    expect(() => assignNewFaces({ ...libraryIn, clusterOf: [0] }, { embeddings: rows([centers[0]]), photoOf: ['x'] }, 0.5)).toThrow(AppError);
    expect(() => assignNewFaces({ ...libraryIn, clusterOf: libraryIn.clusterOf.map((c) => c - 1) }, { embeddings: rows([centers[0]]), photoOf: ['x'] }, 0.5)).toThrow(AppError);
  });
});

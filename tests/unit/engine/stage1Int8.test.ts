/**
 * Int8CosineIndex against independent float64 computations: its scores are
 * the unit query's dot products with the dequantised codes (quantised here
 * from the format's definition), its top-k is the brute-force top-k over those
 * (ties to the lower index), and on clustered data (a query is another shot of
 * a gallery identity) it ranks as the float32 CosineIndex does. topK's
 * two-pass search (int16 query first, exact rescoring of the rows near the
 * k-th) is checked bit for bit against a float32 emulation of the exact
 * kernel, including rows built so the int16 pass ranks them the wrong way.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { encodeStage1Row } from '../../../src/engine/quant/int8Rows.ts';
import { CosineIndex } from '../../../src/engine/stage1.ts';
import type { Stage1Index } from '../../../src/engine/stage1Index.ts';
import { Int8CosineIndex, int16QueryLevels, quantiseQueryInt16 } from '../../../src/engine/stage1Int8.ts';
import { gaussian } from './references.ts';

/**
 * The row's int8 form in float64: step = fround(max|u| / 127), code = round(u / step), scale = fround(1 / |codes|);
 * values = code * scale; `error` bounds |u_j - value_j| (half a step plus the renormalisation).
 */
function quantised(v: Float32Array): { scale: number; codes: number[]; values: Float64Array; error: number } {
  let ss = 0;
  for (const x of v) ss += x * x;
  const norm = Math.sqrt(ss);
  const unit = Float64Array.from(v, (x) => Math.fround(x / norm));
  let maxAbs = 0;
  for (const u of unit) maxAbs = Math.max(maxAbs, Math.abs(u));
  const step = Math.fround(maxAbs / 127);
  const codes = Array.from(unit, (u) => Math.max(-127, Math.min(127, Math.round(u / step))));
  const scale = Math.fround(1 / Math.sqrt(codes.reduce((a, c) => a + c * c, 0)));
  return { scale, codes, values: Float64Array.from(codes, (c) => c * scale), error: step / 2 + 127 * Math.abs(step - scale) };
}

function unit64(v: Float32Array): Float64Array {
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return Float64Array.from(v, (x) => x / norm);
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/** Float64 brute force over dequantised rows: all scores, sorted best first, ties by index. */
function bruteForce(query: Float32Array, rows: readonly Float32Array[]): { index: number; score: number }[] {
  const q = unit64(query);
  return rows.map((r, index) => ({ index, score: dot(q, quantised(r).values) })).sort((a, b) => b.score - a.score || a.index - b.index);
}

const randomRows = (rand: () => number, n: number, dim: number) => Array.from({ length: n }, () => Float32Array.from({ length: dim }, () => gaussian(rand)));

/** `ids` identities, each a centre plus noise per shot: cosine between shots of one identity ~0.7, of two ~0. */
function clustered(rand: () => number, ids: number, shots: number, dim: number): { gallery: Float32Array[]; queries: Float32Array[] } {
  const centres = randomRows(rand, ids, dim);
  const shot = (c: Float32Array) => c.map((x) => x + 0.65 * gaussian(rand));
  const gallery: Float32Array[] = [];
  const queries: Float32Array[] = [];
  for (const c of centres) {
    for (let s = 0; s < shots; s++) gallery.push(shot(c));
    queries.push(shot(c));
  }
  return { gallery, queries };
}

/** Rows as the index stores them: codes (any int8, -128 included) and a positive float32 scale per row. */
interface Gallery {
  readonly dim: number;
  readonly codes: Int8Array;
  readonly scales: Float32Array;
}

/** The gallery as encodeStage1Row lays rows out (float32 scale, then the codes), for addEncodedRows. */
function encodeGallery(g: Gallery): Uint8Array {
  const n = g.scales.length;
  const out = new Uint8Array(n * (g.dim + 4));
  const view = new DataView(out.buffer);
  for (let i = 0; i < n; i++) {
    view.setFloat32(i * (g.dim + 4), g.scales[i], true);
    out.set(new Uint8Array(g.codes.buffer, i * g.dim, g.dim), i * (g.dim + 4) + 4);
  }
  return out;
}

function indexOf(g: Gallery, forceJs = false): Int8CosineIndex {
  const index = new Int8CosineIndex(g.dim, { forceJs });
  index.addEncodedRows(encodeGallery(g), g.scales.length);
  return index;
}

/** The unit query as the index makes it: float64 norm (summed in order), float32 quotients. */
function unitQuery(v: Float32Array): Float32Array {
  let ss = 0;
  for (const x of v) ss += x * x;
  const norm = Math.sqrt(ss);
  return v.map((x) => x / norm);
}

/**
 * The exact-on-codes score of every row, written from the kernel's definition
 * (int8DotKernel.wat) in float64 rounded to float32 at each step: product
 * fround(u_j * code) into slot j mod 16, the slots added lane-wise as
 * (s0..3 + s4..7) + (s8..11 + s12..15), the lanes as (l0 + l1) + (l2 + l3),
 * then fround(scale * sum).
 */
function exactScores(u: Float32Array, g: Gallery): Float64Array {
  const f = Math.fround;
  const n = g.scales.length;
  const out = new Float64Array(n);
  const slot = new Float64Array(16);
  for (let i = 0; i < n; i++) {
    slot.fill(0);
    for (let j = 0; j < g.dim; j++) slot[j % 16] = f(slot[j % 16] + f(u[j] * g.codes[i * g.dim + j]));
    const lane = [0, 1, 2, 3].map((l) => f(f(slot[l] + slot[l + 4]) + f(slot[l + 8] + slot[l + 12])));
    out[i] = f(g.scales[i] * f(f(lane[0] + lane[1]) + f(lane[2] + lane[3])));
  }
  return out;
}

/** All rows best first, ties to the lower index. */
function ranked(scores: Float64Array): { index: number; score: number }[] {
  return Array.from(scores, (score, index) => ({ index, score })).sort((a, b) => b.score - a.score || a.index - b.index);
}

/** Quantises float rows the way int8Rows.ts defines it (see quantised()). */
function quantisedGallery(rows: readonly Float32Array[]): Gallery {
  const dim = rows[0].length;
  const codes = new Int8Array(rows.length * dim);
  const scales = new Float32Array(rows.length);
  rows.forEach((r, i) => {
    const q = quantised(r);
    scales[i] = q.scale;
    q.codes.forEach((c, j) => (codes[i * dim + j] = c));
  });
  return { dim, codes, scales };
}

/**
 * A query and rows where the int16 first pass orders pairs of rows the wrong
 * way round. The query's first value is Q = int16QueryLevels(dim), so value
 * j quantises to round(x_j) with residual x_j - round(x_j) (up to float32
 * rounding of the unit query). Values 1..4 are 10.45, 20.45, 15.55, 14.55:
 * row b = row a + (0, 1, 1, -1, -1, 0, ...) then scores higher exactly
 * (by 10.45 + 20.45 - 15.55 - 14.55 = +0.8 query steps times the scale) but
 * lower in the first pass (10 + 20 - 16 - 15 = -1 step). The pairs' bases
 * have high codes at value 0, which dominates the score, so pairs fill the
 * top ranks, interleaved with filler rows (some holding -128) and exact
 * duplicates (equal scores: ties to the lower index). Within half of the
 * pairs b comes first (lower index).
 */
function adversarial(rand: () => number, dim: number, pairs: number, fillers: number): { query: Float32Array; gallery: Gallery; pairRows: [number, number][] } {
  const levels = int16QueryLevels(dim);
  const query = Float32Array.from({ length: dim }, () => 30 * gaussian(rand));
  query.set([levels, 10.45, 20.45, 15.55, 14.55], 0);
  const rows: Int8Array[] = [];
  const scales: number[] = [];
  const pairRows: [number, number][] = [];
  const randomCodes = (lo0: number, hi0: number) => {
    const c = Int8Array.from({ length: dim }, () => Math.floor(rand() * 255) - 127);
    c[0] = lo0 + Math.floor(rand() * (hi0 - lo0 + 1));
    // Room for the +-1 changes.
    for (let j = 1; j <= 4; j++) c[j] = Math.max(-126, Math.min(126, c[j]));
    return c;
  };
  const scaleOf = () => Math.fround(0.001 + 0.0005 * rand());
  for (let p = 0; p < pairs; p++) {
    const a = randomCodes(40, 127);
    const b = a.slice();
    b[1]++;
    b[2]++;
    b[3]--;
    b[4]--;
    const s = scaleOf();
    const bFirst = p % 2 === 0;
    pairRows.push(bFirst ? [rows.length, rows.length + 1] : [rows.length + 1, rows.length]);
    rows.push(bFirst ? b : a, bFirst ? a : b);
    scales.push(s, s);
    if (p % 10 === 0) {
      // An exact duplicate of a, later in the gallery.
      rows.push(a.slice());
      scales.push(s);
    }
    for (let f = 0; f < fillers / pairs; f++) {
      const c = randomCodes(-127, 127);
      if (rand() < 0.2) c[5 + Math.floor(rand() * (dim - 5))] = -128;
      rows.push(c);
      scales.push(scaleOf());
    }
  }
  const codes = new Int8Array(rows.length * dim);
  rows.forEach((r, i) => codes.set(r, i * dim));
  return { query, gallery: { dim, codes, scales: Float32Array.from(scales) }, pairRows };
}

describe('Int8CosineIndex', () => {
  it('scores every row as the float64 dot product of the unit query with its dequantised codes (SIMD dims and the JS tail path)', () => {
    const rand = seededRandom(21);
    for (const [n, dim] of [
      [1, 16],
      [37, 40],
      [1200, 512],
    ] as const) {
      const rows = randomRows(rand, n, dim);
      const index = new Int8CosineIndex(dim);
      expect(index.simd).toBe(dim % 16 === 0);
      index.add(rows);
      const q = randomRows(rand, 1, dim)[0];
      const all = index.topK(q, n);
      const want = bruteForce(q, rows);
      expect(all.length).toBe(n);
      const ref = new Map(want.map((w) => [w.index, w.score]));
      for (const g of all) expect(Math.abs(g.score - (ref.get(g.index) ?? Number.NaN))).toBeLessThan(1e-5);
      // The top 25 is the brute force's, position by position (up to float32 near-ties, which these seeds do not have).
      const k = Math.min(25, n);
      const got = index.topK(q, k);
      expect(got.map((g) => g.index)).toEqual(want.slice(0, k).map((w) => w.index));
    }
  });

  it('gives scores bit for bit equal to its JS loop (forceJs) for the same rows', () => {
    const rand = seededRandom(22);
    const dim = 1536;
    const rows = randomRows(rand, 300, dim);
    const simd = new Int8CosineIndex(dim);
    const js = new Int8CosineIndex(dim, { forceJs: true });
    expect(simd.simd).toBe(true);
    expect(js.simd).toBe(false);
    simd.add(rows);
    js.add(rows);
    for (let t = 0; t < 3; t++) {
      const q = randomRows(rand, 1, dim)[0];
      expect(js.topK(q, 300)).toEqual(simd.topK(q, 300));
    }
    expect(js.row(17)).toEqual(simd.row(17));
  });

  it('two-pass topK equals the exact-on-codes brute force bit for bit, k = 1..200, on rows built so the int16 pass misorders them (SIMD and JS dims)', () => {
    const rand = seededRandom(27);
    for (const dim of [1536, 48, 40]) {
      const { query, gallery, pairRows } = adversarial(rand, dim, 140, 1000);
      const n = gallery.scales.length;
      expect(n % 16).not.toBe(0);
      const u = unitQuery(query);
      // The construction works: in the int16 pass (what quantiseQueryInt16 gives topK) every pair is the wrong way round.
      const q16 = new Int16Array(dim);
      quantiseQueryInt16(u, int16QueryLevels(dim), q16);
      const approx = (i: number) => gallery.scales[i] * q16.reduce((s, q, j) => s + q * gallery.codes[i * dim + j], 0);
      const exact = exactScores(u, gallery);
      const misordered = pairRows.filter(([better, worse]) => exact[better] > exact[worse] && approx(better) < approx(worse));
      expect(misordered.length).toBe(pairRows.length);

      const want = ranked(exact);
      const index = indexOf(gallery);
      expect(index.simd).toBe(dim % 16 === 0);
      const js = indexOf(gallery, true);
      for (let k = 1; k <= 200; k++) {
        const got = index.topK(query, k);
        expect(got).toEqual(want.slice(0, k));
        if (k % 13 === 0 || k === 200) expect(js.topK(query, k)).toEqual(got);
      }
      // k >= size takes the one exact pass: the same scores again.
      expect(index.topK(query, n + 5)).toEqual(want);
    }
  });

  it('two-pass topK equals the brute force bit for bit on clustered unit rows (the k-th score in a dense band), after removals too, and forceJs equals SIMD', () => {
    const rand = seededRandom(28);
    const dim = 1536;
    const { gallery: rows, queries } = clustered(rand, 150, 8, dim);
    const gallery = quantisedGallery(rows.slice(0, 1203));
    const index = indexOf(gallery);
    const js = indexOf(gallery, true);
    expect(index.simd).toBe(true);
    for (const q of queries.slice(0, 6)) {
      const want = ranked(exactScores(unitQuery(q), gallery));
      for (const k of [1, 2, 3, 7, 10, 50, 99, 100, 101, 200]) {
        const got = index.topK(q, k);
        expect(got).toEqual(want.slice(0, k));
        expect(js.topK(q, k)).toEqual(got);
      }
    }
    // Remove the rows with the largest scale * sum|code| (the bound's W) and some others: results stay exact for the rest.
    const drop = [3, 4, 5, 600, 1202];
    index.removeRows(drop);
    const keep = Array.from({ length: gallery.scales.length }, (_, i) => i).filter((i) => !drop.includes(i));
    const kept: Gallery = {
      dim,
      codes: Int8Array.from(keep.flatMap((i) => Array.from(gallery.codes.subarray(i * dim, (i + 1) * dim)))),
      scales: Float32Array.from(keep, (i) => gallery.scales[i]),
    };
    const q = queries[7];
    expect(index.topK(q, 60)).toEqual(ranked(exactScores(unitQuery(q), kept)).slice(0, 60));
  });

  it('add (quantising here) and addEncodedRows give the same two-pass results as the brute force on the codes add made', () => {
    const rand = seededRandom(29);
    const dim = 256;
    const rows = randomRows(rand, 333, dim);
    const index = new Int8CosineIndex(dim);
    index.add(rows.slice(0, 100));
    index.add(rows.slice(100));
    // Read the codes back through row(): row(i) = code * scale, and code = row(i)_j / scale exactly (|code| <= 127, scale a float32).
    const scales = Float32Array.from(rows, (r) => quantised(r).scale);
    const codes = new Int8Array(333 * dim);
    for (let i = 0; i < 333; i++) index.row(i).forEach((v, j) => (codes[i * dim + j] = Math.round(v / scales[i])));
    const q = randomRows(rand, 1, dim)[0];
    const want = ranked(exactScores(unitQuery(q), { dim, codes, scales }));
    for (const k of [1, 5, 32, 332]) expect(index.topK(q, k)).toEqual(want.slice(0, k));
  });

  it('ranks like the float32 CosineIndex: same top-1 for >= 99.5% of queries when the nearest row stands out, and every disagreement within the quantisation bound', () => {
    const rand = seededRandom(23);
    const dim = 512;
    // shots = 1: the query's nearest row is clearly ahead; shots = 4: four near shots of its identity compete for first place.
    for (const shots of [1, 4]) {
      const { gallery, queries } = clustered(rand, 400, shots, dim);
      const int8 = new Int8CosineIndex(dim);
      const f32 = new CosineIndex(dim);
      int8.add(gallery);
      f32.add(gallery);
      const errors = gallery.map((g) => quantised(g).error);
      let sameTop1 = 0;
      let sameIdentity = 0;
      let overlap = 0;
      for (const q of queries) {
        const a = int8.topK(q, 10);
        const b = f32.topK(q, 10);
        if (a[0].index === b[0].index) sameTop1++;
        else {
          // Each int8 score is within error_i * ||q||_1 of the float one, so the float scores of the two winners differ by at most the sum.
          const u = unit64(q);
          const l1 = u.reduce((s, x) => s + Math.abs(x), 0);
          const floatScore = (i: number) => dot(u, unit64(gallery[i]));
          const bound = (errors[a[0].index] + errors[b[0].index]) * l1 + 1e-6;
          expect(floatScore(b[0].index) - floatScore(a[0].index)).toBeLessThanOrEqual(bound);
        }
        if (Math.floor(a[0].index / shots) === Math.floor(b[0].index / shots)) sameIdentity++;
        const set = new Set(b.map((x) => x.index));
        overlap += a.filter((x) => set.has(x.index)).length;
      }
      const n = queries.length;
      if (shots === 1) expect(sameTop1 / n).toBeGreaterThanOrEqual(0.995);
      // Measured 98.25% (seed 23): int8 swaps near-equal shots of one identity, never the identity.
      else expect(sameTop1 / n).toBeGreaterThanOrEqual(0.97);
      expect(sameIdentity / n).toBeGreaterThanOrEqual(0.995);
      expect(overlap / (10 * n)).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('breaks ties by index: equal rows score equally and come out in insertion order', () => {
    const dim = 16;
    const a = Float32Array.from({ length: dim }, (_, i) => i + 1);
    const b = Float32Array.from({ length: dim }, (_, i) => dim - i);
    const index = new Int8CosineIndex(dim);
    // Rows 0, 2, 5 are a (scaled: the same unit vector, so the same codes and scale).
    index.add([a, b, a.map((x) => x * 2), b, b, a.map((x) => x * 3)]);
    const got = index.topK(a, 4);
    expect(got.slice(0, 3).map((g) => g.index)).toEqual([0, 2, 5]);
    expect(got[1].score).toBe(got[0].score);
    expect(got[3].index).toBe(1);
  });

  it('removeRows keeps the order of the rest: it then equals an index built from the kept rows', () => {
    const rand = seededRandom(24);
    const dim = 64;
    const rows = randomRows(rand, 50, dim);
    const drop = [49, 0, 7, 8, 23];
    const index = new Int8CosineIndex(dim);
    index.add(rows);
    index.removeRows(drop);
    const kept = rows.filter((_, i) => !drop.includes(i));
    const fresh = new Int8CosineIndex(dim);
    fresh.add(kept);
    expect(index.size).toBe(45);
    expect(index.byteLength).toBe(45 * (dim + 4));
    for (let i = 0; i < kept.length; i++) expect(index.row(i)).toEqual(fresh.row(i));
    const q = randomRows(rand, 1, dim)[0];
    expect(index.topK(q, 45)).toEqual(fresh.topK(q, 45));
    index.clear();
    expect(index.size).toBe(0);
    expect(index.topK(q, 3)).toEqual([]);
  });

  it('addEncodedRows of encodeStage1Row bytes equals add, across growth; bad bytes add nothing', () => {
    const rand = seededRandom(25);
    const dim = 128;
    const rows = randomRows(rand, 700, dim);
    const added = new Int8CosineIndex(dim);
    added.add(rows.slice(0, 100));
    added.add(rows.slice(100));
    const loaded = new Int8CosineIndex(dim);
    const encoded = rows.map(encodeStage1Row);
    const all = new Uint8Array(encoded.reduce((s, e) => s + e.length, 0));
    encoded.reduce((at, e) => (all.set(e, at), at + e.length), 0);
    loaded.addEncodedRows(all.subarray(0, 10 * (dim + 4)), 10);
    loaded.addEncodedRows(all.subarray(10 * (dim + 4)), 690);
    expect(loaded.size).toBe(700);
    expect(loaded.byteLength).toBe(all.length);
    for (const i of [0, 9, 10, 699]) expect(loaded.row(i)).toEqual(added.row(i));
    const q = randomRows(rand, 1, dim)[0];
    expect(loaded.topK(q, 700)).toEqual(added.topK(q, 700));

    const catchError = (fn: () => void): AppError | undefined => {
      try {
        fn();
      } catch (e) {
        return e instanceof AppError ? e : undefined;
      }
      return undefined;
    };
    const short = catchError(() => loaded.addEncodedRows(all.subarray(0, 2 * (dim + 4) - 1), 2));
    expect(short?.code).toBe('invalid-argument');
    expect(short?.message).toMatch(/take 264 bytes, got 263/);
    for (const bad of [0, -0.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const copy = all.slice(0, 3 * (dim + 4));
      new DataView(copy.buffer).setFloat32(2 * (dim + 4), bad, true);
      const err = catchError(() => loaded.addEncodedRows(copy, 3));
      expect(err?.message).toMatch(/row 2 has scale/);
      expect(err?.hint.length).toBeGreaterThan(10);
    }
    expect(loaded.size).toBe(700);
  });

  it('validates its arguments like CosineIndex, and both satisfy Stage1Index with their byte sizes', () => {
    const indexes: Stage1Index[] = [new CosineIndex(32), new Int8CosineIndex(32)];
    const rand = seededRandom(26);
    for (const index of indexes) {
      index.add(randomRows(rand, 3, 32));
      expect(() => index.add([new Float32Array(31)])).toThrow(AppError);
      expect(() => index.add([new Float32Array(32)])).toThrow(/zero vector/);
      expect(() => index.topK(new Float32Array(32).fill(1), 0)).toThrow(/k must be/);
      expect(index.size).toBe(3);
    }
    expect(indexes.map((i) => i.byteLength)).toEqual([3 * 32 * 4, 3 * (32 + 4)]);
    expect(() => indexes[1].row(3)).toThrow(/row 3 is not in the index/);
    expect(() => new Int8CosineIndex(0)).toThrow(AppError);
  });
});

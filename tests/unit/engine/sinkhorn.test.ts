import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { sinkhornEmd, type SinkhornOptions, type SinkhornResult } from '../../../src/engine/sinkhornCpu.ts';
import { required } from '../../support/required.ts';
import { authorsSinkhorn, bruteForceAssignment, cosineDistances, exactEmd, randomSimplex, randomUnitRows, transposeSquare } from './references.ts';

const converged = (eps: number, extra: Partial<SinkhornOptions> = {}): SinkhornOptions => ({ mode: 'converged', eps, maxIter: 200_000, tol: 1e-9, wantPlan: true, ...extra });

const planOf = (r: SinkhornResult): Float64Array => required(r.plan, 'the plan of a run with wantPlan');

/** Row and column sums of a plan, float64. */
function marginals(plan: Float64Array, n: number, m: number) {
  const rows = new Float64Array(n);
  const cols = new Float64Array(m);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) ((rows[i] += plan[i * m + j]), (cols[j] += plan[i * m + j]));
  return { rows, cols };
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

describe('exact EMD solver used as the reference (test of the test)', () => {
  it('matches brute-force assignment on uniform square problems', () => {
    const rand = seededRandom(3);
    for (let t = 0; t < 60; t++) {
      const n = 2 + Math.floor(rand() * 5);
      const d = Float64Array.from({ length: n * n }, () => rand() * 2);
      const u = new Float64Array(n).fill(1 / n);
      expect(Math.abs(exactEmd(d, n, n, u, u).cost - bruteForceAssignment(d, n).cost)).toBeLessThan(1e-12);
    }
  });
});

describe('converged Sinkhorn vs exact EMD', () => {
  it('is within 1e-3 of the exact optimum at eps 0.005 on 120 random problems (N <= 16), plans meeting u and v to 1e-5', () => {
    const rand = seededRandom(42);
    let worstCost = 0;
    let worstMarginal = 0;
    for (let t = 0; t < 120; t++) {
      const n = 2 + Math.floor(rand() * 15);
      const m = t % 3 === 0 ? n : 2 + Math.floor(rand() * 15);
      const dim = 2 + Math.floor(rand() * 30);
      const d = cosineDistances(randomUnitRows(rand, n, dim), n, randomUnitRows(rand, m, dim), m, dim);
      const u = t % 4 === 0 ? new Float64Array(n).fill(1 / n) : randomSimplex(rand, n);
      const v = t % 4 === 0 ? new Float64Array(m).fill(1 / m) : randomSimplex(rand, m);
      const exact = exactEmd(d, n, m, u, v);
      const r = sinkhornEmd(d, n, m, u, v, converged(0.005));
      expect(Number.isFinite(r.similarity)).toBe(true);
      worstCost = Math.max(worstCost, Math.abs(r.cost - exact.cost));
      const { rows, cols } = marginals(planOf(r), n, m);
      worstMarginal = Math.max(worstMarginal, maxAbsDiff(rows, u), maxAbsDiff(cols, v));
      // Entropic OT can only cost more than the LP optimum for the marginals its plan has. Those
      // differ from u and v by up to the tolerance, and so may undercut the optimum for u and v.
      expect(r.cost).toBeGreaterThanOrEqual(exactEmd(d, n, m, rows, cols).cost - 1e-9);
    }
    expect(worstCost).toBeLessThanOrEqual(1e-3);
    expect(worstMarginal).toBeLessThanOrEqual(1e-5);
  });

  it('reports the marginal error of the plan it returns, <= 1e-6 at the default tolerance', () => {
    const rand = seededRandom(5);
    for (let t = 0; t < 20; t++) {
      const n = 4 + Math.floor(rand() * 12);
      const d = cosineDistances(randomUnitRows(rand, n, 16), n, randomUnitRows(rand, n, 16), n, 16);
      const u = randomSimplex(rand, n);
      const v = randomSimplex(rand, n);
      const r = sinkhornEmd(d, n, n, u, v, { mode: 'converged', eps: 0.05, maxIter: 10_000, wantPlan: true });
      const { rows, cols } = marginals(planOf(r), n, n);
      const l1 = (a: Float64Array, b: Float64Array) => a.reduce((s, x, i) => s + Math.abs(x - b[i]), 0);
      expect(r.marginalError).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(r.marginalError - Math.max(l1(rows, u), l1(cols, v)))).toBeLessThan(1e-12);
      expect(Array.from(required(r.u, 'the query weights of a run with wantPlan'))).toEqual(Array.from(u));
      expect(Array.from(required(r.v, 'the gallery weights of a run with wantPlan'))).toEqual(Array.from(v));
    }
  });

  it('the log-domain path gives the same answer as the stabilised one', () => {
    const rand = seededRandom(9);
    for (let t = 0; t < 10; t++) {
      const n = 3 + Math.floor(rand() * 10);
      const d = cosineDistances(randomUnitRows(rand, n, 8), n, randomUnitRows(rand, n, 8), n, 8);
      const u = randomSimplex(rand, n);
      const v = randomSimplex(rand, n);
      const a = sinkhornEmd(d, n, n, u, v, converged(0.01, { maxIter: 5000 }));
      const b = sinkhornEmd(d, n, n, u, v, converged(0.01, { maxIter: 5000, logDomain: true }));
      expect(Math.abs(a.similarity - b.similarity)).toBeLessThan(1e-9);
      expect(a.iterations).toBe(b.iterations);
    }
  });

  it('stays finite at eps 0.005 and 0.001 with costs spanning [0, 2], and with zero weights', () => {
    const n = 12;
    const rand = seededRandom(11);
    const d = Float64Array.from({ length: n * n }, () => 2 * rand());
    const u = randomSimplex(rand, n);
    const v = randomSimplex(rand, n);
    u[3] = 0;
    v[0] = 0;
    for (const eps of [0.005, 0.001]) {
      const r = sinkhornEmd(d, n, n, u, v, converged(eps, { maxIter: 20_000 }));
      expect(Number.isFinite(r.similarity)).toBe(true);
      expect(planOf(r).every(Number.isFinite)).toBe(true);
      const { rows } = marginals(planOf(r), n, n);
      expect(rows[3]).toBe(0);
    }
  });
});

describe('closed forms', () => {
  it('identical patch sets have similarity 1 and a diagonal plan', () => {
    const rand = seededRandom(21);
    const n = 16;
    const q = randomUnitRows(rand, n, 64);
    const d = cosineDistances(q, n, q, n, 64);
    const u = new Float64Array(n).fill(1 / n);
    const r = sinkhornEmd(d, n, n, u, u, converged(0.005));
    expect(r.similarity).toBeCloseTo(1, 6);
    for (let i = 0; i < n; i++) expect(planOf(r)[i * n + i]).toBeCloseTo(1 / n, 6);
  });

  it('a permutation of the patches is recovered as the exact assignment', () => {
    const rand = seededRandom(22);
    const n = 16;
    const dim = 32;
    const q = randomUnitRows(rand, n, dim);
    const perm = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
    const g = new Float32Array(n * dim);
    perm.forEach((src, j) => g.set(q.subarray(src * dim, (src + 1) * dim), j * dim));
    const d = cosineDistances(q, n, g, n, dim);
    const u = new Float64Array(n).fill(1 / n);
    const r = sinkhornEmd(d, n, n, u, u, converged(0.005));
    for (let i = 0; i < n; i++) {
      const row = Array.from(planOf(r).subarray(i * n, (i + 1) * n));
      const j = row.indexOf(Math.max(...row));
      expect(perm[j]).toBe(i);
      expect(row[j]).toBeCloseTo(1 / n, 6);
    }
    expect(r.similarity).toBeCloseTo(1, 6);
  });

  it('1-D points with cost |x - y| match in sorted order', () => {
    const rand = seededRandom(23);
    for (let t = 0; t < 25; t++) {
      const n = 2 + Math.floor(rand() * 11);
      const x = Array.from({ length: n }, rand);
      const y = Array.from({ length: n }, rand);
      const d = new Float64Array(n * n);
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) d[i * n + j] = Math.abs(x[i] - y[j]);
      const xs = [...x].sort((a, b) => a - b);
      const ys = [...y].sort((a, b) => a - b);
      const sorted = xs.reduce((s, xi, i) => s + Math.abs(xi - ys[i]), 0) / n;
      const u = new Float64Array(n).fill(1 / n);
      const r = sinkhornEmd(d, n, n, u, u, converged(0.002, { maxIter: 30_000, tol: 1e-8 }));
      expect(Math.abs(r.cost - sorted)).toBeLessThan(1e-3);
    }
  });
});

describe('reference mode (the authors loop)', () => {
  // The authors put the gallery patches on the rows and update that side first; our cost has the
  // query on the rows. This test used to feed our query-rows matrix to their loop as is (the
  // transposed problem, which the old reference mode solved); now their loop gets their
  // orientation, and the side exact after the last update is the query (our rows).
  it('matches a literal transcription of their code in their orientation, stops per pair, and leaves the query (row) marginal exact', () => {
    const rand = seededRandom(31);
    for (let t = 0; t < 30; t++) {
      const n = 4 + Math.floor(rand() * 13);
      // Positive-leaning patches, like real ReLU-ish feature maps: high cosines, early stops.
      const dim = 16;
      const a = randomUnitRows(rand, n, dim).map((x) => Math.abs(x) + 0.1 * t);
      const b = randomUnitRows(rand, n, dim).map((x) => Math.abs(x));
      const norm = (m: Float32Array) => {
        for (let i = 0; i < n; i++) {
          let s = 0;
          for (let k = 0; k < dim; k++) s += m[i * dim + k] ** 2;
          for (let k = 0; k < dim; k++) m[i * dim + k] /= Math.sqrt(s);
        }
        return m;
      };
      const d = cosineDistances(norm(a), n, norm(b), n, dim);
      const u = randomSimplex(rand, n);
      const v = randomSimplex(rand, n);
      // d: row = query patch (a), column = gallery patch (b); u = query weights, v = gallery weights.
      const ref = authorsSinkhorn(transposeSquare(d, n), n, v, u, 0.05);
      const r = sinkhornEmd(d, n, n, u, v, { mode: 'reference', eps: 0.05, maxIter: 100, wantPlan: true });
      expect(r.iterations).toBe(ref.it);
      expect(Math.abs(r.similarity - ref.sim)).toBeLessThan(1e-12);
      const { rows } = marginals(planOf(r), n, n);
      expect(maxAbsDiff(rows, u)).toBeLessThan(1e-12);
    }
  });

  it('refuses to return NaN when eps is too small for plain exp(-d/eps)', () => {
    const n = 4;
    const d = Float64Array.from({ length: n * n }, (_, x) => (x % 5 === 0 ? 1.9 : 2));
    const u = new Float64Array(n).fill(1 / n);
    expect(() => sinkhornEmd(d, n, n, u, u, { mode: 'reference', eps: 0.0002, maxIter: 100 })).toThrowError(AppError);
  });

  it('rejects bad options with a typed error', () => {
    const d = new Float64Array(4);
    const u = new Float64Array(2).fill(0.5);
    for (const bad of [{ eps: 0 }, { eps: Number.NaN }, { maxIter: 0 }, { maxIter: 1.5 }]) {
      try {
        sinkhornEmd(d, 2, 2, u, u, { mode: 'converged', eps: 0.05, maxIter: 10, ...bad });
        expect.unreachable();
      } catch (e) {
        expect((e as AppError).code).toBe('invalid-argument');
      }
    }
  });
});

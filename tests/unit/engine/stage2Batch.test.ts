import { describe, expect, it } from 'vitest';
import type { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { DEFAULT_SETTINGS } from '../../../src/core/types.ts';
import type { PatchMap } from '../../../src/core/types.ts';
import { rawMapOf } from '../../../src/engine/faceDetails.ts';
import { unitAveragePatch, unitPatchGrid } from '../../../src/engine/patchGrid.ts';
import { decodePatchMapUnit, encodePatchMap } from '../../../src/engine/quant/patchCodec.ts';
import { CpuStage2Scorer, type Stage2Batch } from '../../../src/engine/stage2Batch.ts';

const n = 49;
const c = 1024;

/** A FaceRes-like map: non-negative, ~90% exact zeros; rows L2-normalised in float64, stored as float32. */
function sparseUnitMap(rand: () => number, density = 0.1): { unit: Float32Array; average: Float32Array } {
  const raw = new Float64Array(n * c);
  for (let x = 0; x < raw.length; x++) raw[x] = rand() < density ? rand() * 3 : 0;
  const unit = new Float32Array(n * c);
  for (let i = 0; i < n; i++) {
    let ss = 0;
    for (let t = 0; t < c; t++) ss += raw[i * c + t] ** 2;
    const norm = Math.sqrt(ss);
    for (let t = 0; t < c; t++) unit[i * c + t] = norm > 0 ? raw[i * c + t] / norm : 0;
  }
  const mean = new Float64Array(c);
  for (let i = 0; i < n; i++) for (let t = 0; t < c; t++) mean[t] += raw[i * c + t] / n;
  const norm = Math.hypot(...mean);
  return { unit, average: Float32Array.from(mean, (m) => m / norm) };
}

/** APC written from the method doc, float64 sums: max(0, <p_i, other average>) / (sum + 1e-7). */
function apcFloat64(unit: Float32Array, otherAverage: Float32Array): Float64Array {
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) for (let t = 0; t < c; t++) raw[i] += unit[i * c + t] * otherAverage[t];
  let sum = 0;
  for (let i = 0; i < n; i++) sum += raw[i] = Math.max(0, raw[i]);
  return raw.map((w) => w / (sum + 1e-7));
}

function batchOf(pairs: number, seed: number, density = 0.1) {
  const rand = seededRandom(seed);
  const query = sparseUnitMap(rand, density);
  const candidates = Array.from({ length: pairs }, () => sparseUnitMap(rand, density));
  const apc: Stage2Batch = {
    n,
    c,
    query: query.unit,
    candidates: candidates.map((g) => g.unit),
    weights: { kind: 'apc', queryAverage: query.average, candidateAverages: candidates.map((g) => g.average) },
    sinkhorn: { ...DEFAULT_SETTINGS.sinkhorn },
  };
  const u = new Float32Array(pairs * n);
  const v = new Float32Array(pairs * n);
  candidates.forEach((g, p) => {
    u.set(apcFloat64(query.unit, g.average), p * n);
    v.set(apcFloat64(g.unit, query.average), p * n);
  });
  const given: Stage2Batch = { ...apc, weights: { kind: 'given', u, v } };
  return { apc, given };
}

describe('CpuStage2Scorer with APC weights computed beside the costs', () => {
  it('gives the weights and s_emd of float64 APC weights (SIMD and JS kernels)', () => {
    const { apc, given } = batchOf(12, 3);
    const reference = new CpuStage2Scorer().scoreBatch(given);
    for (const forceJs of [false, true]) {
      const scorer = new CpuStage2Scorer({ forceJs });
      const resolved = scorer.withGivenWeights(apc);
      if (resolved.weights.kind !== 'given' || given.weights.kind !== 'given') throw new Error('expected given weights');
      let worst = 0;
      for (let x = 0; x < resolved.weights.u.length; x++) {
        worst = Math.max(worst, Math.abs(resolved.weights.u[x] - given.weights.u[x]), Math.abs(resolved.weights.v[x] - given.weights.v[x]));
      }
      expect(worst).toBeLessThan(1e-6);
      const r = scorer.scoreBatch(apc);
      for (let p = 0; p < 12; p++) expect(Math.abs(r.similarity[p] - reference.similarity[p])).toBeLessThan(1e-6);
      // The resolved batch (what the GPU path gets) scores exactly as the APC batch does.
      expect(Array.from(scorer.scoreBatch(resolved).similarity)).toEqual(Array.from(r.similarity));
    }
  });

  it('pairDetail gives exactly the pair scoreBatch scored, with a plan whose query marginal is its u', () => {
    const { apc } = batchOf(5, 8);
    const scorer = new CpuStage2Scorer();
    const all = scorer.scoreBatch(apc);
    const d = scorer.pairDetail(apc, 3);
    expect(d.result.similarity).toBe(all.similarity[3]);
    expect(d.result.iterations).toBe(all.iterations[3]);
    const plan = d.result.plan;
    if (!plan) throw new Error('no plan');
    for (let i = 0; i < n; i++) {
      let row = 0;
      for (let j = 0; j < n; j++) row += plan[i * n + j];
      expect(Math.abs(row - d.u[i])).toBeLessThan(1e-9);
    }
    let sim = 0;
    for (let x = 0; x < n * n; x++) sim += plan[x] * (1 - d.cost[x]);
    expect(Math.abs(sim - d.result.similarity)).toBeLessThan(1e-6);
  });

  it('cost matrices are 1 - cos within 1e-6 of float64 for sparse and dense maps, SIMD and JS', () => {
    for (const density of [0.1, 0.9]) {
      const { apc } = batchOf(3, 21, density);
      for (const forceJs of [false, true]) {
        const scorer = new CpuStage2Scorer({ forceJs });
        for (let p = 0; p < 3; p++) {
          const { cost } = scorer.pairDetail(apc, p);
          const g = apc.candidates[p];
          let worst = 0;
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < n; j++) {
              let dot = 0;
              for (let t = 0; t < c; t++) dot += apc.query[i * c + t] * g[j * c + t];
              worst = Math.max(worst, Math.abs(cost[i * n + j] - (1 - dot)));
            }
          }
          expect(worst, `density ${density}, ${forceJs ? 'JS' : 'SIMD'}`).toBeLessThan(1e-6);
          if (density <= 0.25) {
            // A sparse query's batch skips the candidates' zeros: each cosine is the float32 running sum in channel order.
            let differ = 0;
            for (let i = 0; i < n; i++) {
              for (let j = 0; j < n; j++) {
                let s = 0;
                for (let t = 0; t < c; t++) if (g[j * c + t] !== 0) s = Math.fround(s + Math.fround(apc.query[i * c + t] * g[j * c + t]));
                if (cost[i * n + j] !== Math.fround(1 - s)) differ++;
              }
            }
            expect(differ, `density ${density}, ${forceJs ? 'JS' : 'SIMD'}: costs not from the sparse sums`).toBe(0);
          }
        }
      }
    }
  });

  it('refuses averages of the wrong length and pairs that are not there', () => {
    const { apc } = batchOf(2, 1);
    const scorer = new CpuStage2Scorer();
    if (apc.weights.kind !== 'apc') throw new Error('expected APC');
    const short: Stage2Batch = { ...apc, weights: { ...apc.weights, queryAverage: new Float32Array(c - 4) } };
    const missing: Stage2Batch = { ...apc, weights: { ...apc.weights, candidateAverages: apc.weights.candidateAverages.slice(1) } };
    for (const bad of [short, missing]) expect(() => scorer.scoreBatch(bad)).toThrow(/APC needs one average patch/);
    expect(
      (() => {
        try {
          scorer.pairDetail(apc, 2);
        } catch (e) {
          return (e as AppError).code;
        }
      })(),
    ).toBe('invalid-argument');
  });
});

/** A raw map: zero with probability `zeros` (and whole patches in `empty`), else |gaussian-ish| or signed. */
function rawMap(rand: () => number, h: number, c: number, zeros: number, signed: boolean, empty: readonly number[] = []): PatchMap {
  const data = new Float32Array(h * h * c);
  for (let x = 0; x < data.length; x++) {
    if (rand() < zeros || empty.includes(Math.floor(x / c))) continue;
    const g = (rand() + rand() + rand() - 1.5) * 2;
    data[x] = signed ? g : Math.abs(g);
  }
  return { h, w: h, c, data };
}

describe('CpuStage2Scorer on stored maps (scoreEncodedMaps)', () => {
  // FaceRes-like (sparse unsigned, two empty patches), very sparse (its pooled grids stay sparse), sparse signed with
  // c not a multiple of 8, and dense signed like MobileFaceNet's. Each on its own grid and pooled to coarser ones:
  // sparse queries take the stored codes straight into the costs or the pooling, dense ones decode.
  const shapes = [
    { h: 7, c: 1024, zeros: 0.9, signed: false, empty: [0, 30], grids: [7, 4, 2] },
    { h: 7, c: 256, zeros: 0.985, signed: false, empty: [5], grids: [4, 3, 1] },
    { h: 4, c: 44, zeros: 0.85, signed: true, empty: [3], grids: [4, 3] },
    { h: 7, c: 64, zeros: 0.05, signed: true, empty: [], grids: [7, 5] },
  ];
  for (const { h, c: ch, zeros, signed, empty, grids } of shapes) {
    for (const grid of grids) {
      it(`gives scoreBatch's results on the decoded maps, pooled as the gallery pools them, bit for bit: ${h}x${h}x${ch} on ${grid}x${grid}, ${zeros * 100}% zeros, SIMD and JS`, () => {
        const rand = seededRandom(h * 1000 + ch + grid);
        const queryMap = rawMap(rand, h, ch, zeros, signed);
        const query = { grid: unitPatchGrid(queryMap, grid), average: unitAveragePatch(queryMap) };
        const stored = Array.from({ length: 9 }, (_, i) => encodePatchMap(rawMap(rand, h, ch, zeros, signed, i % 2 ? empty : [])));
        // The gallery's path (GalleryStore.unitGrid): decode, rebuild the raw map, pool.
        const decoded = stored.map((b) => decodePatchMapUnit(b));
        const rows = decoded.map((d) => (grid === h ? d.unitPatches : unitPatchGrid(rawMapOf(d, h, h, ch), grid)));
        const sinkhorn = { ...DEFAULT_SETTINGS.sinkhorn };
        const batch: Stage2Batch = {
          n: grid * grid,
          c: ch,
          query: query.grid,
          candidates: rows,
          weights: { kind: 'apc', queryAverage: query.average, candidateAverages: decoded.map((d) => d.unitAverage) },
          sinkhorn,
        };
        for (const forceJs of [false, true]) {
          const want = new CpuStage2Scorer({ forceJs }).scoreBatch(batch);
          const asked: number[] = [];
          const got = new CpuStage2Scorer({ forceJs }).scoreEncodedMaps({
            grid,
            c: ch,
            query: query.grid,
            queryAverage: query.average,
            count: stored.length,
            mapOf: (i) => {
              asked.push(i);
              return stored[i];
            },
            sinkhorn,
          });
          expect(asked).toEqual(stored.map((_, i) => i));
          expect(Array.from(got.similarity)).toEqual(Array.from(want.similarity));
          expect(Array.from(got.iterations)).toEqual(Array.from(want.iterations));
          expect(Array.from(got.marginalError)).toEqual(Array.from(want.marginalError));
          expect(want.similarity.every((s) => Number.isFinite(s) && s > 0)).toBe(true);
        }
      });
    }
  }

  it('the test shapes reach both kernels: sparse queries on the native and on a pooled grid', () => {
    const density = (m: Float32Array) => m.reduce((n, x) => n + (x !== 0 ? 1 : 0), 0) / m.length;
    const rand = seededRandom(1);
    expect(density(unitPatchGrid(rawMap(rand, 7, 1024, 0.9, false), 7))).toBeLessThan(0.25);
    expect(density(unitPatchGrid(rawMap(rand, 7, 256, 0.985, false), 4))).toBeLessThan(0.25);
    expect(density(unitPatchGrid(rawMap(rand, 7, 64, 0.05, true), 7))).toBeGreaterThan(0.25);
  });

  it('refuses a stored map of another shape and damaged bytes, as AppErrors naming the fault', () => {
    const rand = seededRandom(5);
    const query = decodePatchMapUnit(encodePatchMap(rawMap(rand, 4, 16, 0.8, false)));
    const spec = { grid: 4, c: 16, query: query.unitPatches, queryAverage: query.unitAverage, count: 1, sinkhorn: { ...DEFAULT_SETTINGS.sinkhorn } };
    const scorer = new CpuStage2Scorer();
    const other = encodePatchMap(rawMap(rand, 3, 16, 0.8, false));
    expect(() => scorer.scoreEncodedMaps({ ...spec, mapOf: () => other })).toThrow(/stored map is 3x3x16, the batch needs 4x4 patches of 16/);
    const cut = encodePatchMap(rawMap(rand, 4, 16, 0.8, false)).subarray(0, 40);
    expect(() => scorer.scoreEncodedMaps({ ...spec, mapOf: () => cut })).toThrow(/cut short/);
  });
});

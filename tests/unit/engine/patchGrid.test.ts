import { describe, expect, it } from 'vitest';
import { adaptiveAvgPool, adaptivePoolBins, unitAveragePatch, unitPatchGrid } from '../../../src/engine/patchGrid.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { directPool, gaussian } from './references.ts';

describe('patch grids', () => {
  it('bins 7 -> 4 overlap as PyTorch does', () => {
    expect(adaptivePoolBins(7, 4)).toEqual([
      { start: 0, end: 2 },
      { start: 1, end: 4 },
      { start: 3, end: 6 },
      { start: 5, end: 7 },
    ]);
    expect(adaptivePoolBins(8, 4)).toEqual([
      { start: 0, end: 2 },
      { start: 2, end: 4 },
      { start: 4, end: 6 },
      { start: 6, end: 8 },
    ]);
  });

  it('adaptive pooling matches a direct loop for every G up to native (7x7, 8x8, non-square)', () => {
    const rand = seededRandom(4);
    for (const [h, w, c] of [
      [7, 7, 5],
      [8, 8, 3],
      [7, 5, 2],
    ] as const) {
      const data = Float32Array.from({ length: h * w * c }, () => gaussian(rand));
      for (let g = 1; g <= Math.min(h, w); g++) {
        const pooled = adaptiveAvgPool({ h, w, c, data }, g);
        const want = directPool(data, h, w, c, g);
        expect(pooled.h).toBe(g);
        for (let i = 0; i < want.length; i++) expect(Math.abs(pooled.data[i] - want[i])).toBeLessThan(1e-6);
      }
    }
  });

  it('normalises every patch to unit length (zero patches stay zero) and rejects a grid above native', () => {
    const data = new Float32Array([3, 4, 0, 0, 1, 0, 0, 2]);
    const map = { h: 2, w: 2, c: 2, data };
    expect(Array.from(unitPatchGrid(map, 2))).toEqual([0.6, 0.8, 0, 0, 1, 0, 0, 1].map(Math.fround));
    // 1x1: mean (1, 1.5) -> unit
    const one = unitPatchGrid(map, 1);
    expect(one[0]).toBeCloseTo(1 / Math.sqrt(1 + 2.25), 6);
    expect(one[1]).toBeCloseTo(1.5 / Math.sqrt(1 + 2.25), 6);
    expect(Array.from(unitAveragePatch(map))).toEqual(Array.from(one));
    expect(() => unitPatchGrid(map, 3)).toThrow(/grid 3/);
  });

  it('writes into a given array the same floats as a fresh one, for every grid; an array of another size is refused', () => {
    const rand = seededRandom(9);
    const map = { h: 7, w: 7, c: 6, data: Float32Array.from({ length: 49 * 6 }, () => Math.max(0, gaussian(rand))) };
    for (let g = 1; g <= 7; g++) {
      const into = new Float32Array(g * g * 6).fill(Number.NaN);
      const got = unitPatchGrid(map, g, into);
      expect(got).toBe(into);
      expect(Array.from(got)).toEqual(Array.from(unitPatchGrid(map, g)));
      expect(() => unitPatchGrid(map, g, new Float32Array(g * g * 6 + 1))).toThrow(/into/);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { flowImage, flowTargets, summariseFlow } from '../../../src/viz/flow.ts';
import { weightHeatmap } from '../../../src/viz/heatmap.ts';
import { jet } from '../../../src/viz/colormap.ts';

/** A 4x4 image whose 2x2 cells have distinct flat colours: cell p is (p*40, 255 - p*40, 7). */
function cells2x2(): { width: number; height: number; data: Uint8ClampedArray } {
  const data = new Uint8ClampedArray(4 * 4 * 4);
  for (let y = 0; y < 4; y++)
    for (let x = 0; x < 4; x++) {
      const p = Math.floor(y / 2) * 2 + Math.floor(x / 2);
      data.set([p * 40, 255 - p * 40, 7, 255], (y * 4 + x) * 4);
    }
  return { width: 4, height: 4, data };
}

describe('flow picture', () => {
  it('a permutation plan rebuilds the query from the permuted gallery cells, full brightness', () => {
    // Query patch i sends all its mass to gallery patch perm[i].
    const perm = [3, 2, 1, 0];
    const plan = new Float32Array(16);
    perm.forEach((j, i) => (plan[i * 4 + j] = 0.25));
    const out = flowImage(cells2x2(), plan, 2);
    for (let i = 0; i < 4; i++) {
      const x = (i % 2) * 2,
        y = Math.floor(i / 2) * 2;
      const px = out.data.subarray((y * 4 + x) * 4, (y * 4 + x) * 4 + 3);
      expect(Array.from(px)).toEqual([perm[i] * 40, 255 - perm[i] * 40, 7]);
    }
  });

  it('darkens query patches by their normalised row mass (lowest mass -> black)', () => {
    const plan = new Float32Array([0.1, 0, 0, 0, 0, 0.2, 0, 0, 0, 0, 0.3, 0, 0, 0, 0, 0.4]);
    const s = summariseFlow(plan, 4);
    expect(Array.from(s.bestMatch)).toEqual([0, 1, 2, 3]);
    expect(Array.from(s.brightness).map((b) => +b.toFixed(6))).toEqual([0, 0.333333, 0.666667, 1]);
    const out = flowImage(cells2x2(), plan, 2);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([0, 0, 0]);
  });

  it('lists the gallery patches a query patch sends mass to, strongest first', () => {
    const plan = new Float32Array([0.6, 0.3, 0.1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(flowTargets(plan, 4, 0, 0.2)).toEqual([
      { j: 0, share: expect.closeTo(0.6, 6) },
      { j: 1, share: expect.closeTo(0.3, 6) },
    ]);
  });
});

describe('weight heatmap', () => {
  it('blends jet colours 50% with the face, hottest where the weight is largest', () => {
    const face = { width: 4, height: 4, data: new Uint8ClampedArray(64).fill(0) };
    const out = weightHeatmap(face, [0, 0, 0, 1], 2);
    // The bottom-right corner pixel lies past the last patch centre: weight 1 -> jet(1) = dark red.
    const [r, g, b] = jet(1);
    expect(Array.from(out.data.subarray(60, 63))).toEqual([Math.round(r / 2), Math.round(g / 2), Math.round(b / 2)]);
    const [r0, g0, b0] = jet(0);
    expect(Array.from(out.data.subarray(0, 3))).toEqual([Math.round(r0 / 2), Math.round(g0 / 2), Math.round(b0 / 2)]);
  });
  it('jet runs blue -> green -> red', () => {
    expect(jet(0)).toEqual([0, 0, 128]);
    expect(jet(0.5)).toEqual([128, 255, 128]);
    expect(jet(1)).toEqual([128, 0, 0]);
  });
});

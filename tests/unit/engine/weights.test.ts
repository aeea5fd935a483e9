import { describe, expect, it } from 'vitest';
import type { AppError } from '../../../src/core/errors.ts';
import type { Point } from '../../../src/core/types.ts';
import { normaliseWeights, patchWeightsApc, patchWeightsCc, patchWeightsLmk, patchWeightsSc, patchWeightsScSim, patchWeightsUniform } from '../../../src/engine/weights.ts';

/**
 * Hand-worked 2x2 example (4 patches, 2 channels). Query unit patches:
 * q0 = (1, 0), q1 = (0, 1), q2 = (0.6, 0.8), q3 = (-1, 0).
 * Gallery unit patches: g0 = (0, 1), g1 = (1, 0), g2 = (0.8, 0.6), g3 = (0, -1).
 */
const q = new Float32Array([1, 0, 0, 1, 0.6, 0.8, -1, 0]);
const D = 1e-7;
const close = (got: ArrayLike<number>, want: number[]) => want.forEach((w, i) => expect(got[i]).toBeCloseTo(w, 6));

describe('patch weights on a hand-worked 2x2 example', () => {
  it('uniform', () => {
    close(patchWeightsUniform(4), [0.25, 0.25, 0.25, 0.25]);
  });

  it('APC: <q_i, unit mean of the gallery map>, clamped, normalised', () => {
    // Gallery raw map = g here; mean = (1.8/4, 0.6/4) -> unit (3, 1)/sqrt(10).
    const gbar = new Float32Array([3 / Math.sqrt(10), 1 / Math.sqrt(10)]);
    // raw: q0: 3/s, q1: 1/s, q2: (1.8 + 0.8)/s = 2.6/s, q3: -3/s -> 0; sum = 6.6/s, s = sqrt(10)
    const s = Math.sqrt(10);
    const sum = 6.6 / s;
    close(patchWeightsApc(q, 4, 2, gbar), [3 / s / (sum + D), 1 / s / (sum + D), 2.6 / s / (sum + D), 0]);
  });

  it('CC: as APC with the other face`s unit embedding; not defined when sizes differ', () => {
    const e = new Float32Array([0, 1]);
    // raw: 0, 1, 0.8, 0 -> sum 1.8
    close(patchWeightsCc(q, 4, 2, e), [0, 1 / (1.8 + D), 0.8 / (1.8 + D), 0]);
    try {
      patchWeightsCc(q, 4, 2, new Float32Array(3));
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).code).toBe('weighting-undefined');
      expect((err as AppError).message).toMatch(/not defined for this model/);
    }
  });

  it('SC (code: sums of distances) and SC-sim (paper: sums of similarities)', () => {
    // cos(q_i, g_j):
    //        g0    g1    g2    g3
    // q0:    0     1     0.8   0
    // q1:    1     0     0.6  -1
    // q2:    0.8   0.6   0.96 -0.8
    // q3:    0    -1    -0.8   0
    const cos = [0, 1, 0.8, 0, 1, 0, 0.6, -1, 0.8, 0.6, 0.96, -0.8, 0, -1, -0.8, 0];
    const d = cos.map((x) => 1 - x);
    // distance row sums: 2.2, 3.4, 2.44, 5.8 (sum 13.84); column sums: 2.2, 3.4, 2.44, 5.8
    const sc = patchWeightsSc(d, 4, 4);
    close(
      sc.u,
      [2.2, 3.4, 2.44, 5.8].map((x) => x / (13.84 + D)),
    );
    close(
      sc.v,
      [2.2, 3.4, 2.44, 5.8].map((x) => x / (13.84 + D)),
    );
    // similarity row sums: 1.8, 0.6, 1.56, -1.8 -> 0 (sum 3.96); columns: 1.8, 0.6, 1.56, -1.8 -> 0
    const sim = patchWeightsScSim(d, 4, 4);
    close(
      sim.u,
      [1.8, 0.6, 1.56, 0].map((x) => x / (3.96 + D)),
    );
    close(
      sim.v,
      [1.8, 0.6, 1.56, 0].map((x) => x / (3.96 + D)),
    );
  });

  it('LMK: share of landmarks per patch of a 2x2 grid over a 112 px crop', () => {
    // 3 in the top-left quadrant, 1 top-right, 0 bottom-left, 4 bottom-right, 1 outside the crop.
    const pts: Point[] = [
      [10, 10],
      [55.9, 20],
      [0, 0],
      [56, 10],
      [60, 60],
      [111.9, 111.9],
      [56, 56],
      [100, 70],
      [120, 5],
    ];
    const total = 8 / 9;
    close(
      patchWeightsLmk(pts, 112, 2),
      [3 / 9, 1 / 9, 0, 4 / 9].map((x) => x / (total + D)),
    );
    try {
      patchWeightsLmk(undefined, 112, 2);
      expect.unreachable();
    } catch (err) {
      expect((err as AppError).code).toBe('weighting-undefined');
    }
  });

  it('normalisation clamps negatives, adds 1e-7 to the denominator, and falls back to uniform when nothing is positive', () => {
    close(normaliseWeights([1, -2, 3]), [1 / (4 + D), 0, 3 / (4 + D)]);
    close(normaliseWeights([-1, -2]), [0.5, 0.5]);
  });
});

/**
 * Float64 checks of the patch codec shared by the synthetic and real-map
 * tests, written from the format's definition (not the codec's code).
 */
import { expect } from 'vitest';
import type { PatchMap } from '../../../../src/core/types.ts';

/** Per patch: levels 255 when no value is negative else 127, scale = max|x| / levels in float64. */
export function referenceScales(map: PatchMap): number[] {
  const out: number[] = [];
  for (let p = 0; p < map.h * map.w; p++) {
    let maxAbs = 0;
    let negative = false;
    for (let t = 0; t < map.c; t++) {
      const x = map.data[p * map.c + t];
      maxAbs = Math.max(maxAbs, Math.abs(x));
      if (x < 0) negative = true;
    }
    out.push(maxAbs / (negative ? 127 : 255));
  }
  return out;
}

/** |x - decoded| <= scale / 2 for every value (1e-5 relative slack for the float32 scale and product), zeros exactly zero. */
export function expectWithinHalfStep(original: PatchMap, decoded: PatchMap): void {
  expect([decoded.h, decoded.w, decoded.c]).toEqual([original.h, original.w, original.c]);
  const scales = referenceScales(original);
  let worst = 0;
  for (let p = 0; p < scales.length; p++) {
    for (let t = 0; t < original.c; t++) {
      const i = p * original.c + t;
      const x = original.data[i];
      if (x === 0) expect(decoded.data[i]).toBe(0);
      if (scales[p] > 0) worst = Math.max(worst, Math.abs(x - decoded.data[i]) / scales[p]);
      else expect(decoded.data[i]).toBe(0);
    }
  }
  expect(worst).toBeLessThanOrEqual(0.5 * (1 + 1e-5));
}

function unitPatch(map: PatchMap, p: number): Float64Array | null {
  const v = Float64Array.from(map.data.subarray(p * map.c, (p + 1) * map.c));
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  return norm > 0 ? v.map((x) => x / norm) : null;
}

/**
 * Largest |cos(decoded a_p, decoded b_q) - cos(a_p, b_q)| over all patch
 * pairs of two maps (the cosines stage 2 builds its cost from), in float64;
 * pairs where a patch is all zero are skipped (no direction).
 */
export function maxCosineError(a: PatchMap, b: PatchMap, da: PatchMap, db: PatchMap): number {
  const R = a.h * a.w;
  const ua = Array.from({ length: R }, (_, p) => unitPatch(a, p));
  const ub = Array.from({ length: R }, (_, p) => unitPatch(b, p));
  const uda = Array.from({ length: R }, (_, p) => unitPatch(da, p));
  const udb = Array.from({ length: R }, (_, p) => unitPatch(db, p));
  let worst = 0;
  for (let p = 0; p < R; p++) {
    for (let q = 0; q < R; q++) {
      const [x, y, dx, dy] = [ua[p], ub[q], uda[p], udb[q]];
      if (!x || !y || !dx || !dy) continue;
      let c0 = 0;
      let c1 = 0;
      for (let t = 0; t < a.c; t++) {
        c0 += x[t] * y[t];
        c1 += dx[t] * dy[t];
      }
      worst = Math.max(worst, Math.abs(c1 - c0));
    }
  }
  return worst;
}

/** A deliberately coarse quantiser (levels per sign, per patch, round to nearest), to show the cosine threshold can be exceeded. */
export function coarseQuantise(map: PatchMap, levels: number): PatchMap {
  const data = new Float32Array(map.data.length);
  for (let p = 0; p < map.h * map.w; p++) {
    let maxAbs = 0;
    for (let t = 0; t < map.c; t++) maxAbs = Math.max(maxAbs, Math.abs(map.data[p * map.c + t]));
    const step = maxAbs / levels;
    for (let t = 0; t < map.c; t++) data[p * map.c + t] = step > 0 ? Math.round(map.data[p * map.c + t] / step) * step : 0;
  }
  return { ...map, data };
}

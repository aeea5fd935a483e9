/**
 * The patch codec on synthetic maps shaped like the two recognizers' (FaceRes:
 * non-negative, ~90% zeros, some patches all zero; MobileFaceNet: dense, ~30%
 * negative), against float64 checks written from the format's definition:
 * the per-value bound, exact zeros, the byte layout and sizes, the cosine
 * error stage 2 sees, and corrupt input.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/core/errors.ts';
import { seededRandom } from '../../../../src/core/random.ts';
import type { PatchMap } from '../../../../src/core/types.ts';
import { decodePatchMap, decodePatchMapUnit, encodePatchMap } from '../../../../src/engine/quant/patchCodec.ts';
import { faceDetailOf } from '../../../../src/engine/faceDetails.ts';
import { gaussian } from '../references.ts';
import { coarseQuantise, expectWithinHalfStep, maxCosineError } from './patchCodecTestUtil.ts';

/** FaceRes-like: post-ReLU values, `zeroFraction` exact zeros, patches listed in `emptyPatches` all zero. */
function sparseMap(rand: () => number, h: number, w: number, c: number, zeroFraction: number, emptyPatches: readonly number[] = []): PatchMap {
  const data = new Float32Array(h * w * c);
  for (let i = 0; i < data.length; i++) if (rand() >= zeroFraction && !emptyPatches.includes(Math.floor(i / c))) data[i] = Math.abs(gaussian(rand)) * 2;
  return { h, w, c, data };
}

/** MobileFaceNet-like: dense, ~30% negative. */
function denseSignedMap(rand: () => number, h: number, w: number, c: number): PatchMap {
  return { h, w, c, data: Float32Array.from({ length: h * w * c }, () => gaussian(rand) + 0.52) };
}

/** Walks the layout from its definition: per patch [flags, scale, payload bytes]. */
function layout(bytes: Uint8Array): { flags: number; scale: number; payload: number }[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [h, w, c] = [view.getUint16(4, true), view.getUint16(6, true), view.getUint16(8, true)];
  const out: { flags: number; scale: number; payload: number }[] = [];
  let o = 10;
  for (let p = 0; p < h * w; p++) {
    const flags = bytes[o];
    const scale = view.getFloat32(o + 1, true);
    o += 5;
    let payload = 0;
    if (scale !== 0) {
      if (flags & 1) {
        const bitmap = Math.ceil(c / 8);
        let ones = 0;
        for (let b = 0; b < bitmap; b++) ones += bytes[o + b].toString(2).replace(/0/g, '').length;
        payload = bitmap + ones;
      } else payload = c;
    }
    o += payload;
    out.push({ flags, scale, payload });
  }
  expect(o).toBe(bytes.length);
  return out;
}

function appError(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected an AppError');
}

describe('patch codec', () => {
  it('round-trips a FaceRes-like map (90% zeros, empty patches) within scale / 2, sparse unsigned, in < 13,000 bytes', () => {
    const rand = seededRandom(31);
    const map = sparseMap(rand, 7, 7, 1024, 0.9, [0, 13, 48]);
    const bytes = encodePatchMap(map);
    expectWithinHalfStep(map, decodePatchMap(bytes));
    const patches = layout(bytes);
    for (const [p, patch] of patches.entries()) {
      if ([0, 13, 48].includes(p)) expect(patch).toEqual({ flags: 0, scale: 0, payload: 0 });
      else expect(patch.flags).toBe(1); // sparse, unsigned
    }
    expect(bytes.length).toBeLessThan(13_000);
    expect(bytes.length).toBeGreaterThan(10_000);
  });

  it('round-trips a dense signed MobileFaceNet-like map within scale / 2 in < 25,800 bytes', () => {
    const rand = seededRandom(32);
    const map = denseSignedMap(rand, 7, 7, 512);
    const bytes = encodePatchMap(map);
    expectWithinHalfStep(map, decodePatchMap(bytes));
    for (const patch of layout(bytes)) expect(patch).toMatchObject({ flags: 2, payload: 512 });
    expect(bytes.length).toBe(10 + 49 * (5 + 512));
    expect(bytes.length).toBeLessThan(25_800);
  });

  it('picks per patch: dense unsigned, sparse signed, and sparse exactly when the bitmap and codes are fewer bytes than c', () => {
    const c = 64;
    const data = new Float32Array(4 * c);
    for (let t = 0; t < c; t++) data[t] = 1 + t; // patch 0: dense unsigned
    for (const t of [3, 40]) data[c + t] = -2; // patch 1: sparse signed
    data[c + 9] = 5;
    for (let t = 0; t < 55; t++) data[2 * c + t] = 1; // patch 2: 55 nonzero; 8 + 55 = 63 < 64, sparse
    for (let t = 0; t < 56; t++) data[3 * c + t] = 1; // patch 3: 56 nonzero; 8 + 56 = 64, dense
    const map = { h: 2, w: 2, c, data };
    const bytes = encodePatchMap(map);
    expect(layout(bytes).map((p) => [p.flags, p.payload])).toEqual([
      [0, 64],
      [3, 8 + 3],
      [1, 8 + 55],
      [0, 64],
    ]);
    expectWithinHalfStep(map, decodePatchMap(bytes));
    // Values below half a step become exact zeros (bitmap bit off).
    const tiny = { h: 1, w: 1, c: 16, data: Float32Array.from({ length: 16 }, (_, t) => (t === 0 ? 255 : t === 1 ? 0.49 : 0)) };
    const decoded = decodePatchMap(encodePatchMap(tiny));
    expect(Array.from(decoded.data.subarray(0, 3))).toEqual([255, 0, 0]);
  });

  it('keeps unit-patch cosines within 0.01 of float64 (synthetic maps), where a 4-level quantiser exceeds it', () => {
    const rand = seededRandom(33);
    for (const [a, b] of [
      [sparseMap(rand, 7, 7, 1024, 0.9, [5]), sparseMap(rand, 7, 7, 1024, 0.9)],
      [denseSignedMap(rand, 7, 7, 512), denseSignedMap(rand, 7, 7, 512)],
    ]) {
      const err = maxCosineError(a, b, decodePatchMap(encodePatchMap(a)), decodePatchMap(encodePatchMap(b)));
      expect(err).toBeLessThan(0.01);
      expect(maxCosineError(a, b, coarseQuantise(a, 4), coarseQuantise(b, 4))).toBeGreaterThan(0.01);
    }
  });

  it('refuses bad maps: wrong length, zero side, non-finite values', () => {
    expect(appError(() => encodePatchMap({ h: 2, w: 2, c: 4, data: new Float32Array(15) })).message).toMatch(/15 values, 2x2x4 needs 16/);
    expect(appError(() => encodePatchMap({ h: 0, w: 2, c: 4, data: new Float32Array(0) })).message).toMatch(/patch map h/);
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      const data = new Float32Array(8);
      data[5] = bad;
      const err = appError(() => encodePatchMap({ h: 1, w: 2, c: 4, data }));
      expect(err.code).toBe('invalid-vector');
      expect(err.message).toMatch(/patch 1/);
    }
  });

  it('refuses truncated and corrupt bytes with an AppError naming the fault', () => {
    const rand = seededRandom(34);
    const map = sparseMap(rand, 3, 3, 12, 0.5, [4]);
    const good = encodePatchMap(map);
    for (let len = 0; len < good.length; len++) {
      const err = appError(() => decodePatchMap(good.subarray(0, len)));
      expect(err.code).toBe('invalid-argument');
      expect(err.message).toMatch(/shorter than the 10-byte header|cut short|left over/);
      expect(err.hint.length).toBeGreaterThan(10);
    }
    const edit = (at: number, value: number) => {
      const b = good.slice();
      b[at] = value;
      return b;
    };
    const withScale = (patchAt: number, scale: number) => {
      const b = good.slice();
      new DataView(b.buffer).setFloat32(patchAt + 1, scale, true);
      return b;
    };
    const firstPatch = 10;
    expect(appError(() => decodePatchMap(edit(0, 0x51))).message).toMatch(/bad magic/);
    expect(appError(() => decodePatchMap(edit(2, 2))).message).toMatch(/unknown version 2/);
    expect(appError(() => decodePatchMap(edit(3, 1))).message).toMatch(/reserved/);
    expect(appError(() => decodePatchMap(edit(4, 0))).message).toMatch(/zero side/);
    expect(appError(() => decodePatchMap(edit(firstPatch, 4))).message).toMatch(/unknown flags/);
    expect(appError(() => decodePatchMap(withScale(firstPatch, Number.NaN))).message).toMatch(/patch 0 has scale NaN/);
    expect(appError(() => decodePatchMap(withScale(firstPatch, -1))).message).toMatch(/patch 0 has scale -1/);
    expect(appError(() => decodePatchMap(Uint8Array.of(...good, 0))).message).toMatch(/1 bytes left over/);
    // c = 12: the second bitmap byte may only use its low 4 bits.
    const bitmapAt = firstPatch + 5 + 1;
    expect(layout(good)[0].flags & 1).toBe(1);
    expect(appError(() => decodePatchMap(edit(bitmapAt, good[bitmapAt] | 0x80))).message).toMatch(/past c = 12/);
    // A header asking for more than 2^24 values, with no bytes behind it.
    const huge = good.slice(0, 10);
    new DataView(huge.buffer).setUint16(4, 0xffff, true);
    new DataView(huge.buffer).setUint16(6, 0xffff, true);
    expect(appError(() => decodePatchMap(huge)).message).toMatch(/over 16777216 values/);
  });

  it('never throws anything but an AppError on random garbage (with and without a valid header)', () => {
    const rand = seededRandom(35);
    const good = encodePatchMap(sparseMap(rand, 2, 2, 40, 0.6));
    let decoded = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const len = Math.floor(rand() * 300);
      const bytes = Uint8Array.from({ length: len }, () => Math.floor(rand() * 256));
      if (trial % 3 === 1) bytes.set(good.subarray(0, Math.min(len, 10)));
      if (trial % 3 === 2) {
        // A valid stream with a few bytes flipped.
        const b = good.slice();
        for (let f = 0; f < 3; f++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        bytes.set(b.subarray(0, Math.min(len, b.length)));
      }
      try {
        const map = decodePatchMap(bytes);
        expect(map.data.length).toBe(map.h * map.w * map.c);
        decoded++;
      } catch (e) {
        expect(e).toBeInstanceOf(AppError);
      }
    }
    expect(decoded).toBeGreaterThan(0);
  });
});

describe('decodePatchMapUnit (stage 2 reads candidates with it)', () => {
  it('gives bit for bit what decodePatchMap then the engine normalisation (faceDetailOf) give, for sparse, dense, signed maps and empty patches', () => {
    const rand = seededRandom(41);
    const maps = [sparseMap(rand, 7, 7, 1024, 0.9, [0, 12, 48]), denseSignedMap(rand, 7, 7, 512), sparseMap(rand, 4, 4, 24, 0.5, [3]), sparseMap(rand, 2, 3, 9, 1)];
    for (const map of maps) {
      const bytes = encodePatchMap(map);
      const want = faceDetailOf({ patches: decodePatchMap(bytes), cropSize: 224 });
      const got = decodePatchMapUnit(bytes);
      expect([got.h, got.w, got.c]).toEqual([map.h, map.w, map.c]);
      expect(got.unitPatches).toEqual(want.unitPatches);
      expect(got.patchNorms).toEqual(want.patchNorms);
      expect(got.unitAverage).toEqual(want.unitAverage);
    }
  });

  it('decodes into lent arrays when their shapes match, leaving nothing of the face they held', () => {
    const rand = seededRandom(43);
    const first = decodePatchMapUnit(encodePatchMap(denseSignedMap(rand, 7, 7, 64)));
    const map = sparseMap(rand, 7, 7, 64, 0.9, [5]);
    const bytes = encodePatchMap(map);
    const fresh = decodePatchMapUnit(bytes);
    const lent = decodePatchMapUnit(bytes, first);
    expect(lent.unitPatches).toBe(first.unitPatches);
    expect(lent.patchNorms).toBe(first.patchNorms);
    expect(lent.unitAverage).toBe(first.unitAverage);
    expect(lent.unitPatches).toEqual(fresh.unitPatches);
    expect(lent.patchNorms).toEqual(fresh.patchNorms);
    expect(lent.unitAverage).toEqual(fresh.unitAverage);
    const other = decodePatchMapUnit(encodePatchMap(sparseMap(rand, 4, 4, 64, 0.5)), fresh);
    expect(other.unitPatches).not.toBe(fresh.unitPatches);
    expect(other.unitPatches.length).toBe(16 * 64);
  });

  it('refuses corrupt bytes like decodePatchMap', () => {
    const bytes = encodePatchMap(sparseMap(seededRandom(2), 7, 7, 64, 0.8));
    expect(() => decodePatchMapUnit(bytes.subarray(0, bytes.length - 3))).toThrow(AppError);
  });
});

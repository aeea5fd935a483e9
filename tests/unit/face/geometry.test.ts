/** Alignment geometry on synthetic points and images with known answers. */
import { describe, expect, it } from 'vitest';
import type { Point, RgbaImage } from '../../../src/core/types.ts';
import { fivePointsFrom68 } from '../../../src/face/fivePoints.ts';
import { ResampleScratch, resampleRect, type Rect } from '../../../src/face/pixels.ts';
import { applyAffine, fitResidual, fitSimilarity, invertAffine, type Affine2x3 } from '../../../src/face/similarity.ts';
import { warpAffineBilinear, warpFace } from '../../../src/face/warp.ts';

const TEMPLATE: Point[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

function similarity(scale: number, angle: number, tx: number, ty: number): Affine2x3 {
  const c = scale * Math.cos(angle);
  const s = scale * Math.sin(angle);
  return [c, -s, tx, s, c, ty];
}

function blank(width: number, height: number, value = 0): RgbaImage {
  const data = new Uint8ClampedArray(width * height * 4).fill(value);
  for (let i = 3; i < data.length; i += 4) data[i] = 255;
  return { width, height, data };
}

/** Brightness-weighted centroid of the red channel (pixel-centre coordinates). */
function centroid(img: RgbaImage): Point {
  let sx = 0;
  let sy = 0;
  let sw = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      const w = img.data[(y * img.width + x) * 4];
      sx += w * x;
      sy += w * y;
      sw += w;
    }
  }
  return [sx / sw, sy / sw];
}

describe('fivePointsFrom68', () => {
  it('takes eye centres as the mean of 36-41 and 42-47, nose 30, mouth 48 and 54', () => {
    const pts: Point[] = Array.from({ length: 68 }, (_, i) => [i, 1000 - 2 * i]);
    expect(fivePointsFrom68(pts)).toEqual([
      [38.5, 1000 - 77],
      [44.5, 1000 - 89],
      [30, 940],
      [48, 904],
      [54, 892],
    ]);
  });
});

describe('fitSimilarity (Umeyama)', () => {
  it('recovers an exact similarity transform', () => {
    const truth = similarity(0.37, -0.41, 12.5, -3.25);
    const from: Point[] = [
      [100, 120],
      [180, 118],
      [141, 170],
      [110, 210],
      [175, 206],
    ];
    const to = from.map((p) => applyAffine(truth, p));
    const m = fitSimilarity(from, to);
    m.forEach((v, i) => expect(v).toBeCloseTo(truth[i], 9));
    expect(fitResidual(m, from, to)).toBeLessThan(1e-9);
  });

  it('is the least-squares optimum with noisy points (any nudge of its 4 parameters does worse)', () => {
    const from: Point[] = TEMPLATE.map(([x, y], i) => [x * 2.3 + 40 + (i % 2 ? 1.7 : -1.1), y * 2.3 + 15 + (i % 3) - 1]);
    const m = fitSimilarity(from, TEMPLATE);
    const best = fitResidual(m, from, TEMPLATE);
    const [a, , tx, c, , ty] = m;
    for (const [da, dc, dx, dy] of [
      [1e-3, 0, 0, 0],
      [-1e-3, 0, 0, 0],
      [0, 1e-3, 0, 0],
      [0, -1e-3, 0, 0],
      [0, 0, 0.01, 0],
      [0, 0, -0.01, 0],
      [0, 0, 0, 0.01],
      [0, 0, 0, -0.01],
    ]) {
      const nudged: Affine2x3 = [a + da, -(c + dc), tx + dx, c + dc, a + da, ty + dy];
      expect(fitResidual(nudged, from, TEMPLATE)).toBeGreaterThan(best);
    }
  });

  it('never reflects: a mirrored point set gets a rotation, not a flip', () => {
    const mirrored = TEMPLATE.map(([x, y]): Point => [112 - x, y]);
    const m = fitSimilarity(mirrored, TEMPLATE);
    expect(m[0] * m[4] - m[1] * m[3]).toBeGreaterThan(0);
  });

  it('inverts', () => {
    const m = similarity(1.7, 2.1, -30, 44);
    const inv = invertAffine(m);
    for (const p of TEMPLATE) {
      const back = applyAffine(inv, applyAffine(m, p));
      expect(back[0]).toBeCloseTo(p[0], 9);
      expect(back[1]).toBeCloseTo(p[1], 9);
    }
  });
});

describe('warp', () => {
  it('moves a bright spot to where the transform sends its centre', () => {
    const img = blank(100, 80);
    for (let y = 29; y <= 31; y++) for (let x = 39; x <= 41; x++) img.data[(y * 100 + x) * 4] = 255;
    // Spot centre (40, 30) -> (56, 56), scale 1.5, rotation 30 degrees.
    const rot = similarity(1.5, Math.PI / 6, 0, 0);
    const [qx, qy] = applyAffine(rot, [40, 30]);
    const m: Affine2x3 = [rot[0], rot[1], 56 - qx, rot[3], rot[4], 56 - qy];
    const [cx, cy] = centroid(warpAffineBilinear(img, m, 112, 112));
    expect(Math.abs(cx - 56)).toBeLessThan(0.2);
    expect(Math.abs(cy - 56)).toBeLessThan(0.2);
  });

  it('copies pixels exactly under an integer translation and paints black outside', () => {
    const img = blank(20, 20);
    for (let i = 0; i < 400; i++) img.data[i * 4 + 1] = i % 251;
    const out = warpAffineBilinear(img, [1, 0, -5, 0, 1, -3], 12, 12);
    for (let y = 0; y < 12; y++) for (let x = 0; x < 12; x++) expect(out.data[(y * 12 + x) * 4 + 1]).toBe(((y + 3) * 20 + x + 5) % 251);
    const shifted = warpAffineBilinear(img, [1, 0, 15, 0, 1, 0], 20, 20);
    expect(Array.from(shifted.data.subarray(0, 4))).toEqual([0, 0, 0, 255]);
  });

  it('averages, rather than aliases, when shrinking a fine pattern 8x', () => {
    const big = blank(896, 896);
    for (let y = 0; y < 896; y++) for (let x = 0; x < 896; x++) if ((x + y) % 2 === 0) big.data.fill(255, (y * 896 + x) * 4, (y * 896 + x) * 4 + 3);
    const m: Affine2x3 = [1 / 8, 0, 0, 0, 1 / 8, 0];
    const out = warpFace(big, m, 112, 112);
    let min = 255;
    let max = 0;
    for (let y = 4; y < 108; y++) {
      for (let x = 4; x < 108; x++) {
        const v = out.data[(y * 112 + x) * 4];
        min = Math.min(min, v);
        max = Math.max(max, v);
      }
    }
    // A checkerboard averages to mid-grey; plain bilinear sampling would land on pure black or white.
    expect(min).toBeGreaterThan(110);
    expect(max).toBeLessThan(145);
  });

  it('keeps geometry when shrinking: a spot lands where the transform says', () => {
    const big = blank(800, 600);
    for (let y = 290; y <= 310; y++) for (let x = 390; x <= 410; x++) big.data[(y * 800 + x) * 4] = 255;
    const rot = similarity(0.14, 0.2, 0, 0);
    const [qx, qy] = applyAffine(rot, [400, 300]);
    const m: Affine2x3 = [rot[0], rot[1], 56 - qx, rot[3], rot[4], 56 - qy];
    const [cx, cy] = centroid(warpFace(big, m, 112, 112));
    expect(Math.abs(cx - 56)).toBeLessThan(0.3);
    expect(Math.abs(cy - 56)).toBeLessThan(0.3);
  });
});

describe('resampleRect', () => {
  it('area-averages 2x2 blocks when halving', () => {
    const img = blank(4, 2);
    [10, 20, 30, 40, 50, 60, 70, 80].forEach((v, i) => (img.data[i * 4] = v));
    const out = resampleRect(img, { x: 0, y: 0, width: 4, height: 2 }, 2, 1);
    expect([out.data[0], out.data[4]]).toEqual([(10 + 20 + 50 + 60) / 4, (30 + 40 + 70 + 80) / 4]);
  });

  it('keeps a linear ramp linear when enlarging a sub-rectangle', () => {
    const img = blank(50, 10);
    for (let y = 0; y < 10; y++) for (let x = 0; x < 50; x++) img.data[(y * 50 + x) * 4] = 4 * x;
    // Rect [10, 30) enlarged 2x: output pixel o samples source centre 10 + (o + 0.5) / 2 - 0.5.
    const out = resampleRect(img, { x: 10, y: 0, width: 20, height: 10 }, 40, 20);
    for (const o of [1, 7, 20, 38]) expect(Math.abs(out.data[(5 * 40 + o) * 4] - 4 * (10 + (o + 0.5) / 2 - 0.5))).toBeLessThanOrEqual(0.5);
  });

  it('gives the same pixels in reused memory, whatever the memory held before, and lends it until the next call', () => {
    const img = blank(37, 23);
    for (let i = 0; i < img.data.length; i++) img.data[i] = (i * 97 + 13) % 256;
    const scratch = new ResampleScratch();
    // Shrink, enlarge, a sub-rectangle, a bigger output, then a smaller one again: the memory holds the last one's pixels each time.
    const jobs: [Rect, number, number][] = [
      [{ x: 0, y: 0, width: 37, height: 23 }, 11, 7],
      [{ x: 0, y: 0, width: 37, height: 23 }, 80, 50],
      [{ x: 3.5, y: 2.25, width: 20, height: 9 }, 33, 17],
      [{ x: -4, y: -4, width: 45, height: 31 }, 120, 90],
      [{ x: 0, y: 0, width: 37, height: 23 }, 5, 3],
    ];
    for (const [rect, w, h] of jobs) {
      const fresh = resampleRect(img, rect, w, h);
      const reused = resampleRect(img, rect, w, h, scratch);
      expect(reused.data.length).toBe(w * h * 4);
      expect(Array.from(reused.data)).toEqual(Array.from(fresh.data));
    }
    // Two calls share memory: views of the same (grown) buffer.
    const a = resampleRect(img, jobs[0][0], 11, 7, scratch);
    const b = resampleRect(img, jobs[4][0], 5, 3, scratch);
    expect(b.data.buffer).toBe(a.data.buffer);
  });
});

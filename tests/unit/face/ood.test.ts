/**
 * Query generators on a real aligned face (its own landmarks) and on a
 * synthetic ramp whose pixel values encode their coordinates.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Point, RgbaImage } from '../../../src/core/types.ts';
import { applyOod, LENS_COLOUR, MASK_COLOUR } from '../../../src/face/ood.ts';
import type { AlignedFace } from '../../../src/face/pipeline.ts';
import { dataPath } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { createPipeline } from './helpers/models.ts';

let face: AlignedFace;
beforeAll(async () => {
  const { pipeline } = await createPipeline();
  const name = 'lfw-dev/Aaron_Sorkin/Aaron_Sorkin_0001.jpg';
  const image = decodeImageNode(new Uint8Array(readFileSync(dataPath(name))), name);
  face = await pipeline.analyse(image, name);
});

const at = (img: RgbaImage, p: Point) => {
  const i = (Math.round(p[1]) * img.width + Math.round(p[0])) * 4;
  return [img.data[i], img.data[i + 1], img.data[i + 2]];
};
const sameBytes = (a: Uint8ClampedArray, b: Uint8ClampedArray) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
const near = (a: readonly number[], b: readonly number[], tol: number) => a.every((v, i) => Math.abs(v - b[i]) <= tol);
const range = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
const MOUTH = range(48, 67);
const EYES = range(36, 47);

describe('OOD generators', () => {
  it('the test face has its eyes above its mouth inside the crop (sanity of the landmarks used)', () => {
    for (const i of [...MOUTH, ...EYES]) {
      expect(face.landmarksAligned[i][0]).toBeGreaterThan(5);
      expect(face.landmarksAligned[i][0]).toBeLessThan(107);
    }
    expect(face.landmarksAligned[51][1] - face.landmarksAligned[37][1]).toBeGreaterThan(25);
  });

  it('none returns the face unchanged', () => {
    const out = applyOod('none', face, 1);
    expect(sameBytes(out.aligned.data, face.aligned.data)).toBe(true);
  });

  it('mask covers the mouth landmarks and the nose tip, and leaves the eyes alone', () => {
    const out = applyOod('mask', face, 1);
    for (const i of [...MOUTH, 33]) expect(near(at(out.aligned, face.landmarksAligned[i]), MASK_COLOUR, 2), `landmark ${i}`).toBe(true);
    for (const i of EYES) expect(at(out.aligned, face.landmarksAligned[i]), `landmark ${i}`).toEqual(at(face.aligned, face.landmarksAligned[i]));
  });

  it('sunglasses cover the eye landmarks and leave the mouth alone', () => {
    const out = applyOod('sunglasses', face, 1);
    for (const i of EYES) expect(near(at(out.aligned, face.landmarksAligned[i]), LENS_COLOUR, 2), `landmark ${i}`).toBe(true);
    for (const i of MOUTH) expect(at(out.aligned, face.landmarksAligned[i]), `landmark ${i}`).toEqual(at(face.aligned, face.landmarksAligned[i]));
    // The bridge: somewhere on the vertical line midway between the eye centres, near eye level, it is dark.
    const mean = (ids: number[]) => ids.reduce((a, i) => [a[0] + face.landmarksAligned[i][0] / ids.length, a[1] + face.landmarksAligned[i][1] / ids.length], [0, 0]);
    const [lx, ly] = mean(range(36, 41));
    const [rx, ry] = mean(range(42, 47));
    const column = Array.from({ length: 17 }, (_, k) => at(out.aligned, [(lx + rx) / 2, (ly + ry) / 2 - 8 + k])[0]);
    expect(Math.min(...column)).toBeLessThan(40);
    const before = Array.from({ length: 17 }, (_, k) => at(face.aligned, [(lx + rx) / 2, (ly + ry) / 2 - 8 + k])[0]);
    expect(Math.min(...before)).toBeGreaterThan(60); // it was not dark before
  });

  it('the same seed gives the same pixels; other seeds move the crop', () => {
    for (const t of ['crop', 'mask', 'sunglasses'] as const) expect(sameBytes(applyOod(t, face, 42).aligned.data, applyOod(t, face, 42).aligned.data), t).toBe(true);
    expect(sameBytes(applyOod('crop', face, 42).aligned.data, applyOod('crop', face, 43).aligned.data)).toBe(false);
    const rects = new Set(range(1, 20).map((s) => JSON.stringify(applyOod('crop', face, s).cropRect)));
    expect(rects.size).toBeGreaterThan(10);
  });

  it('crop takes 70% of the side at a random place and enlarges it back (measured on a coordinate ramp)', () => {
    // Red = 2x, green = 2y: a pixel's colour says which source pixel it shows.
    const S = 112;
    const ramp: RgbaImage = { width: S, height: S, data: new Uint8ClampedArray(S * S * 4) };
    for (let y = 0; y < S; y++) for (let x = 0; x < S; x++) ramp.data.set([2 * x, 2 * y, 0, 255], (y * S + x) * 4);
    const landmarks = face.landmarksAligned;
    for (const seed of [1, 2, 3, 99]) {
      const out = applyOod('crop', { aligned: ramp, landmarksAligned: landmarks }, seed);
      expect([out.aligned.width, out.aligned.height]).toEqual([S, S]);
      // Source x shown at output columns 10 and 100, from the red ramp: the span per output pixel gives the crop side.
      const red = (x: number) => out.aligned.data[(56 * S + x) * 4] / 2;
      const green = (y: number) => out.aligned.data[(y * S + 56) * 4 + 1] / 2;
      const sideX = ((red(100) - red(10)) / 90) * S;
      const sideY = ((green(100) - green(10)) / 90) * S;
      expect(Math.abs(sideX - 0.7 * S)).toBeLessThan(1);
      expect(Math.abs(sideY - 0.7 * S)).toBeLessThan(1);
      // The crop lies inside the face picture.
      const left = red(10) - (10.5 * sideX) / S + 0.5;
      const top = green(10) - (10.5 * sideY) / S + 0.5;
      expect(left).toBeGreaterThanOrEqual(-0.5);
      expect(left + sideX).toBeLessThanOrEqual(S + 0.5);
      expect(top).toBeGreaterThanOrEqual(-0.5);
      expect(top + sideY).toBeLessThanOrEqual(S + 0.5);
      // Landmarks move with the pixels: the ramp's value under a moved landmark is the landmark's old position.
      for (const i of [30, 36, 48]) {
        const p = out.landmarksAligned[i];
        if (p[0] < 1 || p[1] < 1 || p[0] > S - 2 || p[1] > S - 2) continue;
        const q = landmarks[i];
        const x0 = Math.floor(p[0]);
        const fx = p[0] - x0;
        const row = Math.round(p[1]);
        const shownX = ((1 - fx) * out.aligned.data[(row * S + x0) * 4] + fx * out.aligned.data[(row * S + x0 + 1) * 4]) / 2;
        expect(Math.abs(shownX - q[0])).toBeLessThan(1);
      }
    }
  });
});

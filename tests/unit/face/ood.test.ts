/**
 * Query generators on a real aligned face (its own landmarks) and on a
 * synthetic ramp whose pixel values encode their coordinates.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Point, RgbaImage } from '../../../src/core/types.ts';
import { meanPoint, LEFT_EYE, RIGHT_EYE } from '../../../src/face/fivePoints.ts';
import { applyOod, LENS_COLOUR, MASK_COLOUR } from '../../../src/face/ood.ts';
import type { AlignedFace } from '../../../src/face/pipeline.ts';
import { dataPath, listIdentityImages } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { createPipeline } from './helpers/models.ts';

let face: AlignedFace;
let pipeline: Awaited<ReturnType<typeof createPipeline>>['pipeline'];
beforeAll(async () => {
  ({ pipeline } = await createPipeline());
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

  // The authors' overlays are found by differencing their -glass / -masked image with its original; ours by
  // differencing our output with its input. Both are measured in the same frame: centred between the eyes (our 68
  // landmarks), unit = inter-ocular distance D, clipped to |u| <= 1.3 so that temple arms outside a tight crop do
  // not count. A pixel counts as covered when it changed and looks like the overlay (dark glass, light-blue mask).
  const lum = (im: RgbaImage, i: number) => 0.3 * im.data[i] + 0.59 * im.data[i + 1] + 0.11 * im.data[i + 2];
  const covered = {
    sunglasses: (before: RgbaImage, after: RgbaImage, i: number) => lum(after, i) < 45 && lum(before, i) - lum(after, i) > 25,
    mask: (before: RgbaImage, after: RgbaImage, i: number) => after.data[i + 2] > after.data[i] + 25 && [0, 1, 2].reduce((d, c) => d + Math.abs(after.data[i + c] - before.data[i + c]), 0) > 60,
  };
  const frameStats = (kind: keyof typeof covered, before: RgbaImage, after: RgbaImage, landmarks: readonly Point[]) => {
    const l = meanPoint(landmarks, LEFT_EYE);
    const r = meanPoint(landmarks, RIGHT_EYE);
    const D = Math.hypot(r[0] - l[0], r[1] - l[1]);
    const [cx, cy] = [(l[0] + r[0]) / 2, (l[1] + r[1]) / 2];
    const [cos, sin] = [(r[0] - l[0]) / D, (r[1] - l[1]) / D];
    const vs: number[] = [];
    for (let y = 0; y < after.height; y++) {
      for (let x = 0; x < after.width; x++) {
        if (!covered[kind](before, after, (y * after.width + x) * 4)) continue;
        const u = ((x - cx) * cos + (y - cy) * sin) / D;
        if (Math.abs(u) <= 1.3) vs.push((-(x - cx) * sin + (y - cy) * cos) / D);
      }
    }
    vs.sort((a, b) => a - b);
    return { area: vs.length / (D * D), vTop: vs[Math.floor(0.05 * vs.length)], vBottom: vs[Math.floor(0.95 * vs.length)] };
  };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  // [transform, authors' folder, least plausible area of the authors' overlay in D^2, edge tolerance in D]
  const overlays = [
    ['sunglasses', 'lfw-align-128-glass', 0.9, 0.08],
    ['mask', 'lfw-align-128-masked', 1.8, 0.15],
  ] as const;
  it.each(overlays)("%s covers about as much of the face as the authors' own queries (paper-small/%s vs the original)", async (kind, folder, minArea, edgeTol) => {
    const authors: ReturnType<typeof frameStats>[] = [];
    const ours: ReturnType<typeof frameStats>[] = [];
    for (const img of listIdentityImages('paper-small/lfw-align-128')) {
      const original = decodeImageNode(new Uint8Array(readFileSync(img.path)), img.name);
      const theirsName = `paper-small/${folder}/${img.name}`;
      const theirs = decodeImageNode(new Uint8Array(readFileSync(dataPath(theirsName))), theirsName);
      const analysis = await pipeline.analyse(original, img.name);
      authors.push(frameStats(kind, original, theirs, analysis.faces[analysis.chosenIndex].landmarks68));
      ours.push(frameStats(kind, analysis.aligned, applyOod(kind, analysis, 1).aligned, analysis.landmarksAligned));
    }
    expect(authors.length).toBe(10);
    const summary = (xs: typeof authors) => ({ area: median(xs.map((s) => s.area)), vTop: median(xs.map((s) => s.vTop)), vBottom: median(xs.map((s) => s.vBottom)) });
    const a = summary(authors);
    const o = summary(ours);
    const detail = JSON.stringify({ authors: a, ours: o });
    expect(a.area, detail).toBeGreaterThan(minArea);
    // Small round lenses (0.6 D^2 against the authors' 1.3) fail this.
    expect(o.area / a.area, detail).toBeGreaterThan(0.8);
    expect(o.area / a.area, detail).toBeLessThan(1.25);
    expect(Math.abs(o.vTop - a.vTop), `top edge ${detail}`).toBeLessThan(edgeTol);
    expect(Math.abs(o.vBottom - a.vBottom), `bottom edge ${detail}`).toBeLessThan(edgeTol);
  });
});

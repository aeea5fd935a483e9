/**
 * Out-of-distribution query generators (the paper's section 4), applied to
 * the aligned face and its aligned landmarks, deterministic for a seed:
 * - crop: a random square of 70% of the side, enlarged back to full size;
 * - mask: a flat light-blue surgical-mask polygon through jaw points 2-14
 *   and the nose bridge (29), covering nose tip, mouth and chin;
 * - sunglasses: two dark ellipses over the eyes (36-41, 42-47) and a bridge.
 * Shapes follow method.md's "What a prototype measured" table. Only `crop`
 * draws random numbers; the overlays are fixed by the landmarks.
 */
import type { OodTransform, Point, RgbaImage } from '../core/types.ts';
import type { AlignedFace } from './pipeline.ts';
import { meanPoint, LEFT_EYE, RIGHT_EYE } from './fivePoints.ts';
import { resampleRect } from './pixels.ts';

export const CROP_FRACTION = 0.7;
export const MASK_COLOUR: readonly [number, number, number] = [156, 199, 227];
export const LENS_COLOUR: readonly [number, number, number] = [18, 18, 22];
/** Jaw contour 2..14, then up to the nose bridge (29). */
export const MASK_OUTLINE = [2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 29] as const;

export interface OodResult extends AlignedFace {
  readonly transform: OodTransform;
  /** For `crop`: the square taken (edge coordinates of the aligned face). */
  readonly cropRect?: { readonly x: number; readonly y: number; readonly side: number };
}

/** mulberry32: a tiny, well-mixed 32-bit PRNG; returns floats in [0, 1). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function applyOod(transform: OodTransform, face: AlignedFace, seed: number): OodResult {
  switch (transform) {
    case 'none':
      return { transform, aligned: face.aligned, landmarksAligned: face.landmarksAligned };
    case 'crop':
      return randomCrop(face, seed);
    case 'mask':
      return { transform, aligned: drawMask(face.aligned, face.landmarksAligned), landmarksAligned: face.landmarksAligned };
    case 'sunglasses':
      return { transform, aligned: drawSunglasses(face.aligned, face.landmarksAligned), landmarksAligned: face.landmarksAligned };
  }
}

function randomCrop(face: AlignedFace, seed: number): OodResult {
  const { width, height } = face.aligned;
  const random = mulberry32(seed);
  const side = Math.round(CROP_FRACTION * Math.min(width, height));
  const x = Math.floor(random() * (width - side + 1));
  const y = Math.floor(random() * (height - side + 1));
  const aligned = resampleRect(face.aligned, { x, y, width: side, height: side }, width, height);
  const sx = width / side;
  const sy = height / side;
  // Pixel-centre coordinates: a point at c sits at edge c + 0.5.
  const landmarksAligned = face.landmarksAligned.map((p): Point => [(p[0] + 0.5 - x) * sx - 0.5, (p[1] + 0.5 - y) * sy - 0.5]);
  return { transform: 'crop', aligned, landmarksAligned, cropRect: { x, y, side } };
}

type Inside = (x: number, y: number) => boolean;

/**
 * Paints `colour` where `inside` holds, anti-aliased by 4x4 supersampling
 * inside [x0, x1] x [y0, y1] (pixel-centre coordinates).
 */
function paint(image: RgbaImage, inside: Inside, bounds: readonly [number, number, number, number], colour: readonly number[]): void {
  const N = 4;
  const xa = Math.max(0, Math.floor(bounds[0]));
  const ya = Math.max(0, Math.floor(bounds[1]));
  const xb = Math.min(image.width - 1, Math.ceil(bounds[2]));
  const yb = Math.min(image.height - 1, Math.ceil(bounds[3]));
  const d = image.data;
  for (let y = ya; y <= yb; y++) {
    for (let x = xa; x <= xb; x++) {
      let hits = 0;
      for (let j = 0; j < N; j++) {
        for (let i = 0; i < N; i++) if (inside(x - 0.5 + (i + 0.5) / N, y - 0.5 + (j + 0.5) / N)) hits++;
      }
      if (hits === 0) continue;
      const a = hits / (N * N);
      const p = (y * image.width + x) * 4;
      for (let c = 0; c < 3; c++) d[p + c] = d[p + c] * (1 - a) + colour[c] * a;
    }
  }
}

function copyImage(image: RgbaImage): RgbaImage {
  return { width: image.width, height: image.height, data: new Uint8ClampedArray(image.data) };
}

function insidePolygon(poly: readonly Point[]): Inside {
  return (x, y) => {
    let inside = false;
    for (let i = 0, j = poly.length - 1; i < poly.length; j = i++) {
      const [xi, yi] = poly[i];
      const [xj, yj] = poly[j];
      if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
    }
    return inside;
  };
}

function boundsOf(points: readonly Point[], pad: number): [number, number, number, number] {
  const xs = points.map((p) => p[0]);
  const ys = points.map((p) => p[1]);
  return [Math.min(...xs) - pad, Math.min(...ys) - pad, Math.max(...xs) + pad, Math.max(...ys) + pad];
}

export function drawMask(image: RgbaImage, landmarks: readonly Point[]): RgbaImage {
  const out = copyImage(image);
  const outline = MASK_OUTLINE.map((i) => landmarks[i]);
  paint(out, insidePolygon(outline), boundsOf(outline, 1), MASK_COLOUR);
  return out;
}

/** Lens half-width and half-height as fractions of the eye's corner-to-corner width. */
const LENS_HALF_WIDTH = 0.9;
const LENS_HALF_HEIGHT = 0.7;
const BRIDGE_HALF_THICKNESS = 0.1;

export function drawSunglasses(image: RgbaImage, landmarks: readonly Point[]): RgbaImage {
  const out = copyImage(image);
  const left = meanPoint(landmarks, LEFT_EYE);
  const right = meanPoint(landmarks, RIGHT_EYE);
  const eyeWidth = (Math.hypot(landmarks[39][0] - landmarks[36][0], landmarks[39][1] - landmarks[36][1]) + Math.hypot(landmarks[45][0] - landmarks[42][0], landmarks[45][1] - landmarks[42][1])) / 2;
  // The glasses follow the line through the eyes, so a tilted head gets tilted glasses.
  const angle = Math.atan2(right[1] - left[1], right[0] - left[0]);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const a = LENS_HALF_WIDTH * eyeWidth;
  const b = LENS_HALF_HEIGHT * eyeWidth;
  const t = BRIDGE_HALF_THICKNESS * eyeWidth;
  const span = Math.hypot(right[0] - left[0], right[1] - left[1]);
  // u along the eye line from the left eye centre, v across it.
  const local = (x: number, y: number): [number, number] => {
    const dx = x - left[0];
    const dy = y - left[1];
    return [dx * cos + dy * sin, -dx * sin + dy * cos];
  };
  const inLens = (u: number, v: number) => (u / a) ** 2 + (v / b) ** 2 <= 1;
  const inside: Inside = (x, y) => {
    const [u, v] = local(x, y);
    // The bridge sits a little above the lens centres, like a real frame.
    return inLens(u, v) || inLens(u - span, v) || (u >= 0 && u <= span && Math.abs(v + 0.3 * b) <= t);
  };
  const reach = a + b;
  const bounds: [number, number, number, number] = [
    Math.min(left[0], right[0]) - reach,
    Math.min(left[1], right[1]) - reach,
    Math.max(left[0], right[0]) + reach,
    Math.max(left[1], right[1]) + reach,
  ];
  paint(out, inside, bounds, LENS_COLOUR);
  return out;
}

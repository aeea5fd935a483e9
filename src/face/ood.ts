/**
 * Out-of-distribution query generators (the paper's section 4), applied to
 * the aligned face and its aligned landmarks, deterministic for a seed:
 * - crop: a random square of 70% of the side, enlarged back to full size;
 * - mask: a flat light-blue surgical-mask polygon through jaw points 2-14
 *   and the nose bridge (29), covering nose tip, mouth and chin;
 * - sunglasses: dark wayfarer-like glasses over the eyes (36-41, 42-47),
 *   sized like the authors' own sunglasses queries (see drawSunglasses).
 * Only `crop` draws random numbers; the overlays are fixed by the landmarks.
 */
import { seededRandom } from '../core/random.ts';
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
  const random = seededRandom(seed);
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

/**
 * Glasses geometry in units of the inter-ocular distance D (eye centre to eye
 * centre), in a frame centred between the eyes with u along the eye line and
 * v pointing down the face. Measured on the authors' own sunglasses queries
 * (../shared/data/paper-small, `-glass` vs original, dark pixels located with
 * our 68 landmarks, 10 images): the dark area inside |u| <= 1.3 is about
 * 1.1-1.7 D^2 and spans v from about -0.4 to +0.35; wayfarer-like lenses with
 * a flat top edge, a round bottom and a thick bridge along the top.
 */
const LENS_CENTRE_U = 0.72;
const LENS_HALF_WIDTH = 0.58;
const LENS_TOP = 0.4;
const LENS_BOTTOM = 0.34;
const BRIDGE_TOP = -0.4;
const BRIDGE_BOTTOM = -0.18;
/** Temple arms: a thin bar along the top edge, out to the sides of the face. */
const ARM_REACH = 1.6;
const ARM_HALF_THICKNESS = 0.05;

export function drawSunglasses(image: RgbaImage, landmarks: readonly Point[]): RgbaImage {
  const out = copyImage(image);
  const left = meanPoint(landmarks, LEFT_EYE);
  const right = meanPoint(landmarks, RIGHT_EYE);
  const D = Math.hypot(right[0] - left[0], right[1] - left[1]);
  const centre: Point = [(left[0] + right[0]) / 2, (left[1] + right[1]) / 2];
  // The glasses follow the line through the eyes, so a tilted head gets tilted glasses.
  const cos = (right[0] - left[0]) / D;
  const sin = (right[1] - left[1]) / D;
  const local = (x: number, y: number): [number, number] => {
    const dx = x - centre[0];
    const dy = y - centre[1];
    return [(dx * cos + dy * sin) / D, (-dx * sin + dy * cos) / D];
  };
  // A squarer superellipse above the lens centre gives the flat top edge; an ellipse below gives the round bottom.
  const inLens = (u: number, v: number) => {
    const x = Math.abs((Math.abs(u) - LENS_CENTRE_U) / LENS_HALF_WIDTH);
    return v < 0 ? x ** 4 + (-v / LENS_TOP) ** 4 <= 1 : x ** 2 + (v / LENS_BOTTOM) ** 2 <= 1;
  };
  const inside: Inside = (x, y) => {
    const [u, v] = local(x, y);
    if (inLens(u, v)) return true;
    if (Math.abs(u) <= LENS_CENTRE_U && v >= BRIDGE_TOP && v <= BRIDGE_BOTTOM) return true;
    return Math.abs(u) <= ARM_REACH && Math.abs(v - (BRIDGE_TOP + ARM_HALF_THICKNESS)) <= ARM_HALF_THICKNESS;
  };
  const reach = ARM_REACH * D;
  const bounds: [number, number, number, number] = [centre[0] - reach, centre[1] - reach, centre[0] + reach, centre[1] + reach];
  paint(out, inside, bounds, LENS_COLOUR);
  return out;
}

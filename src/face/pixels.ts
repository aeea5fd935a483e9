/**
 * Pixel helpers shared by decoding, detection, landmarks and the generators:
 * alpha flattening, luma, and resampling a rectangle of an image to a
 * new size (area averaging when shrinking, so a 4000 px photo shrunk to the
 * detector's 320 px does not alias; bilinear when enlarging).
 *
 * Coordinates: pixel (i, j) covers [i, i+1) x [j, j+1); its centre is
 * (i + 0.5, j + 0.5) in "edge" coordinates. Landmarks and templates use centre
 * coordinates (pixel i at i, as OpenCV's warpAffine does); the two differ by 0.5
 * and each function says which it takes.
 */
import type { RgbaImage } from '../core/types.ts';

/** Composites transparent pixels over white (a transparent PNG background becomes paper, not black). */
export function flattenAlphaOnWhite(image: RgbaImage): RgbaImage {
  const src = image.data;
  let opaque = true;
  for (let i = 3; i < src.length; i += 4) {
    if (src[i] !== 255) {
      opaque = false;
      break;
    }
  }
  if (opaque) return image;
  const out = new Uint8ClampedArray(src.length);
  for (let i = 0; i < src.length; i += 4) {
    const a = src[i + 3] / 255;
    const white = 255 * (1 - a);
    out[i] = src[i] * a + white;
    out[i + 1] = src[i + 1] * a + white;
    out[i + 2] = src[i + 2] * a + white;
    out[i + 3] = 255;
  }
  return { width: image.width, height: image.height, data: out };
}

/** A rectangle in edge coordinates (may be fractional). */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** For each output sample along one axis: the source indices and weights it averages. */
interface AxisTaps {
  readonly start: Int32Array;
  readonly count: Int32Array;
  readonly index: Int32Array;
  readonly weight: Float32Array;
}

function axisTaps(origin: number, length: number, outLength: number, sourceLength: number): AxisTaps {
  const step = length / outLength;
  const start = new Int32Array(outLength);
  const count = new Int32Array(outLength);
  const index: number[] = [];
  const weight: number[] = [];
  const clamp = (k: number) => (k < 0 ? 0 : k >= sourceLength ? sourceLength - 1 : k);
  for (let o = 0; o < outLength; o++) {
    start[o] = index.length;
    if (step > 1) {
      // Shrinking: average the source over the output pixel's footprint.
      const a = origin + o * step;
      const b = a + step;
      for (let k = Math.floor(a); k < b; k++) {
        const w = Math.min(b, k + 1) - Math.max(a, k);
        if (w <= 0) continue;
        index.push(clamp(k));
        weight.push(w / step);
      }
    } else {
      // Enlarging: bilinear between the two nearest pixel centres.
      const c = origin + (o + 0.5) * step - 0.5;
      const k = Math.floor(c);
      const f = c - k;
      index.push(clamp(k), clamp(k + 1));
      weight.push(1 - f, f);
    }
    count[o] = index.length - start[o];
  }
  return { start, count, index: Int32Array.from(index), weight: Float32Array.from(weight) };
}

/**
 * Reused memory for resampleRect: its row pass and its output. A worker that
 * resamples every photo to the detector's input keeps one. Fresh arrays of
 * that size (a 1.3 MB row pass, a 0.3 MB output) cost ~11 us per 4 kB page
 * on the 2-core VM this app is measured on, several ms a photo; reused ones
 * cost nothing. An image resampled into it is lent until the next call.
 */
export class ResampleScratch {
  private mid = new Float32Array(0);
  private out = new Uint8ClampedArray(0);

  rowPass(length: number): Float32Array {
    if (this.mid.length < length) this.mid = new Float32Array(length);
    return this.mid;
  }

  output(length: number): Uint8ClampedArray {
    if (this.out.length < length) this.out = new Uint8ClampedArray(length);
    return this.out.length === length ? this.out : this.out.subarray(0, length);
  }
}

/**
 * Resamples `rect` of `image` to outWidth x outHeight. Samples outside the
 * image repeat its edge pixels. With `scratch`, the result's pixels live in
 * it (lent until its next use); without, they are a fresh array.
 */
export function resampleRect(image: RgbaImage, rect: Rect, outWidth: number, outHeight: number, scratch?: ResampleScratch): RgbaImage {
  const tx = axisTaps(rect.x, rect.width, outWidth, image.width);
  const ty = axisTaps(rect.y, rect.height, outHeight, image.height);
  // Horizontal pass over only the source rows the vertical taps use.
  let rowMin = image.height;
  let rowMax = -1;
  for (const r of ty.index) {
    if (r < rowMin) rowMin = r;
    if (r > rowMax) rowMax = r;
  }
  const rows = rowMax - rowMin + 1;
  const mid = scratch ? scratch.rowPass(rows * outWidth * 4) : new Float32Array(rows * outWidth * 4);
  const src = image.data;
  for (let r = 0; r < rows; r++) {
    const srcRow = (rowMin + r) * image.width * 4;
    const midRow = r * outWidth * 4;
    for (let o = 0; o < outWidth; o++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      const end = tx.start[o] + tx.count[o];
      for (let t = tx.start[o]; t < end; t++) {
        const p = srcRow + tx.index[t] * 4;
        const w = tx.weight[t];
        s0 += src[p] * w;
        s1 += src[p + 1] * w;
        s2 += src[p + 2] * w;
        s3 += src[p + 3] * w;
      }
      const q = midRow + o * 4;
      mid[q] = s0;
      mid[q + 1] = s1;
      mid[q + 2] = s2;
      mid[q + 3] = s3;
    }
  }
  const out = scratch ? scratch.output(outWidth * outHeight * 4) : new Uint8ClampedArray(outWidth * outHeight * 4);
  for (let o = 0; o < outHeight; o++) {
    const end = ty.start[o] + ty.count[o];
    for (let x = 0; x < outWidth; x++) {
      let s0 = 0;
      let s1 = 0;
      let s2 = 0;
      let s3 = 0;
      for (let t = ty.start[o]; t < end; t++) {
        const q = ((ty.index[t] - rowMin) * outWidth + x) * 4;
        const w = ty.weight[t];
        s0 += mid[q] * w;
        s1 += mid[q + 1] * w;
        s2 += mid[q + 2] * w;
        s3 += mid[q + 3] * w;
      }
      const p = (o * outWidth + x) * 4;
      // Uint8ClampedArray rounds to nearest and clamps on assignment.
      out[p] = s0;
      out[p + 1] = s1;
      out[p + 2] = s2;
      out[p + 3] = s3;
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}

/** Whole-image resize (see resampleRect). */
export function resizeImage(image: RgbaImage, outWidth: number, outHeight: number, scratch?: ResampleScratch): RgbaImage {
  return resampleRect(image, { x: 0, y: 0, width: image.width, height: image.height }, outWidth, outHeight, scratch);
}

/** Luma (ITU-R BT.601), one float 0..255 per pixel. */
export function toGrey(image: RgbaImage): Float32Array {
  const n = image.width * image.height;
  const out = new Float32Array(n);
  const d = image.data;
  for (let i = 0, p = 0; i < n; i++, p += 4) out[i] = 0.299 * d[p] + 0.587 * d[p + 1] + 0.114 * d[p + 2];
  return out;
}

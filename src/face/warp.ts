/**
 * Affine warp with bilinear sampling, as OpenCV's warpAffine (pixel centres
 * at integer coordinates, black outside the image: what ArcFace-style
 * recognizers saw in training).
 *
 * A big face (a 2000 px face going to 112 px) would alias badly under plain
 * bilinear sampling, so when the warp shrinks by 2x or more the face's region
 * is first area-averaged down to about the output's scale.
 */
import type { RgbaImage } from '../core/types.ts';
import { resampleRect } from './pixels.ts';
import { affineScale, applyAffine, invertAffine, type Affine2x3 } from './similarity.ts';

/** `toOutput` maps source pixel-centre coordinates to output pixel-centre coordinates. */
export function warpAffineBilinear(image: RgbaImage, toOutput: Affine2x3, outWidth: number, outHeight: number): RgbaImage {
  const [a, b, tx, c, d, ty] = invertAffine(toOutput);
  const W = image.width;
  const H = image.height;
  const src = image.data;
  const out = new Uint8ClampedArray(outWidth * outHeight * 4);
  // Reads one channel, black (and opaque) outside the image.
  const at = (x: number, y: number, ch: number) => (x < 0 || y < 0 || x >= W || y >= H ? (ch === 3 ? 255 : 0) : src[(y * W + x) * 4 + ch]);
  for (let y = 0; y < outHeight; y++) {
    for (let x = 0; x < outWidth; x++) {
      const sx = a * x + b * y + tx;
      const sy = c * x + d * y + ty;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const fx = sx - x0;
      const fy = sy - y0;
      const p = (y * outWidth + x) * 4;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        const i00 = (y0 * W + x0) * 4;
        const i10 = i00 + 4;
        const i01 = i00 + W * 4;
        const i11 = i01 + 4;
        for (let ch = 0; ch < 4; ch++) {
          const top = src[i00 + ch] + (src[i10 + ch] - src[i00 + ch]) * fx;
          const bottom = src[i01 + ch] + (src[i11 + ch] - src[i01 + ch]) * fx;
          out[p + ch] = top + (bottom - top) * fy;
        }
      } else {
        for (let ch = 0; ch < 4; ch++) {
          const top = at(x0, y0, ch) + (at(x0 + 1, y0, ch) - at(x0, y0, ch)) * fx;
          const bottom = at(x0, y0 + 1, ch) + (at(x0 + 1, y0 + 1, ch) - at(x0, y0 + 1, ch)) * fx;
          out[p + ch] = top + (bottom - top) * fy;
        }
      }
    }
  }
  return { width: outWidth, height: outHeight, data: out };
}

/** Composes two affine maps: first `inner`, then `outer`. */
function compose(outer: Affine2x3, inner: Affine2x3): Affine2x3 {
  const [a, b, tx, c, d, ty] = outer;
  const [e, f, ux, g, h, uy] = inner;
  return [a * e + b * g, a * f + b * h, a * ux + b * uy + tx, c * e + d * g, c * f + d * h, c * ux + d * uy + ty];
}

/**
 * Warps `image` to outWidth x outHeight with `toOutput`, area-averaging the
 * face's region first when the warp shrinks by 2x or more.
 */
export function warpFace(image: RgbaImage, toOutput: Affine2x3, outWidth: number, outHeight: number): RgbaImage {
  const scale = affineScale(toOutput);
  const shrink = Math.floor(1 / scale);
  if (shrink < 2) return warpAffineBilinear(image, toOutput, outWidth, outHeight);
  // The output's footprint in the source, padded by a shrink step, clipped to the image.
  const inv = invertAffine(toOutput);
  const corners = [applyAffine(inv, [-1, -1]), applyAffine(inv, [outWidth, -1]), applyAffine(inv, [-1, outHeight]), applyAffine(inv, [outWidth, outHeight])];
  const x0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[0])) - shrink));
  const y0 = Math.max(0, Math.floor(Math.min(...corners.map((p) => p[1])) - shrink));
  const x1 = Math.min(image.width, Math.ceil(Math.max(...corners.map((p) => p[0])) + shrink + 1));
  const y1 = Math.min(image.height, Math.ceil(Math.max(...corners.map((p) => p[1])) + shrink + 1));
  if (x1 - x0 < 2 * shrink || y1 - y0 < 2 * shrink) return warpAffineBilinear(image, toOutput, outWidth, outHeight);
  const smallW = Math.max(1, Math.round((x1 - x0) / shrink));
  const smallH = Math.max(1, Math.round((y1 - y0) / shrink));
  const small = resampleRect(image, { x: x0, y: y0, width: x1 - x0, height: y1 - y0 }, smallW, smallH);
  // Small-image pixel centre (i) sits at source edge coordinate x0 + (i + 0.5) * step.
  const sx = (x1 - x0) / smallW;
  const sy = (y1 - y0) / smallH;
  const smallToSource: Affine2x3 = [sx, 0, x0 + 0.5 * sx - 0.5, 0, sy, y0 + 0.5 * sy - 0.5];
  return warpAffineBilinear(small, compose(toOutput, smallToSource), outWidth, outHeight);
}

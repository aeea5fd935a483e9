/** Test-only image helpers in Node: JPEG decode and a bilinear resize to a recognizer input. */
import { readFileSync } from 'node:fs';
import jpeg from 'jpeg-js';
import type { RgbaImage } from '../../src/core/types.ts';

export function readJpeg(path: string): RgbaImage {
  const img = jpeg.decode(readFileSync(path), { useTArray: true, formatAsRGBA: true });
  return { width: img.width, height: img.height, data: new Uint8ClampedArray(img.data.buffer, img.data.byteOffset, img.data.byteLength) };
}

/** Bilinear resize (pixel centres aligned), written independently of the app's warp code. */
export function resizeRgba(src: RgbaImage, w: number, h: number): RgbaImage {
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    const sy = Math.min(Math.max((y + 0.5) * (src.height / h) - 0.5, 0), src.height - 1);
    const y0 = Math.floor(sy),
      y1 = Math.min(y0 + 1, src.height - 1),
      fy = sy - y0;
    for (let x = 0; x < w; x++) {
      const sx = Math.min(Math.max((x + 0.5) * (src.width / w) - 0.5, 0), src.width - 1);
      const x0 = Math.floor(sx),
        x1 = Math.min(x0 + 1, src.width - 1),
        fx = sx - x0;
      for (let c = 0; c < 4; c++) {
        const a = src.data[(y0 * src.width + x0) * 4 + c],
          b = src.data[(y0 * src.width + x1) * 4 + c];
        const d = src.data[(y1 * src.width + x0) * 4 + c],
          e = src.data[(y1 * src.width + x1) * 4 + c];
        out[(y * w + x) * 4 + c] = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** NCHW float input with per-channel (x - mean) / std, RGB order. */
export function toNchw(images: RgbaImage[], mean: readonly number[], std: readonly number[]): Float32Array {
  const { width: w, height: h } = images[0];
  const out = new Float32Array(images.length * 3 * w * h);
  images.forEach((img, b) => {
    for (let c = 0; c < 3; c++) for (let i = 0; i < w * h; i++) out[(b * 3 + c) * h * w + i] = (img.data[i * 4 + c] - mean[c]) / std[c];
  });
  return out;
}

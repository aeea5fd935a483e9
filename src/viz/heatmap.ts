/**
 * Patch-weight heatmap over a face (paper Fig. 5): the G x G weights,
 * min-max scaled, bilinearly upsampled to the image, jet-coloured and blended
 * 50% with the face.
 */
import type { RgbaImage } from '../core/types.ts';
import { jet } from './colormap.ts';

export function weightHeatmap(face: RgbaImage, weights: ArrayLike<number>, grid: number): RgbaImage {
  if (weights.length !== grid * grid) throw new Error(`weights has ${weights.length} entries, expected ${grid * grid}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < weights.length; i++) {
    lo = Math.min(lo, weights[i]);
    hi = Math.max(hi, weights[i]);
  }
  const span = hi - lo > 1e-12 ? hi - lo : 1;
  const { width: w, height: h } = face;
  const out = new Uint8ClampedArray(w * h * 4);
  for (let y = 0; y < h; y++) {
    // Patch centres sit at (i + 0.5) * side / grid.
    const gy = Math.min(Math.max(((y + 0.5) * grid) / h - 0.5, 0), grid - 1);
    const y0 = Math.floor(gy),
      y1 = Math.min(y0 + 1, grid - 1),
      fy = gy - y0;
    for (let x = 0; x < w; x++) {
      const gx = Math.min(Math.max(((x + 0.5) * grid) / w - 0.5, 0), grid - 1);
      const x0 = Math.floor(gx),
        x1 = Math.min(x0 + 1, grid - 1),
        fx = gx - x0;
      const v = (weights[y0 * grid + x0] * (1 - fx) + weights[y0 * grid + x1] * fx) * (1 - fy) + (weights[y1 * grid + x0] * (1 - fx) + weights[y1 * grid + x1] * fx) * fy;
      const [r, g, b] = jet((v - lo) / span);
      const i = (y * w + x) * 4;
      out[i] = 0.5 * face.data[i] + 0.5 * r;
      out[i + 1] = 0.5 * face.data[i + 1] + 0.5 * g;
      out[i + 2] = 0.5 * face.data[i + 2] + 0.5 * b;
      out[i + 3] = 255;
    }
  }
  return { width: w, height: h, data: out };
}

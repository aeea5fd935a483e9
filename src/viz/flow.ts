/**
 * The paper's "flow" picture (Fig. 1 and 5): the query rebuilt from the
 * gallery face's patches. Query patch i shows gallery patch j* = argmax_j T_ij,
 * scaled by the normalised row mass (m_i - min m) / (max m - min m), so
 * patches that send little mass are dark.
 */
import type { RgbaImage } from '../core/types.ts';

export interface FlowSummary {
  /** For each query patch, the gallery patch it sends most mass to. */
  readonly bestMatch: Int32Array;
  /** Normalised row mass in [0,1]. */
  readonly brightness: Float32Array;
}

export function summariseFlow(plan: ArrayLike<number>, n: number): FlowSummary {
  const bestMatch = new Int32Array(n);
  const mass = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let best = 0;
    let bestV = -Infinity;
    let m = 0;
    for (let j = 0; j < n; j++) {
      const t = plan[i * n + j];
      m += t;
      if (t > bestV) {
        bestV = t;
        best = j;
      }
    }
    bestMatch[i] = best;
    mass[i] = m;
  }
  let lo = Infinity;
  let hi = -Infinity;
  for (const m of mass) {
    lo = Math.min(lo, m);
    hi = Math.max(hi, m);
  }
  const brightness = new Float32Array(n);
  for (let i = 0; i < n; i++) brightness[i] = hi - lo > 1e-15 ? (mass[i] - lo) / (hi - lo) : 1;
  return { bestMatch, brightness };
}

/** Cell bounds of patch index p on a grid over a side of `size` pixels (same binning as adaptive pooling). */
function cell(p: number, grid: number, size: number): [number, number, number, number] {
  const gy = Math.floor(p / grid),
    gx = p % grid;
  return [Math.floor((gx * size) / grid), Math.floor((gy * size) / grid), Math.ceil(((gx + 1) * size) / grid), Math.ceil(((gy + 1) * size) / grid)];
}

export function flowImage(gallery: RgbaImage, plan: ArrayLike<number>, grid: number): RgbaImage {
  const n = grid * grid;
  const { bestMatch, brightness } = summariseFlow(plan, n);
  const { width: w, height: h } = gallery;
  const out = new Uint8ClampedArray(w * h * 4);
  for (let i = 0; i < n; i++) {
    const [dx0, dy0, dx1, dy1] = cell(i, grid, w);
    const [sx0, sy0, sx1, sy1] = cell(bestMatch[i], grid, w);
    const k = brightness[i];
    for (let y = dy0; y < dy1 && y < h; y++) {
      const sy = Math.min(sy0 + Math.floor(((y - dy0) * (sy1 - sy0)) / Math.max(dy1 - dy0, 1)), h - 1);
      for (let x = dx0; x < dx1 && x < w; x++) {
        const sx = Math.min(sx0 + Math.floor(((x - dx0) * (sx1 - sx0)) / Math.max(dx1 - dx0, 1)), w - 1);
        const s = (sy * w + sx) * 4,
          d = (y * w + x) * 4;
        out[d] = gallery.data[s] * k;
        out[d + 1] = gallery.data[s + 1] * k;
        out[d + 2] = gallery.data[s + 2] * k;
        out[d + 3] = 255;
      }
    }
  }
  return { width: w, height: h, data: out };
}

/** Gallery patches receiving mass from query patch i, strongest first (for the hover view). */
export function flowTargets(plan: ArrayLike<number>, n: number, i: number, min = 0.05): { j: number; share: number }[] {
  let row = 0;
  for (let j = 0; j < n; j++) row += plan[i * n + j];
  const out: { j: number; share: number }[] = [];
  for (let j = 0; j < n; j++) {
    const share = row > 0 ? plan[i * n + j] / row : 0;
    if (share >= min) out.push({ j, share });
  }
  return out.sort((a, b) => b.share - a.share);
}

/** The patch of a grid x grid face under a point given as fractions (0..1) of the face's width and height. */
export function patchAt(x: number, y: number, grid: number): number {
  const cell = (f: number) => Math.min(grid - 1, Math.max(0, Math.floor(f * grid)));
  return cell(y) * grid + cell(x);
}

/**
 * Patch grids: the native H x W feature map, or adaptive average pooling to a
 * G x G grid exactly as PyTorch's adaptive_avg_pool2d bins it (bin i covers
 * [floor(i*H/G), ceil((i+1)*H/G)), so bins may overlap), then every patch
 * L2-normalised. Maps are patch-major: row p = y*w + x holds c floats.
 */
import { AppError } from '../core/errors.ts';
import type { PatchMap } from '../core/types.ts';
import { l2NormaliseRows, requireFinite } from './vectors.ts';

export interface PoolBin {
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

export function adaptivePoolBins(size: number, grid: number): PoolBin[] {
  const bins: PoolBin[] = [];
  for (let i = 0; i < grid; i++) bins.push({ start: Math.floor((i * size) / grid), end: Math.ceil(((i + 1) * size) / grid) });
  return bins;
}

export function requireValidPatchMap(map: PatchMap, what = 'patch map'): void {
  const { h, w, c, data } = map;
  if (![h, w, c].every((x) => Number.isInteger(x) && x > 0) || data.length !== h * w * c) {
    throw new AppError('invalid-argument', `${what} has shape ${h}x${w}x${c} but ${data.length} values`, 'The recognizer output does not match its manifest; rebuild the models.');
  }
  requireFinite(data, what);
}

export function requireValidGrid(map: PatchMap, grid: number): void {
  if (!Number.isInteger(grid) || grid < 1 || grid > Math.min(map.h, map.w)) {
    throw new AppError('invalid-argument', `grid ${grid} is not between 1 and the native ${map.h}x${map.w}`, `Pick a grid side from 1 to ${Math.min(map.h, map.w)}.`);
  }
}

/**
 * adaptive_avg_pool2d of the raw map to grid x grid (the native grid returns the map's own data). `into`: grid^2 x c
 * floats to write it to instead of a fresh array (stage 2 pools ~100 candidates a query, and fresh memory is slow to
 * fault in).
 */
export function adaptiveAvgPool(map: PatchMap, grid: number, into?: Float32Array): PatchMap {
  requireValidGrid(map, grid);
  if (grid === map.h && grid === map.w) return map;
  const { h, w, c, data } = map;
  const binsY = adaptivePoolBins(h, grid);
  const binsX = adaptivePoolBins(w, grid);
  const out = into ?? new Float32Array(grid * grid * c);
  if (out.length !== grid * grid * c) throw new AppError('invalid-argument', `pooling to ${grid}x${grid}x${c} into ${out.length} floats`, 'This is a bug in the caller; report it.');
  const acc = new Float64Array(c);
  for (let gy = 0; gy < grid; gy++) {
    for (let gx = 0; gx < grid; gx++) {
      acc.fill(0);
      const by = binsY[gy];
      const bx = binsX[gx];
      for (let y = by.start; y < by.end; y++) {
        for (let x = bx.start; x < bx.end; x++) {
          const src = (y * w + x) * c;
          for (let ch = 0; ch < c; ch++) acc[ch] += data[src + ch];
        }
      }
      const inv = 1 / ((by.end - by.start) * (bx.end - bx.start));
      const dst = (gy * grid + gx) * c;
      for (let ch = 0; ch < c; ch++) out[dst + ch] = acc[ch] * inv;
    }
  }
  return { h: grid, w: grid, c, data: out };
}

/**
 * The grid x grid map with every patch L2-normalised (a zero patch stays zero): grid^2 rows of c floats, in `into`
 * when given (pooled there, then normalised in place: the same floats as a fresh array).
 */
export function unitPatchGrid(map: PatchMap, grid: number, into?: Float32Array): Float32Array {
  const pooled = adaptiveAvgPool(map, grid, into);
  const out = into ?? new Float32Array(pooled.data.length);
  if (out.length !== pooled.data.length) throw new AppError('invalid-argument', `a ${grid}x${grid}x${map.c} grid into ${out.length} floats`, 'This is a bug in the caller; report it.');
  l2NormaliseRows(pooled.data, 0, grid * grid, pooled.c, out, 0);
  return out;
}

/** The global-average-pool vector of the raw map, L2-normalised: APC's "average-pooling" partner vector. */
export function unitAveragePatch(map: PatchMap): Float32Array {
  const { h, w, c, data } = map;
  const acc = new Float64Array(c);
  for (let p = 0; p < h * w; p++) for (let ch = 0; ch < c; ch++) acc[ch] += data[p * c + ch];
  const mean = Float32Array.from(acc, (x) => x / (h * w));
  const out = new Float32Array(c);
  l2NormaliseRows(mean, 0, 1, c, out, 0);
  return out;
}

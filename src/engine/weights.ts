/**
 * Patch weights: the marginals u (query patches) and v (gallery patches) of
 * the transport problem. Every weighting ends in normaliseWeights:
 * max(0, w) / (sum + 1e-7), as the method doc and the authors' code do.
 */
import { AppError } from '../core/errors.ts';
import type { Point, Weighting } from '../core/types.ts';

export const WEIGHT_DENOMINATOR_EPS = 1e-7;

export interface PairWeights {
  readonly u: Float64Array;
  readonly v: Float64Array;
}

/**
 * max(0, w_i) / (sum + 1e-7). When nothing positive is left (e.g. APC with a
 * patch map pointing away from the other face) the authors' code yields NaN
 * and then a similarity of 0; we use uniform weights instead so the pair still
 * gets a finite, comparable score.
 */
export function normaliseWeights(raw: ArrayLike<number>): Float64Array {
  const n = raw.length;
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const w = Math.max(0, raw[i]);
    out[i] = w;
    sum += w;
  }
  if (!(sum > 0) || !Number.isFinite(sum)) return out.fill(1 / n);
  const inv = 1 / (sum + WEIGHT_DENOMINATOR_EPS);
  for (let i = 0; i < n; i++) out[i] *= inv;
  return out;
}

export function patchWeightsUniform(n: number): Float64Array {
  return new Float64Array(n).fill(1 / n);
}

/** w_i = max(0, <p_i, partner>) for unit patches p (n x c) and a unit partner vector. */
function correlationWeights(unitPatches: Float32Array, n: number, c: number, partner: Float32Array): Float64Array {
  const raw = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * c;
    for (let t = 0; t < c; t++) s += unitPatches[o + t] * partner[t];
    raw[i] = s;
  }
  return normaliseWeights(raw);
}

/** APC: correlation of each unit patch with the OTHER face's L2-normalised average patch. */
export function patchWeightsApc(unitPatches: Float32Array, n: number, c: number, otherUnitAverage: Float32Array): Float64Array {
  return correlationWeights(unitPatches, n, c, otherUnitAverage);
}

/** CC: correlation with the OTHER face's unit final embedding; only where embedding and patch sizes agree. */
export function patchWeightsCc(unitPatches: Float32Array, n: number, c: number, otherUnitEmbedding: Float32Array): Float64Array {
  if (otherUnitEmbedding.length !== c) {
    throw new AppError(
      'weighting-undefined',
      `CC weights are not defined for this model: its embedding has ${otherUnitEmbedding.length} values but its patches ${c} channels`,
      'Pick APC, SC, uniform or landmark weights for this recognizer.',
    );
  }
  return correlationWeights(unitPatches, n, c, otherUnitEmbedding);
}

/** Row and column sums of f(d) over an n x m cost matrix (row-major, at `offset`). */
function crossSums(cost: ArrayLike<number>, offset: number, n: number, m: number, f: (d: number) => number): PairWeights {
  const rows = new Float64Array(n);
  const cols = new Float64Array(m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const x = f(cost[offset + i * m + j]);
      rows[i] += x;
      cols[j] += x;
    }
  }
  return { u: normaliseWeights(rows), v: normaliseWeights(cols) };
}

/** SC as the authors' code has it: sums of DISTANCES d_ij (their issue #5: the paper's text differs). */
export function patchWeightsSc(cost: ArrayLike<number>, n: number, m: number, offset = 0): PairWeights {
  return crossSums(cost, offset, n, m, (d) => d);
}

/** SC as the paper's text has it: sums of similarities 1 - d_ij. */
export function patchWeightsScSim(cost: ArrayLike<number>, n: number, m: number, offset = 0): PairWeights {
  return crossSums(cost, offset, n, m, (d) => 1 - d);
}

/**
 * LMK: the share of the 68 landmarks inside each patch of a grid laid evenly
 * over the aligned crop (patch (gy, gx) covers [gx*S/G, (gx+1)*S/G) in x, same
 * in y). Points outside the crop count for no patch.
 */
export function patchWeightsLmk(landmarks: readonly Point[] | undefined, cropSize: number, grid: number): Float64Array {
  if (!landmarks || landmarks.length === 0) {
    throw new AppError(
      'weighting-undefined',
      'landmark (LMK) weights need the 68 landmarks of the face, and this face has none',
      'Pick another weighting, or re-import the face with landmark detection on.',
    );
  }
  if (!(cropSize > 0)) throw new AppError('invalid-argument', `crop size must be positive, got ${cropSize}`, 'Check the face features.');
  const counts = new Float64Array(grid * grid);
  for (const [x, y] of landmarks) {
    if (!(x >= 0 && x < cropSize && y >= 0 && y < cropSize)) continue;
    const gx = Math.min(grid - 1, Math.floor((x * grid) / cropSize));
    const gy = Math.min(grid - 1, Math.floor((y * grid) / cropSize));
    counts[gy * grid + gx] += 1;
  }
  for (let i = 0; i < counts.length; i++) counts[i] /= landmarks.length;
  return normaliseWeights(counts);
}

/** Everything any weighting may need for one (query, gallery) pair at one grid. */
export interface PairWeightInputs {
  readonly grid: number;
  readonly c: number;
  /** grid^2 x c unit patches. */
  readonly queryPatches: Float32Array;
  readonly galleryPatches: Float32Array;
  readonly queryUnitAverage: Float32Array;
  readonly galleryUnitAverage: Float32Array;
  readonly queryUnitEmbedding: Float32Array;
  readonly galleryUnitEmbedding: Float32Array;
  /** grid^2 x grid^2 distances 1 - cos, row = query patch. */
  readonly cost: ArrayLike<number>;
  readonly costOffset?: number;
  readonly queryLandmarks?: readonly Point[];
  readonly galleryLandmarks?: readonly Point[];
  readonly queryCropSize: number;
  readonly galleryCropSize: number;
}

export function pairWeights(weighting: Weighting, x: PairWeightInputs): PairWeights {
  const n = x.grid * x.grid;
  switch (weighting) {
    case 'uniform':
      return { u: patchWeightsUniform(n), v: patchWeightsUniform(n) };
    case 'apc':
      return { u: patchWeightsApc(x.queryPatches, n, x.c, x.galleryUnitAverage), v: patchWeightsApc(x.galleryPatches, n, x.c, x.queryUnitAverage) };
    case 'cc':
      return { u: patchWeightsCc(x.queryPatches, n, x.c, x.galleryUnitEmbedding), v: patchWeightsCc(x.galleryPatches, n, x.c, x.queryUnitEmbedding) };
    case 'sc':
      return patchWeightsSc(x.cost, n, n, x.costOffset ?? 0);
    case 'sc-sim':
      return patchWeightsScSim(x.cost, n, n, x.costOffset ?? 0);
    case 'lmk':
      return { u: patchWeightsLmk(x.queryLandmarks, x.queryCropSize, x.grid), v: patchWeightsLmk(x.galleryLandmarks, x.galleryCropSize, x.grid) };
    default:
      throw new AppError('invalid-argument', `unknown weighting ${String(weighting)}`, 'Pick one of uniform, apc, cc, sc, sc-sim, lmk.');
  }
}

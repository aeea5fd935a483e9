/**
 * Least-squares similarity transform (rotation, uniform scale, translation;
 * Umeyama 1991) taking detected points onto a template. In 2-D the SVD of
 * Umeyama's covariance reduces to a closed form: with both point sets centred,
 * scale*cos = sum(p.q) / sum|p|^2 and scale*sin = sum(p x q) / sum|p|^2.
 * No reflection is possible, as Umeyama's sign correction guarantees.
 */
import type { Point } from '../core/types.ts';

/** Row-major 2x3 affine matrix [a, b, tx, c, d, ty]: x' = a x + b y + tx, y' = c x + d y + ty. */
export type Affine2x3 = readonly [number, number, number, number, number, number];

export function fitSimilarity(from: readonly Point[], to: readonly Point[]): Affine2x3 {
  const n = from.length;
  if (n < 2 || to.length !== n) throw new Error(`similarity fit needs >= 2 matching point pairs, got ${n} and ${to.length}`);
  let fx = 0;
  let fy = 0;
  let tx = 0;
  let ty = 0;
  for (let i = 0; i < n; i++) {
    fx += from[i][0];
    fy += from[i][1];
    tx += to[i][0];
    ty += to[i][1];
  }
  fx /= n;
  fy /= n;
  tx /= n;
  ty /= n;
  let dot = 0;
  let cross = 0;
  let spread = 0;
  for (let i = 0; i < n; i++) {
    const px = from[i][0] - fx;
    const py = from[i][1] - fy;
    const qx = to[i][0] - tx;
    const qy = to[i][1] - ty;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    spread += px * px + py * py;
  }
  if (spread === 0) throw new Error('similarity fit: all source points coincide');
  const a = dot / spread; // scale * cos(theta)
  const c = cross / spread; // scale * sin(theta)
  return [a, -c, tx - (a * fx - c * fy), c, a, ty - (c * fx + a * fy)];
}

export function applyAffine(m: Affine2x3, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

export function invertAffine(m: Affine2x3): Affine2x3 {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  if (det === 0) throw new Error('affine matrix is singular');
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/** The transform's uniform scale (output pixels per input pixel). */
export function affineScale(m: Affine2x3): number {
  return Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
}

/** Root-mean-square distance between the mapped `from` points and `to`. */
export function fitResidual(m: Affine2x3, from: readonly Point[], to: readonly Point[]): number {
  let s = 0;
  for (let i = 0; i < from.length; i++) {
    const [x, y] = applyAffine(m, from[i]);
    s += (x - to[i][0]) ** 2 + (y - to[i][1]) ** 2;
  }
  return Math.sqrt(s / from.length);
}

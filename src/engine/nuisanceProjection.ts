/**
 * Nuisance attribute projection (NAP) for the damage-matched library search
 * (issue 17). An occluder drawn on a face moves its embedding mostly along a
 * few directions that are the same for everyone, so two strangers who both
 * wear it share that move and their cosine runs high whatever their
 * identities. The cosine of a matched pair is therefore taken after removing
 * those directions from both faces: cos(P a, P b) with P = I - U U^T, U the
 * kind's orthonormal directions (fitted offline, src/models/matchedNap.ts).
 *
 * Computed from r dot products per side instead of forming P a: with
 * orthonormal U, P a . P b = a . b - sum_j (a . u_j)(b . u_j) and
 * |P a|^2 = a . a - sum_j (a . u_j)^2.
 */

/** The kinds of damage a query is drawn with. */
export type NapKind = 'mask' | 'sunglasses';

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * cos(P a, P b), P the projection off the span of `directions` (orthonormal,
 * each as long as a and b). 0 where either side has nothing left outside it.
 */
export function napCosine(a: ArrayLike<number>, b: ArrayLike<number>, directions: readonly ArrayLike<number>[]): number {
  if (a.length !== b.length) throw new RangeError(`napCosine: vectors of ${a.length} and ${b.length} values`);
  let ab = dot(a, b);
  let aa = dot(a, a);
  let bb = dot(b, b);
  for (const u of directions) {
    if (u.length !== a.length) throw new RangeError(`napCosine: a direction of ${u.length} values for vectors of ${a.length}`);
    const au = dot(a, u);
    const bu = dot(b, u);
    ab -= au * bu;
    aa -= au * au;
    bb -= bu * bu;
  }
  // Rounding can leave a hair below zero for a vector inside the span.
  const norms = Math.sqrt(Math.max(aa, 0) * Math.max(bb, 0));
  return norms > 1e-12 ? ab / norms : 0;
}

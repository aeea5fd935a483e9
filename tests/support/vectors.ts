/**
 * The one pairwise cosine of tests and benches. The app has none: stage 1
 * scores unit rows with the SIMD dot kernels and stage 2 builds whole cosine
 * matrices, so this one stays independent of both: float64 sums over the two
 * vectors, then one square root of the product of squared norms. A zero
 * vector gives NaN, which fails any comparison a test makes with it.
 */
export function referenceCosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine of vectors of different lengths (${a.length} and ${b.length})`);
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return ab / Math.sqrt(aa * bb);
}

/** Modified Gram-Schmidt, float64: the given vectors made orthonormal in order (each is changed in place). */
export function orthonormalise(vectors: readonly Float64Array[]): Float64Array[] {
  const rows: Float64Array[] = [];
  for (const v of vectors) {
    for (const u of rows) {
      const c = v.reduce((a, x, i) => a + x * u[i], 0);
      for (let i = 0; i < v.length; i++) v[i] -= c * u[i];
    }
    const norm = Math.hypot(...v);
    rows.push(v.map((x) => x / norm));
  }
  return rows;
}

/** Offline fitting helpers for bench/study/matchedNap.ts, and the writer of src/models/matchedNap.ts's file layout. */
import type { NapKind } from '../../src/engine/nuisanceProjection.ts';
import type { MatchedNap } from '../../src/models/matchedNap.ts';

/** The kinds in the file's order (the reader's; its round-trip test holds the two together). */
const KIND_ORDER: readonly NapKind[] = ['mask', 'sunglasses'];

/** FNV-1a of a string: the study's fold of an identity is fnv(identity) mod 5. */
export function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function dot(a: Float64Array, b: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * b[i];
  return s;
}

/**
 * The top `r` eigenvectors of sum_i x_i x_i^T (uncentred principal
 * directions), orthonormal, by subspace iteration (the matrix is never
 * formed: each step is a pass over the rows). 200 steps from a seeded start.
 */
export function topDirections(rows: readonly ArrayLike<number>[], r: number, steps = 200): Float32Array[] {
  if (r === 0 || rows.length === 0) return [];
  const d = rows[0].length;
  if (r > Math.min(d, rows.length)) throw new RangeError(`topDirections: ${r} directions from ${rows.length} rows of ${d} values`);
  let seed = 12345;
  const random = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 4294967296 - 0.5;
  let basis = Array.from({ length: r }, () => Float64Array.from({ length: d }, random));
  const orthonormalise = (vs: Float64Array[]) => {
    vs.forEach((v, j) => {
      for (let k = 0; k < j; k++) {
        const c = dot(v, vs[k]);
        for (let i = 0; i < d; i++) v[i] -= c * vs[k][i];
      }
      const n = Math.sqrt(dot(v, v)) || 1;
      for (let i = 0; i < d; i++) v[i] /= n;
    });
  };
  orthonormalise(basis);
  for (let step = 0; step < steps; step++) {
    const next = basis.map(() => new Float64Array(d));
    for (const x of rows)
      basis.forEach((u, j) => {
        const c = dot(u, x);
        const t = next[j];
        for (let i = 0; i < d; i++) t[i] += c * x[i];
      });
    orthonormalise(next);
    basis = next;
  }
  return basis.map((u) => Float32Array.from(u));
}

/** The file parseMatchedNap reads: "DFNP", u32 version 1, u32 dims, u32 r, then per kind an f32 level and r x dims f32. */
export function encodeMatchedNap(nap: MatchedNap): Uint8Array {
  const r = nap.directions.mask.length;
  const dims = nap.directions.mask[0]?.length ?? 0;
  if (KIND_ORDER.some((k) => nap.directions[k].length !== r || nap.directions[k].some((u) => u.length !== dims)))
    throw new RangeError('encodeMatchedNap: every kind needs r directions of the same length');
  const out = new Uint8Array(16 + KIND_ORDER.length * 4 * (1 + r * dims));
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('DFNP'), 0);
  view.setUint32(4, 1, true);
  view.setUint32(8, dims, true);
  view.setUint32(12, r, true);
  let at = 16;
  for (const k of KIND_ORDER) {
    view.setFloat32(at, nap.levels[k], true);
    at += 4;
    for (const u of nap.directions[k])
      for (const x of u) {
        view.setFloat32(at, x, true);
        at += 4;
      }
  }
  return out;
}

/**
 * The damage-matched search's nuisance directions and levels
 * (src/engine/nuisanceProjection.ts), fitted offline on lfw-dev by
 * bench/study/matchedNap.ts --write (its writer: bench/study/napFit.ts), for
 * the default pipeline's fused embedding. File layout (little-endian): "DFNP", u32 version 1, u32 dims,
 * u32 r, then per kind in NAP_KINDS order an f32 level and r x dims f32
 * directions (orthonormal rows).
 *
 * The shipped file (2026-12-06): r = 2 directions per kind of drawn - clean
 * over all 5,132 lfw-dev photos (`npx tsx bench/study/matchedNap.ts --r 2
 * --write`); levels mask 0.2603, sunglasses 0.2528 (3,000 impostor pairs
 * each). r was chosen on four group-photo libraries with directions fitted
 * on the lfw-dev people each library does not show (docs/RESULTS.md,
 * "Drawn pairs without the occluder's directions").
 */
import { AppError } from '../core/errors.ts';
import type { NapKind } from '../engine/nuisanceProjection.ts';

export const MATCHED_NAP_FILE = 'matched-nap.bin';
const MAGIC = 'DFNP';
const NAP_KINDS: readonly NapKind[] = ['mask', 'sunglasses'];

export interface MatchedNap {
  /** Per kind: r orthonormal directions of the fused embedding's space. */
  readonly directions: Readonly<Record<NapKind, readonly Float32Array[]>>;
  /** Per kind: the mean projected cosine of impostor pairs that both wear it. */
  readonly levels: Readonly<Record<NapKind, number>>;
}

const fileError = (name: string, why: string) =>
  new AppError('model-load-failed', `nuisance directions ${name}: ${why}`, 'Reinstall the app (the file ships with it); until then the library search compares drawn queries without the projection.');

/** Reads and checks a file of encodeMatchedNap's layout (the search checks its length against the library's embeddings). */
export function parseMatchedNap(bytes: ArrayBuffer | Uint8Array, name: string): MatchedNap {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (buf.length < 16 || new TextDecoder().decode(buf.subarray(0, 4)) !== MAGIC) throw fileError(name, 'not a nuisance-direction file (bad magic)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(4, true) !== 1) throw fileError(name, `unknown version ${view.getUint32(4, true)}`);
  const dims = view.getUint32(8, true);
  const r = view.getUint32(12, true);
  if (dims === 0 || r === 0 || r > dims) throw fileError(name, `${r} directions in ${dims} dimensions`);
  const expected = 16 + NAP_KINDS.length * 4 * (1 + r * dims);
  if (buf.length !== expected) throw fileError(name, `expected ${expected} bytes, got ${buf.length} (truncated or not this pipeline's file)`);
  let at = 16;
  const directions = {} as Record<NapKind, Float32Array[]>;
  const levels = {} as Record<NapKind, number>;
  for (const k of NAP_KINDS) {
    levels[k] = view.getFloat32(at, true);
    at += 4;
    directions[k] = Array.from({ length: r }, () => {
      const u = new Float32Array(dims);
      for (let i = 0; i < dims; i++, at += 4) u[i] = view.getFloat32(at, true);
      return u;
    });
    if (!Number.isFinite(levels[k]) || directions[k].some((u) => !u.every(Number.isFinite))) throw fileError(name, `the ${k} part holds non-finite values`);
    // Orthonormal rows, or the projected cosine is not a cosine.
    for (let i = 0; i < r; i++)
      for (let j = 0; j <= i; j++) {
        let d = 0;
        for (let t = 0; t < dims; t++) d += directions[k][i][t] * directions[k][j][t];
        if (Math.abs(d - (i === j ? 1 : 0)) > 1e-4) throw fileError(name, `the ${k} directions are not orthonormal (row ${i} . row ${j} = ${d.toFixed(5)})`);
      }
  }
  return { directions, levels };
}

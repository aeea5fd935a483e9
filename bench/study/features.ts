/** Reads the study's feature dump (.cache/study, written by dump.ts) into unit vectors and unit patch grids. */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { unitAveragePatch, unitPatchGrid } from '../../src/engine/patchGrid.ts';
import { unitEmbedding } from '../../src/engine/vectors.ts';
import type { DamageRow } from './damageScores.ts';
import { DIMS, RECORD_FLOATS, STUDY_DIR, type Variant } from './shared.ts';

export interface StudyMeta {
  readonly images: { name: string; identity: string; ok: boolean; refused?: boolean }[];
}

export interface ModelFeatures {
  /** rows x dim unit embeddings. */
  readonly emb: Float32Array;
  readonly dim: number;
  /** rows x 49 x c unit patches. */
  readonly grid: Float32Array;
  /** rows x c unit average patch (APC partner). */
  readonly avg: Float32Array;
  readonly c: number;
}

export function readMeta(): StudyMeta {
  return JSON.parse(readFileSync(join(STUDY_DIR, 'meta.json'), 'utf8')) as StudyMeta;
}

/** Features of the images at `rows` (dump indices) for one variant; `withPatches` false skips the maps. */
export function readVariant(variant: Variant, rows: readonly number[], withPatches = true): { mf: ModelFeatures; fr: ModelFeatures } {
  const fd = openSync(join(STUDY_DIR, `${variant}.f32`), 'r');
  const rec = new Float32Array(RECORD_FLOATS);
  const alloc = (dim: number, c: number): ModelFeatures => ({
    emb: new Float32Array(rows.length * dim),
    dim,
    grid: new Float32Array(withPatches ? rows.length * 49 * c : 0),
    avg: new Float32Array(withPatches ? rows.length * c : 0),
    c,
  });
  const mf = alloc(DIMS.mfEmb, 512);
  const fr = alloc(DIMS.frEmb, 1024);
  rows.forEach((row, i) => {
    readSync(fd, new Uint8Array(rec.buffer), 0, rec.byteLength, row * RECORD_FLOATS * 4);
    let o = 0;
    for (const [m, dim, c] of [
      [mf, DIMS.mfEmb, 512],
      [fr, DIMS.frEmb, 1024],
    ] as const) {
      m.emb.set(unitEmbedding(rec.subarray(o, o + dim), 'embedding'), i * dim);
      o += dim;
      if (withPatches) {
        const map = { h: 7, w: 7, c, data: rec.slice(o, o + 49 * c) };
        m.grid.set(unitPatchGrid(map, 7), i * 49 * c);
        m.avg.set(unitAveragePatch(map), i * c);
      }
      o += 49 * c;
    }
  });
  closeSync(fd);
  return { mf, fr };
}

/** damageScores.ts's rows of one variant (all parts), in query order. */
export function loadDamageRows(variant: Variant): DamageRow[] {
  const out: DamageRow[] = [];
  for (let part = 0; existsSync(join(STUDY_DIR, `dmg-${variant}-${part}.json`)); part++) out.push(...(JSON.parse(readFileSync(join(STUDY_DIR, `dmg-${variant}-${part}.json`), 'utf8')) as DamageRow[]));
  if (out.length === 0) throw new Error(`no .cache/study/dmg-${variant}-*.json: run bench/study/damageScores.ts --variant ${variant} first`);
  return out.sort((a, b) => a.q - b.q);
}

/** The dot product of a[ao..ao+n) and b[bo..bo+n). */
export function dotAt(a: Float32Array, ao: number, b: Float32Array, bo: number, n: number): number {
  let s = 0;
  for (let d = 0; d < n; d++) s += a[ao + d] * b[bo + d];
  return s;
}

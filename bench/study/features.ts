/** Reads the study's feature dump (.cache/study, written by dump.ts) into unit vectors and unit patch grids. */
import { closeSync, existsSync, openSync, readFileSync, readSync } from 'node:fs';
import { join } from 'node:path';
import type { VisibleDamage } from '../../src/core/types.ts';
import { unitAveragePatch, unitPatchGrid } from '../../src/engine/patchGrid.ts';
import { unitEmbedding } from '../../src/engine/vectors.ts';
import { fuseEmbeddings } from '../../src/face/fusedRecognizer.ts';
import { MFN_VISIBLE_EMBEDDINGS } from '../../scripts/models/faceplugin.ts';
import type { DamageRow } from './damageScores.ts';
import { readMobileFaceNetHead } from './projectedScores.ts';
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

/**
 * MobileFaceNet's own embedding restricted to the visible rows (`--term mfn`):
 * its head is linear (projectedScores.ts), so the embedding of the visible
 * part alone is W (sum over visible p of d_p * x_p + depthwise bias) + linear bias, unit length.
 */
export function mfnVisible(variant: Variant, dumpRows: readonly number[], rowSets: readonly number[][]): Float32Array[] {
  const head = readMobileFaceNetHead();
  const M = 512;
  const out = rowSets.map(() => new Float32Array(dumpRows.length * M));
  const fd = openSync(join(STUDY_DIR, `${variant}.f32`), 'r');
  const raw = new Float32Array(49 * M);
  dumpRows.forEach((row, i) => {
    readSync(fd, new Uint8Array(raw.buffer), 0, raw.byteLength, (row * RECORD_FLOATS + M) * 4);
    rowSets.forEach((rows, si) => {
      const sum = Float64Array.from(head.depthwiseBias);
      for (const y of rows)
        for (let x = 0; x < 7; x++) {
          const p = y * 7 + x;
          for (let ch = 0; ch < M; ch++) sum[ch] += head.depthwise[ch * 49 + p] * raw[p * M + ch];
        }
      const v = new Float64Array(M);
      for (let o = 0; o < M; o++) {
        let t = head.linearBias[o];
        for (let ch = 0; ch < M; ch++) t += head.linear[o * M + ch] * sum[ch];
        v[o] = t;
      }
      let n = 0;
      for (const x of v) n += x * x;
      const inv = 1 / Math.sqrt(n || 1);
      for (let o = 0; o < M; o++) out[si][i * M + o] = v[o] * inv;
    });
    if (i % 500 === 0) process.stderr.write(`\r${variant} MobileFaceNet visible ${i}/${dumpRows.length}   `);
  });
  closeSync(fd);
  process.stderr.write('\n');
  return out;
}

/** The rows of the 7x7 map a kind of damage leaves visible: those of the model's extra output for it. */
export function visibleRowsOf(kind: VisibleDamage): number[] {
  const spec = MFN_VISIBLE_EMBEDDINGS.find((v) => v.damage === kind);
  if (!spec) throw new Error(`MobileFaceNet has no visible-part output for ${kind}`);
  return [...spec.rows];
}

/** Each face's fused stage-1 vector (the app's fuseEmbeddings at weight w), rows x (512 + 1024): one dot product is the fused cosine. */
export function fusedStudyRows(f: { mf: ModelFeatures; fr: ModelFeatures }, w: number): Float32Array {
  const n = f.mf.emb.length / f.mf.dim;
  const dim = f.mf.dim + f.fr.dim;
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++)
    out.set(fuseEmbeddings(f.mf.emb.subarray(i * f.mf.dim, (i + 1) * f.mf.dim), f.fr.emb.subarray(i * f.fr.dim, (i + 1) * f.fr.dim), Math.sqrt(w), Math.sqrt(1 - w)), i * dim);
  return out;
}

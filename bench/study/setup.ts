/** The study's gallery and queries: the app's rules (several similar faces refused), leave-one-out. */
import { patchWeightsApc } from '../../src/engine/weights.ts';
import { readMeta, type ModelFeatures } from './features.ts';

export const FUSION_GRID = [0, 0.2, 0.4, 0.5, 0.6, 0.8, 1] as const;
export const K = 100;

export interface StudySetup {
  /** Dump rows of the gallery images. */
  readonly galleryRows: number[];
  readonly labels: string[];
  readonly names: string[];
  /** Positions in the gallery of the queries (identities with >= 2 gallery images). */
  readonly queryPositions: number[];
}

export function studySetup(): StudySetup {
  const meta = readMeta();
  const galleryRows: number[] = [];
  meta.images.forEach((m, i) => {
    if (m.ok && !m.refused) galleryRows.push(i);
  });
  const labels = galleryRows.map((r) => meta.images[r].identity);
  const names = galleryRows.map((r) => meta.images[r].name);
  const counts = new Map<string, number>();
  for (const l of labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const queryPositions = labels.flatMap((l, p) => ((counts.get(l) ?? 0) >= 2 ? [p] : []));
  return { galleryRows, labels, names, queryPositions };
}

/** Row-major Q x G cosine matrix of unit vectors. */
export function cosineMatrix(q: Float32Array, g: Float32Array, dim: number): Float32Array {
  const Q = q.length / dim;
  const G = g.length / dim;
  const out = new Float32Array(Q * G);
  for (let i = 0; i < Q; i++) {
    const qo = i * dim;
    for (let j = 0; j < G; j++) {
      const go = j * dim;
      let s = 0;
      for (let d = 0; d < dim; d++) s += q[qo + d] * g[go + d];
      out[i * G + j] = s;
    }
  }
  return out;
}

/** Indices of the `k` largest of `scores` (skipping `skip`), best first. */
export function topK(scores: ArrayLike<number>, k: number, skip: number): number[] {
  const idx: number[] = [];
  for (let j = 0; j < scores.length; j++) if (j !== skip) idx.push(j);
  idx.sort((a, b) => scores[b] - scores[a] || a - b);
  return idx.slice(0, k);
}

/** One face's unit patch grid (49 x c) and unit average patch of a feature block. */
export function faceSlice(m: ModelFeatures, i: number): { grid: Float32Array; avg: Float32Array } {
  return { grid: m.grid.subarray(i * 49 * m.c, (i + 1) * 49 * m.c), avg: m.avg.subarray(i * m.c, (i + 1) * m.c) };
}

/**
 * The default's stage 1 for the query at `at` of `qf`: the fused cosine
 * w * cos_MobileFaceNet + (1 - w) * cos_FaceRes against every gallery face,
 * and its list of the best max(K, R) (gallery position `skip`, the query itself, left out).
 */
export function fusedStage1(
  qf: { mf: ModelFeatures; fr: ModelFeatures },
  at: number,
  gal: { mf: ModelFeatures; fr: ModelFeatures },
  w: number,
  R: number,
  skip: number,
): { fused: Float32Array; list: number[] } {
  const cm = cosineMatrix(qf.mf.emb.subarray(at * 512, (at + 1) * 512), gal.mf.emb, 512);
  const cr = cosineMatrix(qf.fr.emb.subarray(at * 1024, (at + 1) * 1024), gal.fr.emb, 1024);
  const fused = Float32Array.from(cm, (x, j) => w * x + (1 - w) * cr[j]);
  return { fused, list: topK(fused, Math.max(K, R), skip) };
}

/** Stage 2's batch for FaceRes's 7x7 map: the candidates' unit grids and the APC weights of both sides, as the engine builds them. */
export function apcBatch(q: { grid: Float32Array; avg: Float32Array }, gal: ModelFeatures, top: readonly number[]): { candidates: Float32Array[]; u: Float32Array; v: Float32Array } {
  const n = 49;
  const u = new Float32Array(top.length * n);
  const v = new Float32Array(top.length * n);
  const candidates = top.map((g, p) => {
    const gs = faceSlice(gal, g);
    u.set(patchWeightsApc(q.grid, n, gal.c, gs.avg), p * n);
    v.set(patchWeightsApc(gs.grid, n, gal.c, q.avg), p * n);
    return gs.grid;
  });
  return { candidates, u, v };
}

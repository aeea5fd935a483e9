/** The study's gallery and queries: the app's rules (several similar faces refused), leave-one-out. */
import { readMeta } from './features.ts';

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

/**
 * Per-query outcomes of every (fusion weight, alpha) on the grid, cached in
 * .cache/study/table-{variant}.bin so policy searches (policySearch.ts) only look up:
 * outcome[wi][alpha][query] = stage-1 and stage-2 P@1 and MAP@R, plus the
 * per-query signals a policy may use (stage-1 top-1 score per weight, each
 * recognizer's own top-1 cosine).
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FUSION_GRID } from './setup.ts';
import { EMD_CACHE, loadVariantData, runQuery } from './evalCore.ts';
import { STUDY_DIR, type Variant } from './shared.ts';

export const ALPHAS = Array.from({ length: 21 }, (_, i) => i / 20);
const FOLDS = 5;

export interface Table {
  readonly variant: Variant;
  readonly n: number;
  readonly folds: Int8Array;
  /** [((wi * ALPHAS.length + a) * n + q) * 4 + m], m: s1p1, s1map, s2p1, s2map. */
  readonly out: Float32Array;
  /** [wi * n + q]: stage-1 top-1 fused score. */
  readonly top1: Float32Array;
  /** Top-1 cosine of MobileFaceNet alone and of FaceRes alone. */
  readonly mfTop1: Float32Array;
  readonly frTop1: Float32Array;
}

export function identityFold(identity: string): number {
  let h = 2166136261;
  for (let i = 0; i < identity.length; i++) h = Math.imul(h ^ identity.charCodeAt(i), 16777619) >>> 0;
  return h % FOLDS;
}

export function loadTable(variant: Variant, beta = 1): Table {
  const path = join(STUDY_DIR, `table-${EMD_CACHE === 'emd' ? '' : `${EMD_CACHE}-`}${variant}-b${beta}.bin`);
  if (existsSync(path)) {
    const buf = readFileSync(path);
    const f = new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
    const n = f[0];
    let o = 1;
    const take = (len: number) => f.slice(o, (o += len));
    const folds = Int8Array.from(take(n));
    const out = take(FUSION_GRID.length * ALPHAS.length * n * 4);
    return { variant, n, folds, out, top1: take(FUSION_GRID.length * n), mfTop1: take(n), frTop1: take(n) };
  }
  const d = loadVariantData(variant);
  const n = d.queries.length;
  const out = new Float32Array(FUSION_GRID.length * ALPHAS.length * n * 4);
  FUSION_GRID.forEach((_, wi) =>
    ALPHAS.forEach((a, ai) =>
      d.queries.forEach((q, qi) => {
        const r = runQuery(q, d.labels, { wi, beta, alpha: () => a });
        out.set([r.s1p1, r.s1map, r.s2p1, r.s2map], ((wi * ALPHAS.length + ai) * n + qi) * 4);
      }),
    ),
  );
  const top1 = new Float32Array(FUSION_GRID.length * n);
  FUSION_GRID.forEach((w, wi) => d.queries.forEach((q, qi) => (top1[wi * n + qi] = w * q.cm[q.lists[wi][0]] + (1 - w) * q.cr[q.lists[wi][0]])));
  const last = FUSION_GRID.length - 1;
  const mfTop1 = Float32Array.from(d.queries, (q) => q.cm[q.lists[last][0]]);
  const frTop1 = Float32Array.from(d.queries, (q) => q.cr[q.lists[0][0]]);
  const folds = Int8Array.from(d.queries, (q) => identityFold(q.label));
  const t: Table = { variant, n, folds, out, top1, mfTop1, frTop1 };
  const all = new Float32Array(1 + n + out.length + top1.length + 2 * n);
  let o = 0;
  const parts: readonly ArrayLike<number>[] = [[n], Float32Array.from(folds), out, top1, mfTop1, frTop1];
  for (const part of parts) {
    all.set(part, o);
    o += part.length;
  }
  writeFileSync(path, new Uint8Array(all.buffer));
  return t;
}

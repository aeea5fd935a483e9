/**
 * Stage 1's top k re-scored from the fine (int16) rows stage 2 reads: against
 * cosines computed here in float64 from the vectors as built, on a gallery of
 * near-ties (gaps of 4e-5, below int8's cosine error) that int8 rows alone
 * misorder.
 */
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS, type FaceFeatures } from '../../../src/core/types.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { MemoryFaceDetails } from '../../../src/engine/faceDetails.ts';
import { encodeStage1Row, stage1RowBytes } from '../../../src/engine/quant/int8Rows.ts';
import { SearchEngine } from '../../../src/engine/searchEngine.ts';
import { rescoreTopK } from '../../../src/engine/stage1Rescore.ts';
import { gaussian } from './references.ts';

const DIM = 96;
const N = 300;
const GAP = 4e-5;

function unit64(v: ArrayLike<number>): Float64Array {
  let ss = 0;
  for (let i = 0; i < v.length; i++) ss += v[i] * v[i];
  return Float64Array.from(v, (x) => x / Math.sqrt(ss));
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i] * b[i];
  return d;
}

/** A query and N faces whose cosines with it are 0.6 + i * GAP (i = 0..N-1, in shuffled order), each with its own direction. */
function nearTies() {
  const rand = seededRandom(41);
  const q = unit64(Array.from({ length: DIM }, () => gaussian(rand)));
  const targets = Array.from({ length: N }, (_, i) => 0.6 + i * GAP);
  for (let i = N - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [targets[i], targets[j]] = [targets[j], targets[i]];
  }
  const faces = targets.map((c, i) => {
    const r = Array.from({ length: DIM }, () => gaussian(rand));
    const along = dot(r, q);
    const perp = unit64(r.map((x, j) => x - along * q[j]));
    const embedding = Float32Array.from(q, (x, j) => c * x + Math.sqrt(1 - c * c) * perp[j]);
    const patches = { h: 2, w: 2, c: 4, data: Float32Array.from({ length: 16 }, () => Math.max(0, gaussian(rand))) };
    return { id: `f${i}`, label: `p${i}`, features: { embedding, patches, cropSize: 112 } satisfies FaceFeatures };
  });
  const query: FaceFeatures = { embedding: Float32Array.from(q), patches: { h: 2, w: 2, c: 4, data: Float32Array.from({ length: 16 }, () => Math.max(0, gaussian(rand))) }, cropSize: 112 };
  return { query, faces };
}

function int8Engine(faces: ReturnType<typeof nearTies>['faces'], fine: boolean): SearchEngine {
  const details = new MemoryFaceDetails({ keepFineStage1: fine });
  for (const f of faces) details.add(f.id, f.features);
  const engine = new SearchEngine({ stage1: 'int8', details, accelerator: null });
  const rows = new Uint8Array(faces.length * stage1RowBytes(DIM));
  faces.forEach((f, i) => rows.set(encodeStage1Row(f.features.embedding), i * stage1RowBytes(DIM)));
  engine.addRows({ ids: faces.map((f) => f.id), labels: faces.map((f) => f.label) }, [rows], { h: 2, w: 2, c: 4, dim: DIM });
  return engine;
}

describe('re-scoring stage 1 from fine rows', () => {
  it('orders by the fine scores, keeps the coarse score where one is missing, and keeps coarse order on ties', () => {
    const r = rescoreTopK([0.95, 0.7, 0.6, 0.55], [0.5, null, 0.9, 0.5]);
    expect(r.order).toEqual([2, 1, 0, 3]);
    expect(Array.from(r.scores)).toEqual([0.9, 0.7, 0.5, 0.5]);
    expect(() => rescoreTopK([1], [])).toThrow(RangeError);
  });

  it('on near-ties the int8 rows misorder, the engine returns the float64 order and cosines (within 5e-6) for the top k, stage 2 unchanged per face', async () => {
    const { query, faces } = nearTies();
    const q = unit64(query.embedding);
    const exact = new Map(faces.map((f) => [f.id, dot(q, unit64(f.features.embedding))]));
    const wantOrder = [...exact.entries()].sort((a, b) => b[1] - a[1]).map(([id]) => id);
    const settings = { ...DEFAULT_SETTINGS, k: 50, grid: 2, adaptiveAlpha: null, alpha: 0.5, backend: 'cpu' as const };

    const coarse = await int8Engine(faces, false).search(query, settings, { stage1Length: 80 });
    // Without the fine rows the int8 order is not the exact one (the test's premise: it could fail).
    expect(coarse.stage1.slice(0, 50).map((h) => h.id)).not.toEqual(wantOrder.slice(0, 50));

    const fine = await int8Engine(faces, true).search(query, settings, { stage1Length: 80 });
    const top = fine.stage1.slice(0, 50);
    // The same 50 candidates (stage 1 picked them from the int8 rows), now in exact order, with exact scores.
    expect(new Set(top.map((h) => h.id))).toEqual(new Set(coarse.stage1.slice(0, 50).map((h) => h.id)));
    expect(top.map((h) => h.id)).toEqual([...top.map((h) => h.id)].sort((a, b) => (exact.get(b) ?? 0) - (exact.get(a) ?? 0)));
    for (const h of top) expect(Math.abs(h.score - (exact.get(h.id) ?? NaN))).toBeLessThan(5e-6);
    expect(top.map((h) => h.rank)).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    // The int8 top 1 is within int8 error of the exact one; the re-scored list starts with the exact best of the 50.
    expect(top[0].id).toBe(wantOrder.find((id) => top.some((h) => h.id === id)));
    // The rest of the longer list keeps its int8 entries, after the re-scored k.
    expect(fine.stage1.slice(50)).toEqual(coarse.stage1.slice(50));
    // Each face's s_emd follows it through the re-ordering, and the blend uses the re-scored cosine.
    const coarseEmd = new Map(coarse.stage2.map((h) => [h.id, h.sEmd]));
    for (const h of fine.stage2) {
      expect(h.sEmd).toBe(coarseEmd.get(h.id));
      expect(h.sCos).toBeCloseTo(exact.get(h.id) ?? NaN, 5);
      expect(h.score).toBeCloseTo(0.5 * h.sCos + 0.5 * h.sEmd, 12);
      expect(fine.stage1[h.rankBefore - 1].id).toBe(h.id);
    }
  });
});

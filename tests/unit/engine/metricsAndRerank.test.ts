import { describe, expect, it } from 'vitest';
import { evaluateRetrieval, mapAtR, maxPrecisionAtK, precisionAt1, rPrecision } from '../../../src/engine/metrics.ts';
import { blendScore, finalOrder, rerankTopK } from '../../../src/engine/rerank.ts';

describe('metrics vs hand-computed rankings', () => {
  // Query label A; 3 gallery images of A.
  const ranked = ['A', 'B', 'A', 'C', 'A', 'B'];

  it('P@1, R-Precision and MAP@R', () => {
    expect(precisionAt1(ranked, 'A')).toBe(1);
    expect(precisionAt1(ranked, 'B')).toBe(0);
    // R = 3: top 3 = A B A -> 2/3
    expect(rPrecision(ranked, 'A', 3)).toBeCloseTo(2 / 3, 12);
    // rel = 1 0 1 -> (1/1 + 2/3) / 3
    expect(mapAtR(ranked, 'A', 3)).toBeCloseTo((1 + 2 / 3) / 3, 12);
    // B: R = 2, top 2 = A B -> rel 0 1 -> RP 1/2, MAP (1/2)/2
    expect(rPrecision(ranked, 'B', 2)).toBeCloseTo(0.5, 12);
    expect(mapAtR(ranked, 'B', 2)).toBeCloseTo(0.25, 12);
  });

  it('caps R at the list length when R exceeds it', () => {
    const short = ['A', 'B', 'A'];
    // R = 5 > 3 -> R = 3: RP = 2/3; MAP = (1 + 2/3)/3
    expect(rPrecision(short, 'A', 5)).toBeCloseTo(2 / 3, 12);
    expect(mapAtR(short, 'A', 5)).toBeCloseTo((1 + 2 / 3) / 3, 12);
  });

  it('max-precision@k and the averages, leaving out queries without gallery mates', () => {
    expect(maxPrecisionAtK(['B', 'C', 'A'], 'A', 2)).toBe(0);
    expect(maxPrecisionAtK(['B', 'C', 'A'], 'A', 3)).toBe(1);
    const counts = new Map([
      ['A', 2],
      ['B', 1],
    ]);
    const m = evaluateRetrieval(
      [
        { label: 'A', ranked: ['A', 'B', 'A'] }, // P1 1, RP (R=2) 1/2, MAP (1)/2, maxP@2 1
        { label: 'B', ranked: ['A', 'B', 'A'] }, // P1 0, RP (R=1) 0, MAP 0, maxP@2 1
        { label: 'Z', ranked: ['A', 'B', 'A'] }, // no mates: skipped
      ],
      counts,
      2,
    );
    expect(m.queries).toBe(2);
    expect(m.skipped).toBe(1);
    expect(m.p1).toBeCloseTo(50, 10);
    expect(m.rPrecision).toBeCloseTo(25, 10);
    expect(m.mapAtR).toBeCloseTo(25, 10);
    expect(m.maxPrecisionAtK).toBeCloseTo(100, 10);
  });
});

describe('re-ranking', () => {
  const top = [
    { sCos: 0.9, sEmd: 0.5 },
    { sCos: 0.8, sEmd: 0.9 },
    { sCos: 0.7, sEmd: 0.6 },
  ];

  it('blends alpha * s_emd + (1 - alpha) * s_cos and re-sorts', () => {
    // alpha 0.7: 0.62, 0.87, 0.63
    const r = rerankTopK(top, 0.7);
    expect(r.map((e) => e.stage1Index)).toEqual([1, 2, 0]);
    expect(r.map((e) => e.rankBefore)).toEqual([2, 3, 1]);
    expect(r.map((e) => e.rankAfter)).toEqual([1, 2, 3]);
    expect(r[0].score).toBeCloseTo(0.87, 12);
    expect(rerankTopK(top, 0).map((e) => e.stage1Index)).toEqual([0, 1, 2]);
  });

  it("'sum' (and alpha < 0, the authors' convention) adds the two; bad alphas are refused", () => {
    expect(blendScore(0.5, 0.9, 'sum')).toBeCloseTo(1.4, 12);
    expect(blendScore(0.5, 0.9, -1)).toBeCloseTo(1.4, 12);
    expect(rerankTopK(top, 'sum').map((e) => e.stage1Index)).toEqual([1, 0, 2]);
    expect(() => rerankTopK(top, 1.5)).toThrow(/alpha/);
  });

  it('keeps ranks after k as stage 1 had them; equal scores keep stage-1 order', () => {
    const r = rerankTopK(top, 0.7);
    expect(finalOrder(6, r)).toEqual([1, 2, 0, 3, 4, 5]);
    const tied = rerankTopK(
      [
        { sCos: 0.5, sEmd: 0.5 },
        { sCos: 0.5, sEmd: 0.5 },
      ],
      0.3,
    );
    expect(tied.map((e) => e.stage1Index)).toEqual([0, 1]);
  });
});

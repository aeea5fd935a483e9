import { describe, expect, it } from 'vitest';
import { leaveOneOutCounts, stage2Labels, summarise, type EvalQueryScores } from '../../../src/app/evaluation.ts';

describe('leave-one-out evaluation summary', () => {
  it('counts gallery images per label less the query', () => {
    expect(Object.fromEntries(leaveOneOutCounts(['a', 'a', 'b', 'c', 'c', 'c']))).toEqual({ a: 1, b: 0, c: 2 });
  });

  it('alpha 0 keeps stage 1; alpha 1 sorts the top k by s_emd; ranks after k stay', () => {
    const q: EvalQueryScores = { queryKey: 'q', label: 'a', stage1Labels: ['x', 'y', 'a', 'z'], sCos: [0.9, 0.8, 0.7], sEmd: [0.1, 0.2, 0.3] };
    expect(stage2Labels(q, 0)).toEqual(['x', 'y', 'a', 'z']);
    expect(stage2Labels(q, 1)).toEqual(['a', 'y', 'x', 'z']);
    // sum mode: 1.0, 1.0, 1.0 -> ties keep stage-1 order
    expect(stage2Labels(q, 'sum')).toEqual(['x', 'y', 'a', 'z']);
  });

  it('hand-computed P@1 / RP / MAP@R before and after re-ranking', () => {
    // Two queries of label a (R = 1 each in leave-one-out over a,a,b,c).
    const counts = leaveOneOutCounts(['a', 'a', 'b', 'c']);
    const qs: EvalQueryScores[] = [
      { queryKey: 'q1', label: 'a', stage1Labels: ['b', 'a', 'c'], sCos: [0.9, 0.8], sEmd: [0.1, 0.9] },
      { queryKey: 'q2', label: 'a', stage1Labels: ['a', 'b', 'c'], sCos: [0.9, 0.8], sEmd: [0.9, 0.1] },
    ];
    const s = summarise(qs, counts, 2, 0.7);
    // stage 1: q1 misses top-1, q2 hits -> 50%; R = 1 so RP = MAP@R = P@1.
    expect(s.stage1.p1).toBe(50);
    expect(s.stage1.rPrecision).toBe(50);
    expect(s.stage1.mapAtR).toBe(50);
    // stage 2 at alpha 0.7: q1 -> a: 0.7*0.9+0.3*0.8 = 0.87 > b: 0.34 -> hit; q2 stays a hit.
    expect(s.stage2.p1).toBe(100);
    expect(s.stage1.maxPrecisionAtK).toBe(100);
    // Queries whose label has no other gallery image are left out (label b has 0).
    const lone = summarise([{ queryKey: 'q3', label: 'b', stage1Labels: ['a'], sCos: [1], sEmd: [1] }], counts, 1, 0.7);
    expect(lone.stage1.queries).toBe(0);
  });
});

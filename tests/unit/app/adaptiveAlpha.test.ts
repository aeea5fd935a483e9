/** The per-query alpha rule's decisions on fixed inputs, in the engine, the evaluation and the presets. */
import { describe, expect, it } from 'vitest';
import { stage2Labels, summarise, leaveOneOutCounts, type EvalQueryScores } from '../../../src/app/evaluation.ts';
import { damageReadCounts } from '../../../src/app/evaluationRunner.ts';
import { DEFAULT_SETTINGS } from '../../../src/core/types.ts';
import { alphaForQuery } from '../../../src/engine/rerank.ts';
import { matchingPreset, PAPER_SETTINGS, presetById } from '../../../src/models/presets.ts';
import { settingsForRecognizer } from '../../../src/models/recommended.ts';
import { required } from '../../support/required.ts';

const rule = { threshold: 0.5, clean: 0.2, damaged: 0.9 };

describe('alphaForQuery', () => {
  it('a fixed alpha is used as it is, with no reason', () => {
    expect(alphaForQuery(0.7, null, 0.1)).toEqual({ alpha: 0.7, reason: '' });
    expect(alphaForQuery('sum', undefined, 0.9)).toEqual({ alpha: 'sum', reason: '' });
  });
  it('below the threshold the query counts as damaged; at or above, as clean; the reason names the score', () => {
    const low = alphaForQuery(0.7, rule, 0.4999);
    expect(low.alpha).toBe(0.9);
    expect(low.reason).toMatch(/0\.500 < 0\.5.*damaged.*alpha 0\.9/);
    expect(alphaForQuery(0.7, rule, 0.5).alpha).toBe(0.2);
    expect(alphaForQuery(0.7, rule, 0.93).reason).toMatch(/>= 0\.5.*clean.*alpha 0\.2/);
  });
  it('refuses a rule with alphas outside [0, 1]', () => {
    expect(() => alphaForQuery(0.7, { ...rule, damaged: 1.5 }, 0.3)).toThrow(/adaptive alpha/);
    expect(() => alphaForQuery(0.7, { ...rule, byDamage: { ...byDamage, mask: -0.1 } }, 0.3)).toThrow(/adaptive alpha/);
  });
});

const byDamage = { none: 0.05, crop: 0.8, mask: 0.3, sunglasses: 0.2 };

describe('alphaForQuery by damage kind', () => {
  const r = { ...rule, byDamage };
  it("takes the detected kind's alpha, whatever the stage-1 score, and says what was read", () => {
    const masked = alphaForQuery(0.7, r, 0.95, { kind: 'mask', probability: 0.987 });
    expect(masked.alpha).toBe(0.3);
    expect(masked.reason).toMatch(/reads the query as masked \(p 0\.99\).*alpha 0\.3/);
    expect(alphaForQuery(0.7, r, 0.1, { kind: 'none', probability: 0.9 })).toMatchObject({ alpha: 0.05 });
    expect(alphaForQuery(0.7, r, 0.1, { kind: 'none', probability: 0.9 }).reason).toMatch(/clean.*cosine leads/);
    expect(alphaForQuery(0.7, r, 0.9, { kind: 'crop', probability: 0.6 }).alpha).toBe(0.8);
    expect(alphaForQuery(0.7, r, 0.9, { kind: 'sunglasses', probability: 0.6 }).reason).toMatch(/wearing sunglasses/);
  });
  it('without a reading, falls back to the score rule and says why', () => {
    const fb = alphaForQuery(0.7, r, 0.3, { unavailable: 'the damage detector did not load (HTTP 404)' });
    expect(fb.alpha).toBe(0.9);
    expect(fb.reason).toMatch(/^the damage detector did not load \(HTTP 404\); top-1 stage-1 score 0\.300 < 0\.5/);
    expect(alphaForQuery(0.7, r, 0.6).alpha).toBe(0.2);
  });
  it('the evaluation re-blends each query with the alpha of the kind its search read', () => {
    // Same scores; read as clean (alpha 0.05) cosine keeps b first, read as cropped (0.8) EMD puts a first.
    const q: EvalQueryScores = { queryKey: 'q', label: 'a', stage1Labels: ['b', 'a', 'c'], sCos: [0.9, 0.85], sEmd: [0.3, 0.6] };
    expect(stage2Labels({ ...q, damage: { kind: 'none', probability: 1 } }, 0.7, r)).toEqual(['b', 'a', 'c']);
    expect(stage2Labels({ ...q, damage: { kind: 'crop', probability: 1 } }, 0.7, r)).toEqual(['a', 'b', 'c']);
  });
  it('the evaluation report counts what the detector read, and why it could not', () => {
    const q = (damage?: EvalQueryScores['damage']): EvalQueryScores => ({ queryKey: 'q', label: 'a', stage1Labels: [], sCos: [], sEmd: [], ...(damage ? { damage } : {}) });
    expect(damageReadCounts([q({ kind: 'mask', probability: 1 }), q({ kind: 'mask', probability: 0.6 }), q({ kind: 'none', probability: 1 }), q({ unavailable: 'no model' }), q()])).toEqual({
      mask: 2,
      none: 1,
      'no model': 1,
      'not read': 1,
    });
  });
  it("the default's rule is by damage kind and keeps a clean query's stage-1 order", () => {
    const d = required(DEFAULT_SETTINGS.adaptiveAlpha ?? undefined, 'the default rule');
    expect(d.byDamage?.none).toBe(0);
    expect(alphaForQuery(0.7, d, 0.2, { kind: 'none', probability: 0.8 }).alpha).toBe(0);
  });
});

/** Two candidates of a fused pipeline (w 0.4): b with cos_s 0.9, cos_p 0.5; a (the query's identity) with cos_s 0.3, cos_p 0.8. */
function fusedPair(layout: { secondaryDims: number; secondaryWeight: number }): EvalQueryScores {
  return {
    queryKey: 'q',
    label: 'a',
    stage1Labels: ['b', 'a'],
    sCos: [0.4 * 0.9 + 0.6 * 0.5, 0.4 * 0.3 + 0.6 * 0.8],
    sEmd: [0.5, 0.52],
    fused: { layout, sCosSecondary: [0.9, 0.3] },
  };
}

describe("a rule that re-weighs a fused pipeline's two cosines", () => {
  const layout = { secondaryDims: 3, secondaryWeight: 0.4 };
  const r = { ...rule, byDamage, secondaryCosineByDamage: { mask: 0.8 } };
  it('gives the kind its weight only for a fused gallery, and names both weights', () => {
    const masked = alphaForQuery(0.7, r, 0.9, { kind: 'mask', probability: 0.99 }, layout);
    expect(masked).toMatchObject({ alpha: 0.3, secondaryCosineWeight: 0.8 });
    expect(masked.reason).toMatch(/alpha 0\.3; stage 2's cosine gives the second recognizer weight 0\.8 \(stage 1's: 0\.4\)$/);
    // A kind the rule leaves out, and a single recognizer, blend stage 1's cosine.
    expect(alphaForQuery(0.7, r, 0.9, { kind: 'crop', probability: 0.99 }, layout).secondaryCosineWeight).toBeUndefined();
    expect(alphaForQuery(0.7, r, 0.9, { kind: 'mask', probability: 0.99 }).secondaryCosineWeight).toBeUndefined();
    expect(alphaForQuery(0.7, r, 0.9, { kind: 'mask', probability: 0.99 }).reason).not.toMatch(/second recognizer/);
    expect(() => alphaForQuery(0.7, { ...r, secondaryCosineByDamage: { mask: 1.2 } }, 0.9)).toThrow(/cosine weights in \[0, 1\]/);
  });
  it('the evaluation blends the re-weighted cosine of each query read as that kind', () => {
    // Entry 0 (b): cos_s 0.9, cos_p 0.5, fused 0.66; entry 1 (a): cos_s 0.3, cos_p 0.8, fused 0.6.
    const q = fusedPair(layout);
    // Masked, at alpha 0.3 with weight 0.8: b = 0.7*(0.72+0.1) + 0.15 = 0.724, a = 0.7*(0.24+0.16) + 0.156 = 0.436.
    expect(stage2Labels({ ...q, damage: { kind: 'mask', probability: 1 } }, 0.7, { ...r, secondaryCosineByDamage: { mask: 0.8 } })).toEqual(['b', 'a']);
    // Weight 0 (the primary's cosine alone): b = 0.7*0.5 + 0.15 = 0.5, a = 0.7*0.8 + 0.156 = 0.716.
    expect(stage2Labels({ ...q, damage: { kind: 'mask', probability: 1 } }, 0.7, { ...r, secondaryCosineByDamage: { mask: 0 } })).toEqual(['a', 'b']);
    // Without the rule's weight, stage 1's fused cosine: b = 0.7*0.66 + 0.15 = 0.612, a = 0.7*0.6 + 0.156 = 0.576.
    expect(stage2Labels({ ...q, damage: { kind: 'mask', probability: 1 } }, 0.7, { ...rule, byDamage })).toEqual(['b', 'a']);
  });
});

describe('evaluation with the adaptive rule', () => {
  // Query 1's best stage-1 score is low (damaged): alpha 0.9 lets EMD move 'a' up.
  // Query 2's is high (clean): alpha 0.2 keeps cosine's order although EMD prefers 'b'.
  const q1: EvalQueryScores = { queryKey: 'q1', label: 'a', stage1Labels: ['b', 'a', 'c'], sCos: [0.45, 0.44], sEmd: [0.3, 0.6] };
  const q2: EvalQueryScores = { queryKey: 'q2', label: 'a', stage1Labels: ['a', 'b', 'c'], sCos: [0.8, 0.7], sEmd: [0.5, 0.6] };
  it('each query gets its own alpha from its stage-1 top-1', () => {
    // q1 at 0.9: a = 0.9*0.6 + 0.1*0.44 = 0.584 > b = 0.9*0.3 + 0.1*0.45 = 0.315.
    expect(stage2Labels(q1, 0.7, rule)).toEqual(['a', 'b', 'c']);
    // q2 at 0.2: a = 0.2*0.5 + 0.8*0.8 = 0.74 > b = 0.2*0.6 + 0.8*0.7 = 0.68; a fixed 0.9 would flip them.
    expect(stage2Labels(q2, 0.7, rule)).toEqual(['a', 'b', 'c']);
    expect(stage2Labels(q2, 0.9)).toEqual(['b', 'a', 'c']);
  });
  it('the summary uses the rule for stage 2 and leaves stage 1 alone', () => {
    const counts = leaveOneOutCounts(['a', 'a', 'b', 'c']);
    const s = summarise([q1, q2], counts, 2, 0.9, rule);
    expect(s.stage1.p1).toBe(50);
    expect(s.stage2.p1).toBe(100);
    expect(summarise([q1, q2], counts, 2, 0.9).stage2.p1).toBe(50);
  });
});

describe('presets', () => {
  it('the paper preset is the published method: MobileFaceNet, alpha 0.7, APC, 7x7, k 100, reference Sinkhorn (eps 0.05, 100 iterations), no adaptive alpha', () => {
    const p = required(presetById('paper'), 'the paper preset');
    expect(p.recognizerId).toBe('mobilefacenet-arcface');
    expect(PAPER_SETTINGS).toMatchObject({ k: 100, alpha: 0.7, grid: 7, weighting: 'apc', sinkhorn: { mode: 'reference', eps: 0.05, maxIter: 100 } });
    expect(PAPER_SETTINGS.adaptiveAlpha ?? null).toBeNull();
  });
  it('settings are recognised as a preset only when they match it exactly (backend aside)', () => {
    expect(matchingPreset('mobilefacenet-arcface', { ...PAPER_SETTINGS, backend: 'cpu' })?.id).toBe('paper');
    expect(matchingPreset('mobilefacenet-arcface', { ...PAPER_SETTINGS, alpha: 0.65 })).toBeUndefined();
    expect(matchingPreset('faceres', PAPER_SETTINGS)).toBeUndefined();
    expect(matchingPreset(undefined, DEFAULT_SETTINGS)?.id).toBe('default');
  });
  it('switching to the default pipeline restores its alpha rule; switching to another recognizer drops it', () => {
    const def = required(presetById('default'), 'the default preset');
    const s = settingsForRecognizer(def.recognizerId, 7, { ...PAPER_SETTINGS, k: 50 });
    expect(s.adaptiveAlpha ?? null).toEqual(DEFAULT_SETTINGS.adaptiveAlpha ?? null);
    expect(s.alpha).toBe(DEFAULT_SETTINGS.alpha);
    expect(settingsForRecognizer('dlib-resnet', 8, DEFAULT_SETTINGS).adaptiveAlpha ?? null).toBeNull();
  });
});

describe('a rule that also compares the visible part of a sunglasses query', () => {
  const layout = { secondaryDims: 3, secondaryWeight: 0.4 };
  const r = { ...rule, byDamage, secondaryCosineByDamage: { sunglasses: 1 }, visibleByDamage: { sunglasses: { alpha: 0.3, secondaryCosine: 0.9, visible: 0.6 } } };
  const sunglasses = { kind: 'sunglasses', probability: 0.97 } as const;
  it('uses the visible entry only when every face has the embedding, else the plain entry and says why', () => {
    const ready = alphaForQuery(0.7, r, 0.9, sunglasses, layout, { ready: true });
    expect(ready).toMatchObject({ alpha: 0.3, secondaryCosineWeight: 0.9, visibleWeight: 0.6, visibleDamage: 'sunglasses' });
    expect(ready.reason).toMatch(/the part the glasses leave visible \(weight 0\.6\)/);
    const missing = alphaForQuery(0.7, r, 0.9, sunglasses, layout, { missing: '3 of the 100 candidates were indexed without it' });
    expect(missing).toMatchObject({ alpha: byDamage.sunglasses, secondaryCosineWeight: 1 });
    expect(missing.visibleWeight).toBeUndefined();
    expect(missing.reason).toMatch(/the visible part is not compared: 3 of the 100 candidates/);
    // A kind without a visible entry, and a single recognizer, never compare it.
    expect(alphaForQuery(0.7, r, 0.9, { kind: 'mask', probability: 0.9 }, layout, { ready: true }).visibleWeight).toBeUndefined();
    expect(alphaForQuery(0.7, r, 0.9, sunglasses, null, { ready: true }).visibleWeight).toBeUndefined();
  });
  it('refuses weights that do not add up', () => {
    expect(() => alphaForQuery(0.7, { ...r, visibleByDamage: { sunglasses: { alpha: 0.5, secondaryCosine: 0.9, visible: 0.6 } } }, 0.9)).toThrow(/alpha \+ weight <= 1/);
    expect(() => alphaForQuery(0.7, { ...r, visibleByDamage: { sunglasses: { alpha: 0.3, secondaryCosine: 0.9, visible: 0 } } }, 0.9)).toThrow(/above 0/);
  });
  it('the evaluation blends (1 - alpha - v) cosine + alpha s_emd + v s_visible', () => {
    // b: cos_s 0.9, cos_p 0.5 (fused 0.66); a: cos_s 0.3, cos_p 0.8 (fused 0.6). Re-weighed at 0.9: b 0.86, a 0.35.
    const q: EvalQueryScores = { ...fusedPair(layout), damage: sunglasses };
    // With s_visible b 0.2, a 0.7: b = 0.1*0.86 + 0.3*0.5 + 0.6*0.2 = 0.356, a = 0.1*0.35 + 0.3*0.52 + 0.6*0.7 = 0.611.
    expect(stage2Labels({ ...q, visible: { sVisible: [0.2, 0.7] } }, 0.7, r)).toEqual(['a', 'b']);
    // s_visible the other way round: b = 0.086 + 0.15 + 0.42 = 0.656, a = 0.035 + 0.156 + 0.12 = 0.311.
    expect(stage2Labels({ ...q, visible: { sVisible: [0.7, 0.2] } }, 0.7, r)).toEqual(['b', 'a']);
    // Missing: the plain entry (alpha 0.2 here, weight 1): b = 0.8*0.9 + 0.2*0.5 = 0.82, a = 0.8*0.3 + 0.2*0.52 = 0.344.
    expect(stage2Labels({ ...q, visible: { missing: 'old faces' } }, 0.7, r)).toEqual(['b', 'a']);
  });
});

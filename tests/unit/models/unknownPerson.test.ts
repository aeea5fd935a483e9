import { describe, expect, it } from 'vitest';
import { PRESETS } from '../../../src/models/presets.ts';
import { UNKNOWN_PERSON_THRESHOLDS, unknownPersonThresholds, unknownPersonVerdict } from '../../../src/models/unknownPerson.ts';

describe('unknown-person thresholds', () => {
  it('the default pipeline: match at or above 0.583, possibly unknown down to 0.479, likely unknown below', () => {
    expect(unknownPersonVerdict('mfn-faceres', 0.9)).toBe('match');
    expect(unknownPersonVerdict('mfn-faceres', 0.583)).toBe('match');
    expect(unknownPersonVerdict('mfn-faceres', 0.5829)).toBe('possibly-unknown');
    expect(unknownPersonVerdict('mfn-faceres', 0.479)).toBe('possibly-unknown');
    expect(unknownPersonVerdict('mfn-faceres', 0.4789)).toBe('likely-unknown');
    expect(unknownPersonVerdict('mfn-faceres', -0.2)).toBe('likely-unknown');
    expect(unknownPersonVerdict('mfn-faceres', 0.583)).toBe('match');
    expect(unknownPersonVerdict('mfn-faceres', 0.55)).not.toBe('match');
    expect(unknownPersonVerdict('mfn-faceres', 0.3)).toBe('likely-unknown');
  });

  it('the paper preset’s recognizer has its own, lower thresholds', () => {
    expect(unknownPersonVerdict('mobilefacenet-arcface', 0.55)).toBe('match');
    expect(unknownPersonVerdict('mobilefacenet-arcface', 0.5)).toBe('possibly-unknown');
    expect(unknownPersonVerdict('mobilefacenet-arcface', 0.42)).toBe('likely-unknown');
    // The same score reads differently per recognizer: cosines of different models are not on one scale.
    expect(unknownPersonVerdict('mobilefacenet-arcface', 0.55)).toBe('match');
    expect(unknownPersonVerdict('mfn-faceres', 0.55)).not.toBe('match');
  });

  it('a recognizer nobody measured gets no verdict and is never called unknown', () => {
    expect(unknownPersonThresholds('dlib-resnet')).toBeUndefined();
    expect(unknownPersonVerdict('dlib-resnet', 0.1)).toBeNull();
    expect(unknownPersonVerdict('dlib-resnet', 0.1)).toBeNull();
    // Inherited object keys are not recognizer ids.
    expect(unknownPersonVerdict('toString', 0.1)).toBeNull();
    expect(unknownPersonVerdict('__proto__', 0.1)).toBeNull();
  });

  it('a score that is not a number is not a match', () => {
    expect(unknownPersonVerdict('mfn-faceres', Number.NaN)).toBe('likely-unknown');
    expect(unknownPersonVerdict('mfn-faceres', Number.NaN)).not.toBe('match');
  });

  it('both presets have thresholds, and each band is non-empty', () => {
    for (const p of PRESETS) expect(unknownPersonThresholds(p.recognizerId), p.id).toBeDefined();
    for (const [id, t] of Object.entries(UNKNOWN_PERSON_THRESHOLDS)) {
      expect(t.damaged, id).toBeGreaterThan(0);
      expect(t.clean, id).toBeGreaterThan(t.damaged);
      expect(t.clean, id).toBeLessThan(1);
    }
  });
});

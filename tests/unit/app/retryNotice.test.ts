import { describe, expect, it } from 'vitest';
import { withRetryNotice, type ExtractOutcome } from '../../../src/app/extractTypes.ts';
import { syntheticFeatures } from '../../support/appPorts.ts';

const face = (notice?: { code: 'several-faces-indexed-central'; message: string; hint: string }): ExtractOutcome => ({
  ok: true,
  face: { faces: [], chosenIndex: 0, features: syntheticFeatures('Ann', 0), aligned: new Blob(['a']), timings: {}, ...(notice ? { notice } : {}) },
});

describe('withRetryNotice', () => {
  it("a query done again on a fresh worker carries why, as a worker-crashed notice with the first worker's reason", () => {
    const out = withRetryNotice(face(), 'an extraction worker crashed (the GPU device was lost (destroyed); this extraction worker restarts)');
    expect(out.ok && out.face.notice).toEqual({
      code: 'worker-crashed',
      message: 'an extraction worker crashed (the GPU device was lost (destroyed); this extraction worker restarts); the photo was done again on a fresh worker',
      hint: expect.stringMatching(/WASM/) as unknown,
    });
  });

  it('changes nothing without a retry, for a failed outcome, or when the photo has a notice of its own', () => {
    const plain = face();
    expect(withRetryNotice(plain, undefined)).toBe(plain);
    const failed: ExtractOutcome = { ok: false, error: { __appError: true, code: 'no-face', message: 'no face', hint: 'h' } };
    expect(withRetryNotice(failed, 'crashed')).toBe(failed);
    const own = face({ code: 'several-faces-indexed-central', message: 'two faces', hint: 'h' });
    expect(withRetryNotice(own, 'crashed')).toBe(own);
  });
});

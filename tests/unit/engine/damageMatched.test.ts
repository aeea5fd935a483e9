/**
 * Merging a damage-matched library search's lists (src/engine/damageMatched.ts):
 * each face counts only in the list of the query version that wears what the
 * face wears, and the lists meet on one scale (score minus the pairing's
 * impostor level). Expected orders are worked out by hand below.
 */
import { describe, expect, it } from 'vitest';
import type { OodTransform } from '../../../src/core/types.ts';
import { mergeMatched, type PairingLevels, type VersionResult } from '../../../src/engine/damageMatched.ts';

const LEVELS: PairingLevels = { none: 0.2, crop: 0.3, mask: 0.35, sunglasses: 0.3 };

const KIND: Record<string, OodTransform> = { a: 'none', b: 'mask', c: 'sunglasses', d: 'none', e: 'crop', f: 'mask' };
const kindOf = (id: string): OodTransform => KIND[id];

const hits = (...xs: [string, number][]) => xs.map(([id, score]) => ({ id, score }));

const VERSIONS: VersionResult<{ id: string; score: number }>[] = [
  // The query as it is: a masked face (b) scores low against it, the cropped one (e) has no drawn version and stays here.
  { kind: 'none', stage1: hits(['a', 0.6], ['d', 0.5], ['e', 0.45], ['b', 0.3]), stage2: hits(['a', 0.62], ['e', 0.5], ['d', 0.49]) },
  // Drawn with a mask: b and f (masked) count here; a (clean) does not, however high.
  { kind: 'mask', stage1: hits(['a', 0.9], ['b', 0.74], ['f', 0.5]), stage2: hits(['b', 0.7], ['a', 0.8], ['f', 0.56]) },
  { kind: 'sunglasses', stage1: hits(['c', 0.62], ['d', 0.7]), stage2: hits(['c', 0.64]) },
];

describe('mergeMatched', () => {
  it("keeps each face only from the version that wears what it wears, sorted by score minus the pairing's level", () => {
    const merged = mergeMatched(VERSIONS, kindOf, LEVELS, 'stage1');
    // a 0.6-0.2=0.40, d 0.30, e 0.25 (crop: no version, so via none), b 0.74-0.35=0.39, f 0.15, c 0.62-0.3=0.32.
    expect(merged.map((m) => m.hit.id)).toEqual(['a', 'b', 'c', 'd', 'e', 'f']);
    expect(merged.map((m) => m.via)).toEqual(['none', 'mask', 'sunglasses', 'none', 'none', 'mask']);
    expect(merged.map((m) => m.hit.score)).toEqual([0.6, 0.74, 0.62, 0.5, 0.45, 0.5]);
    merged.forEach((m) => expect(m.level).toBeCloseTo(m.hit.score - LEVELS[m.via], 12));
  });

  it("merges stage 2's lists the same way", () => {
    const merged = mergeMatched(VERSIONS, kindOf, LEVELS, 'stage2');
    // a 0.42, e 0.30, d 0.29, b 0.35, f 0.21, c 0.34 (by raw score: b, c, a, f, e, d).
    expect(merged.map((m) => m.hit.id)).toEqual(['a', 'b', 'c', 'e', 'd', 'f']);
  });

  it('with no drawn version it is the plain list, in its own order', () => {
    const merged = mergeMatched([VERSIONS[0]], kindOf, LEVELS, 'stage1');
    expect(merged.map((m) => m.hit.id)).toEqual(['a', 'd', 'e', 'b']);
    expect(merged.every((m) => m.via === 'none')).toBe(true);
  });
});

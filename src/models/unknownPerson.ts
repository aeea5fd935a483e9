/**
 * When the best match should not be presented as a match (issue 15): a
 * stranger's photo still has a nearest gallery face, so the top-1 alone
 * cannot say "not in the gallery". The signal is the query's stage-1 top-1
 * cosine (`stage1[0].score` in the engine; the same number the adaptive
 * alpha reads), not the blended stage-2 score: its scale moves with alpha,
 * and the study had no s_emd for strangers to fit it on.
 *
 * Chosen on lfw-dev by bench/study/unknownThreshold.ts (2026-12-02): every
 * indexed image (5,023) queries all the others; the 1,361 whose identity has
 * no other indexed image are strangers. `clean` is the score below which the
 * presented top-1 of an unaltered photo was more often wrong than right
 * (maximises correct-at-or-above plus wrong-below); `damaged` is the same
 * crossing for masked, sunglasses and cropped photos pooled, which score
 * lower when they are right. 5-fold cross-validation by identity, held out,
 * default pipeline: `clean` flags 97.1% of clean strangers and 2.3% of
 * correct clean top-1s, but also 50-79% of the correct top-1s of damaged
 * photos, hence the middle band says "possibly unknown", not "unknown". Numbers
 * and the paper preset's in docs/RESULTS.md, "Unknown-person threshold".
 * Both crossings move with how often queries are strangers (27% here).
 */

export interface UnknownPersonThresholds {
  /** Below it, an unaltered photo's top-1 was more often wrong than right. */
  readonly clean: number;
  /** Below it, even a masked, sunglasses or cropped photo's top-1 was more often wrong than right. */
  readonly damaged: number;
}

/** Keyed by recognizer or pipeline id; one not listed has no threshold (nothing was measured for it). */
export const UNKNOWN_PERSON_THRESHOLDS: Readonly<Record<string, UnknownPersonThresholds>> = {
  'mfn-faceres': { clean: 0.583, damaged: 0.479 },
  // Measured on MobileFaceNet's view inside the fused pipeline (cosine > 0.95 to its own warp).
  'mobilefacenet-arcface': { clean: 0.501, damaged: 0.421 },
};

/**
 * 'match': present the top-1 as the answer. 'possibly-unknown': a clean
 * photo scoring this low is usually a stranger, an occluded or cropped one
 * is often still the top-1's person. 'likely-unknown': wrong more often than
 * right whatever the photo.
 */
export type UnknownPersonVerdict = 'match' | 'possibly-unknown' | 'likely-unknown';

export function unknownPersonThresholds(recognizerId: string): UnknownPersonThresholds | undefined {
  return Object.hasOwn(UNKNOWN_PERSON_THRESHOLDS, recognizerId) ? UNKNOWN_PERSON_THRESHOLDS[recognizerId] : undefined;
}

/** null where the recognizer has no threshold: say nothing rather than guess. */
export function unknownPersonVerdict(recognizerId: string, stage1Top1: number): UnknownPersonVerdict | null {
  const t = unknownPersonThresholds(recognizerId);
  if (!t) return null;
  // NaN (no gallery face was scored) must not read as a match.
  if (!(stage1Top1 >= t.damaged)) return 'likely-unknown';
  return stage1Top1 >= t.clean ? 'match' : 'possibly-unknown';
}

/**
 * The mean score of two different people's faces when both wear the same
 * kind of damage, for the default pipeline's stage-1 score (fused cosine,
 * w 0.4). A damage-matched library search (src/engine/damageMatched.ts)
 * subtracts it from each pairing's scores, so that a masked stranger does
 * not outrank the clean true match because the two masks match.
 *
 * Measured on lfw-dev by bench/study/matchedCalibration.ts (2026-12-03):
 * 3,000 random impostor pairs per kind, both faces of a pair drawn with the
 * kind, on the study dump (710 images). Per cross-validation fold
 * (identities by hash mod 5) the means move by at most 0.009
 * (docs/RESULTS.md, "Damage-matched library search"). `crop` is measured but
 * not used: the search draws no cropped version.
 */
import type { PairingLevels } from '../engine/damageMatched.ts';

export const MATCHED_PAIRING_LEVELS: PairingLevels = { none: 0.2257, crop: 0.272, mask: 0.3275, sunglasses: 0.3049 };

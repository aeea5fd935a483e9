/**
 * Where clustering cuts faces into people, per recognizer or pipeline: the
 * average fused cosine two people's faces must reach to be one person.
 *
 * 'mfn-faceres' (the default): 0.54, chosen on lfw-dev by
 * bench/study/clusterStudy.ts, 5-fold cross-validation by identity; held out
 * inside the whole library BCubed precision 98.49, recall 96.90 (fit on all
 * of lfw-dev: 98.66 / 96.89). No other recognizer was measured, and a
 * threshold that suits one cosine scale is wrong for another, so a library
 * of another recognizer is indexed and searched but not grouped into people.
 */
import { AppError } from '../core/errors.ts';

export const PEOPLE_THRESHOLDS: Readonly<Record<string, number>> = {
  'mfn-faceres': 0.54,
};

export function peopleThreshold(recognizerId: string): number {
  if (!Object.hasOwn(PEOPLE_THRESHOLDS, recognizerId)) {
    throw new AppError(
      'invalid-argument',
      `no people-grouping threshold was measured for the recognizer ${recognizerId}`,
      'Switch to the default recognizer (MobileFaceNet + FaceRes) to group a photo library into people; search works with any.',
    );
  }
  return PEOPLE_THRESHOLDS[recognizerId];
}

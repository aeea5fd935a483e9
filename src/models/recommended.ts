/**
 * Stage-2 settings per recognizer. The paper picked its alpha and grid on
 * its own model; how much re-ranking pays, and at which alpha, depends on
 * the recognizer (docs/RESULTS.md, leave-one-out on lfw-dev). Switching
 * recognizer applies its native grid and this alpha; every control can
 * still be moved.
 */
import { DEFAULT_SETTINGS, type AdaptiveAlpha, type RerankSettings } from '../core/types.ts';
import { DEFAULT_RECOGNIZER_ID } from './pipelines.ts';

export interface RecognizerRecommendation {
  readonly alpha: number;
  /** A per-query alpha rule, where one was chosen for this recognizer. */
  readonly adaptiveAlpha?: AdaptiveAlpha;
  /** Where the value comes from, shown nowhere but kept with the number. */
  readonly basis: string;
}

export const RECOMMENDED: Readonly<Record<string, RecognizerRecommendation>> = {
  [DEFAULT_RECOGNIZER_ID]: {
    alpha: DEFAULT_SETTINGS.alpha as number,
    ...(DEFAULT_SETTINGS.adaptiveAlpha ? { adaptiveAlpha: DEFAULT_SETTINGS.adaptiveAlpha } : {}),
    basis: 'the default preset: chosen on lfw-dev by 5-fold cross-validation by identity (bench/study/policySearch.ts, docs/RESULTS.md)',
  },
  'mobilefacenet-arcface': { alpha: 0.7, basis: "the paper's alpha; on lfw-dev it helps crop and mask, costs 0.16 P@1 in distribution and 3.5 on sunglasses" },
  faceres: { alpha: 0.7, basis: "the paper's alpha; on lfw-dev (1,500 queries) in-distribution P@1 unchanged (96.93), crop +0.27, mask +3.87, sunglasses +4.87" },
  'dlib-resnet': { alpha: 0.2, basis: 'lfw-dev 8x8: the largest alpha whose in-distribution P@1 is not below stage 1 (97.35 vs 97.11); crop +3.0, mask +9.6, sunglasses +6.3 P@1' },
};

/** The settings to use after switching to recognizer `id`: its native grid, and its alpha when one was chosen. */
export function settingsForRecognizer(id: string, nativeGrid: number, current: RerankSettings): RerankSettings {
  const rec = RECOMMENDED[id];
  if (!rec) return { ...current, grid: nativeGrid };
  return { ...current, grid: nativeGrid, alpha: rec.alpha, adaptiveAlpha: rec.adaptiveAlpha ?? null };
}

/**
 * Named starting points: the app's default pipeline, and the paper's method
 * exactly as published (one recognizer, fixed alpha 0.7, APC, native grid,
 * k 100, reference Sinkhorn). Choosing one sets the recognizer and every
 * re-ranking setting; moving any control afterwards makes it "custom".
 */
import { DEFAULT_SETTINGS, type RerankSettings } from '../core/types.ts';
import { DEFAULT_RECOGNIZER_ID } from './pipelines.ts';

export type PresetId = 'default' | 'paper';

export interface Preset {
  readonly id: PresetId;
  readonly title: string;
  /** One sentence the UI shows under the picker. */
  readonly summary: string;
  readonly recognizerId: string;
  readonly settings: RerankSettings;
}

/** Spelled out rather than derived from DEFAULT_SETTINGS, so retuning the default can never move the published method. */
export const PAPER_SETTINGS: RerankSettings = {
  k: 100,
  alpha: 0.7,
  grid: 7,
  weighting: 'apc',
  sinkhorn: { mode: 'reference', eps: 0.05, maxIter: 100 },
  backend: 'auto',
};

export const PRESETS: readonly Preset[] = [
  {
    id: 'default',
    title: 'Default (fused MobileFaceNet + FaceRes)',
    summary: "Stage 1 ranks by a fused cosine of two recognizers; stage 2 blends in the EMD of FaceRes's 7x7 patch map. Chosen on lfw-dev by cross-validation (docs/RESULTS.md).",
    recognizerId: DEFAULT_RECOGNIZER_ID,
    settings: DEFAULT_SETTINGS,
  },
  {
    id: 'paper',
    title: 'Paper (DeepFace-EMD as published)',
    summary: 'One recognizer (MobileFaceNet, 7x7x512 map), APC weights, alpha 0.7, k 100, the authors\u2019 Sinkhorn stop rule.',
    recognizerId: 'mobilefacenet-arcface',
    settings: PAPER_SETTINGS,
  },
];

export function presetById(id: string): Preset | undefined {
  return PRESETS.find((p) => p.id === id);
}

/** The preset these exact choices amount to, if any (else the UI calls them custom). */
export function matchingPreset(recognizerId: string | undefined, settings: RerankSettings): Preset | undefined {
  return PRESETS.find((p) => p.recognizerId === (recognizerId ?? DEFAULT_RECOGNIZER_ID) && sameSettings(p.settings, settings));
}

function sameSettings(a: RerankSettings, b: RerankSettings): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Backend is where stage 2 runs, not what it computes: presets ignore it. */
function canonical(s: RerankSettings) {
  return { k: s.k, alpha: s.alpha, grid: s.grid, weighting: s.weighting, sinkhorn: { mode: s.sinkhorn.mode, eps: s.sinkhorn.eps, maxIter: s.sinkhorn.maxIter }, adaptive: s.adaptiveAlpha ?? null };
}

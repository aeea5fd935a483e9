/** Plain data shapes shared by the face pipeline, the engine and the workers. */

/** 8-bit RGBA pixels, row-major, like ImageData but constructible in Node. */
export interface RgbaImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** A point in pixels. */
export type Point = readonly [number, number];

/**
 * A face's last convolutional feature map, patch-major: row p = patch (y*w + x),
 * c floats each. Raw values as the network gives them (not normalised): APC
 * needs their plain average.
 */
export interface PatchMap {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly data: Float32Array;
}

/** What the recognizer gives for one aligned face. */
export interface FaceFeatures {
  /** The final linear embedding, as the network gives it (not normalised). */
  readonly embedding: Float32Array;
  readonly patches: PatchMap;
  /** The 68 landmarks mapped into the aligned crop (pixels of the recognizer's input), for `lmk` weights. */
  readonly landmarks68?: readonly Point[];
  /** Side of the aligned crop in pixels (e.g. 112). */
  readonly cropSize: number;
}

export type Weighting = 'uniform' | 'apc' | 'cc' | 'sc' | 'sc-sim' | 'lmk';
export type SinkhornMode = 'reference' | 'converged';
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';
export type OodTransform = 'none' | 'crop' | 'mask' | 'sunglasses';

/**
 * Alpha per query (issue 13): when the query's stage-1 top-1 score is below
 * `threshold` it looks damaged (occluded, cropped) and the EMD gets weight
 * `damaged`; otherwise `clean`. Chosen on lfw-dev by cross-validation.
 */
export interface AdaptiveAlpha {
  readonly threshold: number;
  readonly clean: number;
  readonly damaged: number;
}

export interface RerankSettings {
  /** Number of stage-1 candidates re-ranked (paper: 100). */
  readonly k: number;
  /** Blend weight of the EMD similarity; 'sum' = s_emd + s_cos (the authors' alpha < 0 mode). */
  readonly alpha: number | 'sum';
  /** Grid side G of the pooled patch map (native = the map's own h). */
  readonly grid: number;
  readonly weighting: Weighting;
  readonly sinkhorn: {
    readonly mode: SinkhornMode;
    readonly eps: number;
    readonly maxIter: number;
  };
  readonly backend: BackendChoice;
  /** When set, each query's alpha comes from this rule and `alpha` is not used. */
  readonly adaptiveAlpha?: AdaptiveAlpha | null;
}

/**
 * The default preset's settings, for the default pipeline (src/models/pipelines.ts).
 * The adaptive alpha was chosen on lfw-dev by 5-fold cross-validation by
 * identity (bench/study/policySearch.ts; docs/RESULTS.md): a query whose best
 * fused stage-1 score is below 0.444 looks damaged and is re-ranked at alpha
 * 0.7; a clean one keeps its stage-1 order (alpha 0). `alpha` is the fixed
 * value used when the per-query rule is switched off.
 */
export const DEFAULT_SETTINGS: RerankSettings = {
  k: 100,
  alpha: 0.7,
  grid: 7,
  weighting: 'apc',
  sinkhorn: { mode: 'reference', eps: 0.05, maxIter: 100 },
  backend: 'auto',
  adaptiveAlpha: { threshold: 0.444, clean: 0, damaged: 0.7 },
};

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
  /**
   * Embeddings of only the part of the face a kind of damage leaves visible
   * (a recognizer whose manifest lists `visibleEmbeddings`; in a fused
   * pipeline, the secondary's), as the network gives them.
   */
  readonly visibleEmbeddings?: VisibleEmbeddings;
}

/** The kinds of damage that hide a fixed part of the aligned face, so that the rest can be compared alone (this order is the stored one). */
export const VISIBLE_DAMAGES = ['mask', 'sunglasses'] as const;
export type VisibleDamage = (typeof VISIBLE_DAMAGES)[number];
export type VisibleEmbeddings = Readonly<Partial<Record<VisibleDamage, Float32Array>>>;

export type Weighting = 'uniform' | 'apc' | 'cc' | 'sc' | 'sc-sim' | 'lmk';
export type SinkhornMode = 'reference' | 'converged';
export type BackendChoice = 'auto' | 'webgpu' | 'cpu';
export type OodTransform = 'none' | 'crop' | 'mask' | 'sunglasses';

/**
 * Alpha per query (issue 13). With `byDamage`, the damage detector
 * (src/engine/damageDetector.ts) reads the query's patch map as clean,
 * cropped, masked or wearing sunglasses and the EMD gets that kind's weight.
 * Without it (or where no detector fits the recognizer's map): when the
 * query's stage-1 top-1 score is below `threshold` it looks damaged and the
 * EMD gets weight `damaged`, otherwise `clean`. Chosen on lfw-dev by
 * cross-validation.
 */
export interface AdaptiveAlpha {
  readonly threshold: number;
  readonly clean: number;
  readonly damaged: number;
  readonly byDamage?: Readonly<Record<OodTransform, number>>;
  /**
   * For a fused pipeline (two recognizers, src/face/fusedRecognizer.ts): the
   * secondary recognizer's weight in the cosine stage 2 blends, for a query
   * read as this kind. Stage 1 always ranks by the pipeline's own weighting;
   * a kind left out (or a single recognizer) blends stage 1's cosine.
   */
  readonly secondaryCosineByDamage?: Readonly<Partial<Record<OodTransform, number>>>;
  /**
   * For a query read as this kind, where it and every candidate have that
   * kind's visible-part embedding: stage 2 scores
   * (1 - alpha - visible) * cosine + alpha * s_emd + visible * cos_visible,
   * with this alpha, this secondary cosine weight and this visible weight
   * instead of the kind's entries above (which stay the fallback for faces
   * indexed without the embedding).
   */
  readonly visibleByDamage?: Readonly<Partial<Record<VisibleDamage, { readonly alpha: number; readonly secondaryCosine: number; readonly visible: number }>>>;
}

/**
 * A fused pipeline's embedding: [sqrt(w) * unit(e_secondary), sqrt(1 - w) * unit(e_primary)],
 * the secondary's part first (src/face/fusedRecognizer.ts); the engine splits a
 * fused cosine into the two recognizers' with it.
 */
export interface FusedCosineLayout {
  readonly secondaryDims: number;
  /** w, in (0, 1). */
  readonly secondaryWeight: number;
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
 * identity (bench/study/damagePolicy.ts, bench/study/splitBlend.ts;
 * docs/RESULTS.md): the damage detector reads the query as clean (alpha 0:
 * it keeps its stage-1 order), cropped (0.8), masked (0.6) or wearing
 * sunglasses (0.6); for the last two stage 2's cosine gives MobileFaceNet
 * weight 0.8 and 1 (stage 1: 0.4), so FaceRes counts mostly through its
 * patch EMD. Since 2026-12-04, where the faces carry MobileFaceNet's
 * embedding of the part the damage leaves visible (its head applied to rows
 * 4-6 of its map for sunglasses, rows 0-2 for masks), stage 2 also weighs the
 * cosine of those: sunglasses 0.1 x (0.9 cos_MobileFaceNet + 0.1 cos_FaceRes)
 * + 0.3 s_emd + 0.6 cos_visible, masks 0.1 x (0.6 cos_MobileFaceNet + 0.4
 * cos_FaceRes) + 0.1 s_emd + 0.8 cos_visible (bench/study/visibleBlend.ts,
 * held out over stage 1: sunglasses +3.1 P@1, masks +3.6, against +1.7 and
 * +2.2 without it); faces indexed before keep the rule above. Where the detector cannot run, the earlier rule decides: alpha
 * 0.7 when the best fused stage-1 score is below 0.444, else 0. `alpha` is
 * the fixed value used when the per-query rule is switched off.
 */
export const DEFAULT_SETTINGS: RerankSettings = {
  k: 100,
  alpha: 0.7,
  grid: 7,
  weighting: 'apc',
  sinkhorn: { mode: 'reference', eps: 0.05, maxIter: 100 },
  backend: 'auto',
  adaptiveAlpha: {
    threshold: 0.444,
    clean: 0,
    damaged: 0.7,
    byDamage: { none: 0, crop: 0.8, mask: 0.6, sunglasses: 0.6 },
    secondaryCosineByDamage: { mask: 0.8, sunglasses: 1 },
    visibleByDamage: { mask: { alpha: 0.1, secondaryCosine: 0.6, visible: 0.8 }, sunglasses: { alpha: 0.3, secondaryCosine: 0.9, visible: 0.6 } },
  },
};

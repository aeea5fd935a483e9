/**
 * FaceRes input scaling. Two candidates exist: HSE's own code
 * (HSE_FaceRec_tf facial_analysis.py) feeds BGR minus the VGG means
 * [103.939, 116.779, 123.68]; Human (src/face/faceres.ts) feeds RGB 0..255
 * with no mean. Measured with the same aligned LFW faces (514, leave-one-out):
 * BGR - mean P@1 95.9%, same/different-person cosine 0.720 / 0.373; RGB
 * 0..255 87.4%, 0.690 / 0.396; RGB / 255 collapses (cosine 0.998 for all).
 * So the upstream BGR - mean scaling is used.
 */
export const FACERES_NORMALISATION = {
  channelOrder: 'BGR' as const,
  /** Per input channel, i.e. B, G, R. */
  mean: [103.939, 116.779, 123.68],
  std: [1, 1, 1],
};

export const FACERES_NORMALISATION_NOTE = "Input: BGR minus [103.939, 116.779, 123.68] (HSE upstream), not Human's RGB 0..255: LFW leave-one-out P@1 95.9% vs 87.4%.";

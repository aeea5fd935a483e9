/**
 * Recognizer pipelines: what the app can use to extract features, beside
 * the single recognizers of the manifest. A fused pipeline runs two
 * recognizers on the same aligned face (src/face/fusedRecognizer.ts):
 * stage 1 ranks by a weighted sum of their cosines, stage 2 transports the
 * primary's patch map. Values are chosen on lfw-dev (docs/RESULTS.md,
 * "The default pipeline"); `version` changes whenever a stored feature
 * would (e.g. the weight), so galleries are re-indexed rather than mixed.
 */
export interface FusedPipelineSpec {
  readonly id: string;
  readonly title: string;
  readonly version: string;
  /** Frame of the aligned face and source of the patch map (stage 2). */
  readonly primary: string;
  /** Seen through its own framing of the primary's crop; stage 1 only. */
  readonly secondary: string;
  /** Stage-1 weight of the secondary's cosine. */
  readonly secondaryWeight: number;
}

export const FUSED_PIPELINES: readonly FusedPipelineSpec[] = [
  {
    id: 'mfn-faceres',
    title: 'MobileFaceNet + FaceRes (default: fused cosine, FaceRes patches)',
    version: '1',
    primary: 'faceres',
    secondary: 'mobilefacenet-arcface',
    secondaryWeight: 0.4,
  },
];

/** What the app uses when nobody chose: the fused pipeline. */
export const DEFAULT_RECOGNIZER_ID = 'mfn-faceres';

export function fusedPipeline(id: string | undefined): FusedPipelineSpec | undefined {
  return FUSED_PIPELINES.find((p) => p.id === id);
}

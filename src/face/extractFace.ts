/**
 * One decoded photo to the features of its face, as gallery import and
 * queries need it: find and align the faces, refuse a gallery photo whose
 * label could belong to two people, optionally align another face the user
 * picked, apply the query transform, embed.
 */
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, OodTransform, RgbaImage } from '../core/types.ts';
import { boxArea } from './detector.ts';
import { applyOod } from './ood.ts';
import type { FacePipeline } from './pipeline.ts';

/**
 * A gallery photo with several faces is indexed under its largest face only
 * when that face clearly dominates (LFW photos often show people in the
 * background); otherwise which face the label belongs to is ambiguous.
 */
export const GALLERY_SECOND_FACE_MAX_AREA_RATIO = 0.7;

export interface ExtractFaceOptions {
  /** Gallery images with several faces of similar size are refused; a query keeps them all and lets the user pick. */
  readonly purpose: 'gallery' | 'query';
  readonly faceIndex?: number;
  readonly ood: OodTransform;
  readonly seed: number;
}

export interface ExtractedFeatures {
  readonly faces: readonly { x: number; y: number; width: number; height: number; score: number }[];
  readonly chosenIndex: number;
  readonly features: FaceFeatures;
  /** The aligned crop after the query transform. */
  readonly aligned: RgbaImage;
  readonly timings: { readonly detect: number; readonly landmarks: number; readonly align: number; readonly embed: number };
}

export async function extractFace(pipeline: FacePipeline, image: RgbaImage, fileName: string, opts: ExtractFaceOptions): Promise<ExtractedFeatures> {
  let analysis = await pipeline.analyse(image, fileName);
  if (opts.purpose === 'gallery' && analysis.faces.length > 1) {
    const [largest, second] = analysis.faces.map((f) => boxArea(f.box)).sort((a, b) => b - a);
    if (second > GALLERY_SECOND_FACE_MAX_AREA_RATIO * largest) {
      throw new AppError('several-faces', `${analysis.faces.length} faces of similar size were found, so the label is ambiguous`, 'Crop the photo to the one person it is labelled with, or use it as a query and pick the face.', { file: fileName });
    }
  }
  if (opts.faceIndex !== undefined && opts.faceIndex !== analysis.chosenIndex) analysis = pipeline.realign(image, analysis, opts.faceIndex);
  const face = applyOod(opts.ood, analysis, opts.seed);
  const t0 = performance.now();
  const [features] = await pipeline.embed([face]);
  const embedMs = performance.now() - t0;
  return {
    faces: analysis.faces.map((f) => ({ x: f.box.x1, y: f.box.y1, width: f.box.x2 - f.box.x1, height: f.box.y2 - f.box.y1, score: f.score })),
    chosenIndex: analysis.chosenIndex,
    features,
    aligned: face.aligned,
    timings: { detect: analysis.timings.detectMs, landmarks: analysis.timings.landmarksMs, align: analysis.timings.alignMs, embed: embedMs },
  };
}

/**
 * One decoded photo to the features of its face, as gallery import and
 * queries need it: find and align the faces, drop detections that are not
 * whole faces, choose the face a gallery photo is labelled with (or refuse
 * the photo when that is ambiguous), optionally align another face the user
 * picked, apply the query transform, embed.
 */
import { AppError, type PlainNotice } from '../core/errors.ts';
import type { FaceFeatures, OodTransform, RgbaImage } from '../core/types.ts';
import { chooseGalleryFace } from './galleryFaceChoice.ts';
import { applyOod } from './ood.ts';
import { largestFaceIndex, type FaceAnalysis, type FacePipeline } from './pipeline.ts';
import { plausibleFaceIndices } from './plausibleFaces.ts';

export interface ExtractFaceOptions {
  /**
   * A gallery photo is indexed under the face it is labelled with: the only
   * or clearly largest face, else the clearly central one of several similar
   * faces (with a notice); it is refused when none is. A query keeps every
   * face and lets the user pick (the largest by default).
   */
  readonly purpose: 'gallery' | 'query';
  /** Index into the faces this function returns (what the user picked). */
  readonly faceIndex?: number;
  readonly ood: OodTransform;
  readonly seed: number;
}

export interface FaceSelection {
  /** The analysis with only whole faces in `faces`, aligned on the chosen one. */
  readonly analysis: FaceAnalysis;
  /** How many detections were dropped as not whole faces. */
  readonly droppedDetections: number;
  readonly notice?: PlainNotice;
}

export interface ExtractedFeatures {
  readonly faces: readonly { x: number; y: number; width: number; height: number; score: number }[];
  readonly chosenIndex: number;
  readonly features: FaceFeatures;
  /** The aligned crop after the query transform. */
  readonly aligned: RgbaImage;
  /** Set when the photo was used but the user should check how (a gallery photo's central face among several). */
  readonly notice?: PlainNotice;
  readonly timings: { readonly detect: number; readonly landmarks: number; readonly align: number; readonly embed: number };
}

/**
 * Keeps the whole faces of `analysed` and chooses the one to embed (see
 * ExtractFaceOptions.purpose); realigns when that is not the face the
 * pipeline aligned. Throws AppError 'several-faces' for an ambiguous gallery
 * photo.
 */
export function selectFace(pipeline: FacePipeline, image: RgbaImage, analysed: FaceAnalysis, opts: Pick<ExtractFaceOptions, 'purpose' | 'faceIndex'>): FaceSelection {
  const faces = plausibleFaceIndices(analysed.faces).map((i) => analysed.faces[i]);
  const droppedDetections = analysed.faces.length - faces.length;
  let target = largestFaceIndex(faces);
  let notice: PlainNotice | undefined;
  if (opts.purpose === 'gallery') {
    const boxes = faces.map((f) => f.box);
    const choice = chooseGalleryFace(boxes, image.width, image.height);
    if (choice.kind === 'ambiguous') {
      throw new AppError(
        'several-faces',
        `${choice.similarCount} faces of similar size were found and none is clearly the central one, so the label is ambiguous`,
        'Crop the photo to the one person it is labelled with, or use it as a query and pick the face.',
        { file: analysed.fileName },
      );
    }
    target = choice.index;
    if (choice.kind === 'central') {
      notice = {
        code: 'several-faces-indexed-central',
        message: `several faces (${choice.similarCount} of similar size); indexed the central one`,
        hint: 'Check that the central face is the person this photo is labelled with; if it is not, crop the photo to that person and add it again.',
      };
    }
  }
  if (opts.faceIndex !== undefined) target = opts.faceIndex;
  const alignedFace = analysed.faces[analysed.chosenIndex];
  const kept: FaceAnalysis = { ...analysed, faces, chosenIndex: faces.indexOf(alignedFace) };
  // realign also refuses a target that is no face (an out-of-range pick).
  const analysis = target === kept.chosenIndex && target >= 0 ? kept : pipeline.realign(image, kept, target);
  return { analysis, droppedDetections, notice };
}

export async function extractFace(pipeline: FacePipeline, image: RgbaImage, fileName: string, opts: ExtractFaceOptions): Promise<ExtractedFeatures> {
  const { analysis, notice } = selectFace(pipeline, image, await pipeline.analyse(image, fileName), opts);
  const face = applyOod(opts.ood, analysis, opts.seed);
  const t0 = performance.now();
  const [features] = await pipeline.embed([face]);
  const embedMs = performance.now() - t0;
  return {
    faces: analysis.faces.map((f) => ({ x: f.box.x1, y: f.box.y1, width: f.box.x2 - f.box.x1, height: f.box.y2 - f.box.y1, score: f.score })),
    chosenIndex: analysis.chosenIndex,
    features,
    aligned: face.aligned,
    notice,
    timings: { detect: analysis.timings.detectMs, landmarks: analysis.timings.landmarksMs, align: analysis.timings.alignMs, embed: embedMs },
  };
}

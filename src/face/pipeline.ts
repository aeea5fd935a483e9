/**
 * One code path from decoded pixels to recognizer features, for gallery and
 * query images alike: detect every face, 68 landmarks for each, choose the
 * largest, fit a similarity transform from its five points to the
 * recognizer's template, warp, and map its landmarks into the aligned crop.
 */
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, Point, RgbaImage } from '../core/types.ts';
import { boxArea, type DetectOptions, type FaceBox, type FaceDetector } from './detector.ts';
import { fivePointsFrom68 } from './fivePoints.ts';
import type { LandmarkModel } from './landmarks.ts';
import type { FaceEmbedder } from './recognizer.ts';
import { applyAffine, fitResidual, fitSimilarity, invertAffine, type Affine2x3 } from './similarity.ts';
import { warpFace } from './warp.ts';

export interface FoundFace {
  readonly box: FaceBox;
  readonly score: number;
  /** 68 landmarks in image pixel-centre coordinates. */
  readonly landmarks68: readonly Point[];
}

/** An aligned face and its landmarks inside it: what the recognizer and the generators take. */
export interface AlignedFace {
  readonly aligned: RgbaImage;
  readonly landmarksAligned: readonly Point[];
}

export interface Alignment extends AlignedFace {
  /** Image pixel-centre coordinates -> aligned crop coordinates. */
  readonly transform: Affine2x3;
  /** Aligned crop -> image (to draw the crop's outline on the photo). */
  readonly inverse: Affine2x3;
  /** RMS distance (aligned px) between the mapped five points and the template. */
  readonly fitResidual: number;
}

/** What FacePipeline.findFaces returns. */
interface FoundFaces {
  /** Best detector score first; empty when there is no face. */
  readonly faces: readonly FoundFace[];
  readonly detectMs: number;
  readonly landmarksMs: number;
}

export interface FaceAnalysis extends Alignment {
  readonly fileName: string;
  /** Every face found, best detector score first. */
  readonly faces: readonly FoundFace[];
  /** Index into `faces` of the aligned face: the largest box. */
  readonly chosenIndex: number;
  readonly timings: { readonly detectMs: number; readonly landmarksMs: number; readonly alignMs: number };
}

/** Aligns one face given its 68 landmarks. */
export function alignFace(image: RgbaImage, landmarks68: readonly Point[], template: readonly Point[], cropSize: number): Alignment {
  const five = fivePointsFrom68(landmarks68);
  const transform = fitSimilarity(five, template);
  return {
    aligned: warpFace(image, transform, cropSize, cropSize),
    landmarksAligned: landmarks68.map((p) => applyAffine(transform, p)),
    transform,
    inverse: invertAffine(transform),
    fitResidual: fitResidual(transform, five, template),
  };
}

/** Index of the face with the largest box (ties: the better score, which comes first). */
export function largestFaceIndex(faces: readonly { readonly box: FaceBox }[]): number {
  let best = -1;
  let bestArea = -1;
  faces.forEach((f, i) => {
    const area = boxArea(f.box);
    if (area > bestArea) {
      best = i;
      bestArea = area;
    }
  });
  return best;
}

export interface FacePipelineParts {
  readonly detector: FaceDetector;
  readonly landmarks: LandmarkModel;
  readonly recognizer: FaceEmbedder;
}

export class FacePipeline {
  constructor(private readonly parts: FacePipelineParts) {}

  get cropSize(): number {
    return this.parts.recognizer.inputSize;
  }

  /**
   * Every face of one decoded image with its 68 landmarks, best detector
   * score first; none is an empty list (the caller decides whether that is
   * an error: a query or gallery photo, yes; a photo library, no).
   * `options.tiles` also searches a wide or tall photo in tiles (detectorTiles).
   */
  async findFaces(image: RgbaImage, options: DetectOptions = {}): Promise<FoundFaces> {
    const t0 = performance.now();
    const detected = await this.parts.detector.detect(image, options);
    const t1 = performance.now();
    const faces: FoundFace[] = [];
    for (const d of detected) faces.push({ box: d.box, score: d.score, landmarks68: await this.parts.landmarks.predict(image, d.box) });
    return { faces, detectMs: t1 - t0, landmarksMs: performance.now() - t1 };
  }

  /** Aligns one found face to the recognizer's template. */
  align(image: RgbaImage, face: FoundFace): Alignment {
    return alignFace(image, face.landmarks68, this.parts.recognizer.template, this.cropSize);
  }

  /**
   * Finds and aligns the faces of one decoded image. Throws AppError
   * 'no-face' naming the file when there is none; several faces are not an
   * error here (`faces.length` says how many; the caller decides).
   */
  async analyse(image: RgbaImage, fileName: string): Promise<FaceAnalysis> {
    const { faces, detectMs, landmarksMs } = await this.findFaces(image);
    if (faces.length === 0) {
      throw new AppError('no-face', 'no face was found in this image', 'Use a photo in which the face is clearly visible, roughly frontal and at least about 40 pixels wide.', { file: fileName });
    }
    const t2 = performance.now();
    const chosenIndex = largestFaceIndex(faces);
    const alignment = this.align(image, faces[chosenIndex]);
    const t3 = performance.now();
    return {
      ...alignment,
      fileName,
      faces,
      chosenIndex,
      timings: { detectMs, landmarksMs, alignMs: t3 - t2 },
    };
  }

  /** Aligns another of the faces `analyse` found (e.g. the user picked it). */
  realign(image: RgbaImage, analysis: FaceAnalysis, faceIndex: number): FaceAnalysis {
    const face = analysis.faces[faceIndex];
    if (!face) throw new AppError('invalid-argument', `there is no face number ${faceIndex + 1}`, 'Pick one of the faces shown.', { file: analysis.fileName });
    return { ...analysis, ...this.align(image, face), chosenIndex: faceIndex };
  }

  /** Recognizer features of aligned faces (gallery, query, or generated queries), batched. */
  embed(faces: readonly AlignedFace[]): Promise<FaceFeatures[]> {
    return this.parts.recognizer.embed(
      faces.map((f) => f.aligned),
      faces.map((f) => f.landmarksAligned),
    );
  }
}

/**
 * Every face of one library photo (issue 17). A photo library is any folder
 * tree: folder names are not labels and a photo may show several people, so
 * nothing is chosen or refused for having several faces. Each whole face
 * large enough to recognise is aligned and embedded; the people come later
 * from clustering (clusterFaces.ts).
 *
 * The same code path as gallery and query photos (FacePipeline: detection,
 * 68 landmarks, five-point alignment, recognizer), with the detector also
 * looking at wide or tall photos in 4:3 tiles (a row of people squeezed into
 * its 320x240 input loses faces; see detector.ts), and three filters:
 * - detections that are not whole faces (plausibleFaces.ts: slivers, boxes
 *   straddling two people, text) are dropped. Unlike a gallery photo there
 *   is no fallback to "keep them all when none looks whole": a gallery
 *   photo must yield a face or be refused, a library photo may hold none,
 *   and a misaligned non-face indexed as a person would join some cluster;
 * - a box mostly inside a better one is the same face (SAME_FACE_MAX_OVERLAP);
 * - faces whose box is smaller than LIBRARY_MIN_FACE_SIDE are skipped.
 * Decoding, size limits and bad input are the caller's, as for the gallery
 * (the photo arrives here decoded).
 */
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, Point, RgbaImage } from '../core/types.ts';
import { boxArea, type FaceBox } from '../face/detector.ts';
import type { Alignment, FacePipeline, FoundFace } from '../face/pipeline.ts';
import { implausibleFaceReason } from '../face/plausibleFaces.ts';

/**
 * Smallest face indexed, as the detector box's shorter side in image pixels
 * (edge to edge; usually its width, UltraFace boxes being taller than wide).
 *
 * Below it the recognizer no longer sees the same face. Measured in Node on
 * 60 lfw-dev photos shrunk onto a grey canvas (detection, alignment and
 * embedding as here), cosine of each face's embedding with that of the
 * full-size photo (box ~92 px), by box shorter side (median): ~42 px median
 * 0.97 (lowest 0.91), ~35 px 0.93 (10th percentile 0.86), ~31 px 0.89
 * (0.80), ~28 px 0.85 (0.75); on 30 of them, ~22 px 0.70 (0.59). Same-person cosines between two
 * different photos are lower still, so a face that has already lost 0.15 to
 * its own full-size self is mostly noise to clustering. 32 px keeps faces
 * whose embeddings stay within ~0.1 of full size. (In a large photo the
 * detector's own limit bites first: it sees the photo at 320x240, so a
 * 4000 px wide photo's faces must be ~130 px wide to be found at all.)
 */
export const LIBRARY_MIN_FACE_SIDE = 32;

export interface LibraryFaceOptions {
  /** Overrides LIBRARY_MIN_FACE_SIDE (box shorter side in image pixels). */
  readonly minFaceSide?: number;
}

export interface LibraryFace {
  /** The detector box in image pixels (edge coordinates, clipped to the photo). */
  readonly box: { readonly x: number; readonly y: number; readonly width: number; readonly height: number };
  /** Detector confidence, 0..1. */
  readonly score: number;
  /** 68 landmarks in image pixel-centre coordinates. */
  readonly landmarks68: readonly Point[];
  /** The aligned crop, its landmarks, and the transforms between photo and crop. */
  readonly alignment: Alignment;
  /** Recognizer features of the aligned crop (embedding and patch map). */
  readonly features: FaceFeatures;
}

const shorterSide = (f: FoundFace) => Math.min(f.box.x2 - f.box.x1, f.box.y2 - f.box.y1);

/**
 * Two kept boxes sharing more than this fraction of the smaller one's area
 * are one face. The detector's NMS compares boxes by IoU, which lets a box
 * around part of a face (its upper half, found in a tile at another scale)
 * survive inside the whole face's box; in a library it would become a second
 * face of the same person in the same photo, which clustering must keep
 * apart. Two real faces overlap far less: one hides the other first.
 */
export const SAME_FACE_MAX_OVERLAP = 0.5;

function overlapOfSmaller(a: FaceBox, b: FaceBox): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  return w > 0 && h > 0 ? (w * h) / Math.min(boxArea(a), boxArea(b)) : 0;
}

/** Best score first, drops a face inside one already kept (see SAME_FACE_MAX_OVERLAP). */
export function onePerFace(faces: readonly FoundFace[]): FoundFace[] {
  const kept: FoundFace[] = [];
  for (const f of [...faces].sort((a, b) => b.score - a.score)) if (kept.every((k) => overlapOfSmaller(k.box, f.box) <= SAME_FACE_MAX_OVERLAP)) kept.push(f);
  return kept;
}

/**
 * Left to right, then top to bottom (box centres): a stable order a person
 * can follow on the photo, independent of detector scores.
 */
function readingOrder(a: FoundFace, b: FoundFace): number {
  return a.box.x1 + a.box.x2 - (b.box.x1 + b.box.x2) || a.box.y1 + a.box.y2 - (b.box.y1 + b.box.y2) || b.score - a.score;
}

/**
 * The whole faces of a decoded photo at least `minFaceSide` pixels, in
 * reading order, each aligned and embedded (one batched recognizer call per
 * photo). A photo without such a face gives an empty list, not an error.
 */
export async function libraryFaces(pipeline: FacePipeline, image: RgbaImage, options: LibraryFaceOptions = {}): Promise<LibraryFace[]> {
  const minSide = options.minFaceSide ?? LIBRARY_MIN_FACE_SIDE;
  if (!(minSide >= 0) || !Number.isFinite(minSide)) {
    throw new AppError('invalid-argument', `the minimum face size ${minSide} is not a number of pixels`, 'Give the minimum face side as a finite number of pixels, 0 or more.');
  }
  // Tiles: a group photo is often much wider than the detector's 4:3 input, which would squeeze its faces.
  const { faces } = await pipeline.findFaces(image, { tiles: true });
  const kept = onePerFace(faces.filter((f) => shorterSide(f) >= minSide && implausibleFaceReason(f) === null)).sort(readingOrder);
  if (kept.length === 0) return [];
  const alignments = kept.map((f) => pipeline.align(image, f));
  const features = await pipeline.embed(alignments);
  return kept.map((f, i) => ({
    box: { x: f.box.x1, y: f.box.y1, width: f.box.x2 - f.box.x1, height: f.box.y2 - f.box.y1 },
    score: f.score,
    landmarks68: f.landmarks68,
    alignment: alignments[i],
    features: features[i],
  }));
}

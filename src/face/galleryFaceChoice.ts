/**
 * Which face a labelled gallery photo is about. A photo in a person's folder
 * is framed on that person: LFW's 250x250 crops are centred on the labelled
 * face, and people crop their own photos the same way. So among faces of
 * similar size the one clearly nearest the picture's centre is the label's;
 * only when two similar faces are about equally central (or none is near the
 * centre) is the label ambiguous.
 *
 * Measured on the 111 lfw-dev images the app used to refuse (Node decoding;
 * bench/galleryRefusals.ts): the chosen central face lies within 0.13 of the
 * shorter side from the centre, and the next similar face at least 0.17 away.
 */
import { boxArea, type FaceBox } from './detector.ts';

/**
 * A second face larger than this fraction of the largest one's area is "of
 * similar size": it could be the labelled person as well (LFW photos often
 * show smaller people in the background, which do not compete).
 */
export const GALLERY_SECOND_FACE_MAX_AREA_RATIO = 0.7;
/** The central face's centre is at most this far from the picture's centre (fraction of the shorter side). */
export const CENTRAL_FACE_MAX_OFFSET = 0.15;
/** ...and every other face of similar size at least this much further (same unit). */
export const CENTRAL_FACE_MIN_LEAD = 0.1;

export type GalleryFaceChoice =
  /** The only face. */
  | { readonly kind: 'only'; readonly index: number }
  /** The largest face; every other one is clearly smaller. */
  | { readonly kind: 'largest'; readonly index: number }
  /** Several faces of similar size; this one is clearly the central one. */
  | { readonly kind: 'central'; readonly index: number; readonly similarCount: number }
  /** Several faces of similar size and none clearly central. */
  | { readonly kind: 'ambiguous'; readonly similarCount: number };

/** Distance of the box's centre from the picture's centre, as a fraction of the picture's shorter side. */
export function centreOffset(box: FaceBox, imageWidth: number, imageHeight: number): number {
  const dx = (box.x1 + box.x2) / 2 - imageWidth / 2;
  const dy = (box.y1 + box.y2) / 2 - imageHeight / 2;
  return Math.hypot(dx, dy) / Math.min(imageWidth, imageHeight);
}

/** `boxes` are the photo's (plausible) faces, at least one; the index returned is into `boxes`. */
export function chooseGalleryFace(boxes: readonly FaceBox[], imageWidth: number, imageHeight: number): GalleryFaceChoice {
  if (boxes.length === 0) throw new RangeError('chooseGalleryFace needs at least one face');
  if (boxes.length === 1) return { kind: 'only', index: 0 };
  const areas = boxes.map(boxArea);
  // Ties go to the earlier face (the better detector score), as the pipeline's largestFaceIndex does.
  const largest = areas.reduce((best, a, i) => (a > areas[best] ? i : best), 0);
  const similar = boxes.flatMap((_, i) => (i === largest || areas[i] > GALLERY_SECOND_FACE_MAX_AREA_RATIO * areas[largest] ? [i] : []));
  if (similar.length === 1) return { kind: 'largest', index: largest };
  const byOffset = similar.map((i) => ({ i, offset: centreOffset(boxes[i], imageWidth, imageHeight) })).sort((a, b) => a.offset - b.offset || a.i - b.i);
  const [nearest, next] = byOffset;
  if (nearest.offset <= CENTRAL_FACE_MAX_OFFSET && next.offset >= nearest.offset + CENTRAL_FACE_MIN_LEAD) {
    return { kind: 'central', index: nearest.i, similarCount: similar.length };
  }
  return { kind: 'ambiguous', similarCount: similar.length };
}

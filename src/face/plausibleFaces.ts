/**
 * Which detections are whole faces. UltraFace also boxes sign text, hair,
 * thin slivers at a picture's edge and strips straddling two people, and it
 * boxes half faces cut off by the border or hidden behind someone. None of
 * these can be aligned: the landmark network guesses a whole face, mostly
 * outside what the box holds, so the recognizer would embed something that
 * is not an aligned face. In a gallery photo each one was also a "second
 * face" that made the label look ambiguous.
 *
 * The tests compare the box with the face the landmark network drew in it:
 * the network is shown a square as wide as the box is tall and always draws
 * a whole face there, so when the box is much narrower than that face, or
 * the face lies mostly outside the box, the box was not around a whole face.
 *
 * Thresholds, from detection + landmarks on all 5,132 lfw-dev images (Node;
 * `npx tsx bench/galleryRefusals.ts --sample-every 1` prints them): on the
 * 4,342 images with one detection (whole faces) the box's width / height is
 * >= 0.448, the eye-centre distance / box width <= 0.585 and >= 81% of the
 * 68 points lie inside the box; the labelled person of group photos reaches
 * 0.62 for the eye ratio. Each limit leaves a margin beyond those. Of the
 * 1,710 boxes in the 790 images with several detections they drop 184.
 */
import type { Point } from '../core/types.ts';
import type { FaceBox } from './detector.ts';
import { LEFT_EYE, meanPoint, RIGHT_EYE } from './fivePoints.ts';

/** Narrower boxes (width / height) are slivers: Kevin_Spacey_0001's 38x111 edge detection is 0.34. */
export const MIN_FACE_BOX_ASPECT = 0.42;
/** Eye-centre distance over box width above this: the landmarks describe a face wider than the box. */
export const MAX_EYE_DISTANCE_TO_BOX_WIDTH = 0.8;
/** Fewer of the 68 landmarks inside the box than this fraction: the face the network drew is elsewhere. */
export const MIN_LANDMARKS_INSIDE_BOX = 0.5;

export interface FaceShape {
  readonly box: FaceBox;
  /** 68 iBUG landmarks in image pixel-centre coordinates. */
  readonly landmarks68: readonly Point[];
}

export type ImplausibleFaceReason = 'sliver' | 'landmarks-wider-than-box' | 'landmarks-outside-box';

export interface FaceShapeMeasures {
  /** Box width / height. */
  readonly aspect: number;
  /** Distance between the two eye centres / box width. */
  readonly eyeDistanceToWidth: number;
  /** Fraction of the 68 landmarks inside the box (edges included). */
  readonly landmarksInside: number;
}

/** What the rules look at (the bench prints their extremes over whole faces). */
export function faceShapeMeasures(face: FaceShape): FaceShapeMeasures {
  const { box, landmarks68 } = face;
  const width = box.x2 - box.x1;
  const height = box.y2 - box.y1;
  const [lx, ly] = meanPoint(landmarks68, LEFT_EYE);
  const [rx, ry] = meanPoint(landmarks68, RIGHT_EYE);
  const inside = landmarks68.filter(([x, y]) => x >= box.x1 && x <= box.x2 && y >= box.y1 && y <= box.y2).length;
  return {
    aspect: height > 0 ? width / height : 0,
    eyeDistanceToWidth: width > 0 ? Math.hypot(rx - lx, ry - ly) / width : Infinity,
    landmarksInside: inside / landmarks68.length,
  };
}

/** Why this detection is not a whole face, or null when it looks like one. */
export function implausibleFaceReason(face: FaceShape): ImplausibleFaceReason | null {
  const m = faceShapeMeasures(face);
  if (!(m.aspect >= MIN_FACE_BOX_ASPECT)) return 'sliver';
  if (m.eyeDistanceToWidth > MAX_EYE_DISTANCE_TO_BOX_WIDTH) return 'landmarks-wider-than-box';
  if (m.landmarksInside < MIN_LANDMARKS_INSIDE_BOX) return 'landmarks-outside-box';
  return null;
}

/**
 * Indices of the detections that look like whole faces, in their order.
 * When none does, all of them: a lone odd detection (a tight crop, a face
 * half out of the picture) is still better offered than "no face", and
 * dropping it could only turn a photo the app used to accept into a refusal.
 */
export function plausibleFaceIndices(faces: readonly FaceShape[]): number[] {
  const kept = faces.flatMap((f, i) => (implausibleFaceReason(f) === null ? [i] : []));
  return kept.length > 0 ? kept : faces.map((_, i) => i);
}

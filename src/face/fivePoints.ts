/**
 * The five alignment points from 68 iBUG landmarks, in the template's order:
 * left eye, right eye, nose tip, left mouth corner, right mouth corner
 * ("left" = image left, i.e. the subject's right: points 36-41 are that eye).
 * Eye centres are the mean of the six eye-contour points (method.md), not the
 * package's four-point mean.
 */
import type { Point } from '../core/types.ts';

export const LEFT_EYE = [36, 37, 38, 39, 40, 41] as const;
export const RIGHT_EYE = [42, 43, 44, 45, 46, 47] as const;
export const NOSE_TIP = 30;
export const MOUTH_LEFT = 48;
export const MOUTH_RIGHT = 54;

export function meanPoint(points: readonly Point[], indices: readonly number[]): Point {
  let x = 0;
  let y = 0;
  for (const i of indices) {
    x += points[i][0];
    y += points[i][1];
  }
  return [x / indices.length, y / indices.length];
}

export function fivePointsFrom68(landmarks: readonly Point[]): Point[] {
  if (landmarks.length !== 68) throw new Error(`expected 68 landmarks, got ${landmarks.length}`);
  return [meanPoint(landmarks, LEFT_EYE), meanPoint(landmarks, RIGHT_EYE), landmarks[NOSE_TIP], landmarks[MOUTH_LEFT], landmarks[MOUTH_RIGHT]];
}

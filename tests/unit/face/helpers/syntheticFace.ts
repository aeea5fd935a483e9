/**
 * A hand-built 68-point face (iBUG order) filling a given rectangle, for
 * tests of the geometry rules without the landmark network: jaw along the
 * lower half of an ellipse touching the rectangle's sides, brows, nose,
 * eyes as hexagons whose centres are 0.4 x the width apart, mouth as two
 * ellipses. Only the proportions matter, not the likeness.
 */
import type { Point } from '../../../../src/core/types.ts';
import type { FaceBox } from '../../../../src/face/detector.ts';

export const SYNTHETIC_EYE_DISTANCE_TO_WIDTH = 0.4;

export function syntheticLandmarks(face: FaceBox): Point[] {
  const w = face.x2 - face.x1;
  const h = face.y2 - face.y1;
  const cx = (face.x1 + face.x2) / 2;
  const cy = (face.y1 + face.y2) / 2;
  const at = (fx: number, fy: number): Point => [cx + fx * w, cy + fy * h];
  const points: Point[] = [];
  // 0-16 jaw: from the left side at eye height, round the chin, to the right side.
  for (let k = 0; k <= 16; k++) {
    const t = Math.PI - (k / 16) * Math.PI;
    points.push(at(0.5 * Math.cos(t), -0.1 + 0.6 * Math.sin(t)));
  }
  // 17-26 brows.
  for (let k = 0; k < 5; k++) points.push(at(-0.4 + 0.075 * k, -0.3));
  for (let k = 0; k < 5; k++) points.push(at(0.1 + 0.075 * k, -0.3));
  // 27-30 nose bridge down to the tip, 31-35 nostrils.
  for (let k = 0; k < 4; k++) points.push(at(0, -0.2 + 0.1 * k));
  for (let k = 0; k < 5; k++) points.push(at(-0.1 + 0.05 * k, 0.13));
  // 36-41 and 42-47 eyes: hexagons round (-0.2, -0.15) and (0.2, -0.15) of the width / height.
  for (const ex of [-SYNTHETIC_EYE_DISTANCE_TO_WIDTH / 2, SYNTHETIC_EYE_DISTANCE_TO_WIDTH / 2]) {
    for (let k = 0; k < 6; k++) points.push(at(ex + 0.08 * Math.cos((k * Math.PI) / 3), -0.15 + 0.03 * Math.sin((k * Math.PI) / 3)));
  }
  // 48-59 outer lip, 60-67 inner lip.
  for (let k = 0; k < 12; k++) points.push(at(0.18 * Math.cos(Math.PI - (k * Math.PI) / 6), 0.27 + 0.05 * Math.sin((k * Math.PI) / 6)));
  for (let k = 0; k < 8; k++) points.push(at(0.12 * Math.cos(Math.PI - (k * Math.PI) / 4), 0.27 + 0.02 * Math.sin((k * Math.PI) / 4)));
  return points;
}

export function box(x1: number, y1: number, width: number, height: number): FaceBox {
  return { x1, y1, x2: x1 + width, y2: y1 + height };
}

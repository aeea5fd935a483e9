/** Which detections are whole faces (src/face/plausibleFaces.ts), on hand-built boxes and landmarks with known answers. */
import { describe, expect, it } from 'vitest';
import type { Point } from '../../../src/core/types.ts';
import { landmarkCrop } from '../../../src/face/landmarks.ts';
import { implausibleFaceReason, MAX_EYE_DISTANCE_TO_BOX_WIDTH, MIN_FACE_BOX_ASPECT, plausibleFaceIndices } from '../../../src/face/plausibleFaces.ts';
import { box, SYNTHETIC_EYE_DISTANCE_TO_WIDTH, syntheticLandmarks } from './helpers/syntheticFace.ts';

/** A detection whose landmarks are a whole face filling `faceRect`. */
const detection = (b: ReturnType<typeof box>, faceRect = b) => ({ box: b, landmarks68: syntheticLandmarks(faceRect) });

describe('implausibleFaceReason', () => {
  it('accepts a face that fills its box, at LFW proportions (90 x 125)', () => {
    expect(implausibleFaceReason(detection(box(80, 60, 90, 125)))).toBeNull();
  });

  it("calls Kevin_Spacey_0001's 38x111 edge box a sliver, whatever the network drew in its square", () => {
    const sliver = box(0, 70, 38, 111);
    // The landmark network sees a 111 px square round the box (shifted into the picture) and draws a face filling it.
    const square = landmarkCrop(sliver, 250, 250);
    const drawn = box(square.x + 0.15 * square.width, square.y, 0.7 * square.width, square.height);
    expect(implausibleFaceReason(detection(sliver, drawn))).toBe('sliver');
  });

  it('puts the sliver limit at the aspect ratio itself', () => {
    const h = 100;
    const atLimit = box(50, 50, MIN_FACE_BOX_ASPECT * h, h);
    const below = box(50, 50, MIN_FACE_BOX_ASPECT * h - 1, h);
    // The face drawn is as wide as each box, so only the aspect differs.
    expect(implausibleFaceReason(detection(atLimit))).toBeNull();
    expect(implausibleFaceReason(detection(below))).toBe('sliver');
  });

  it('refuses a box much narrower than the face its landmarks describe', () => {
    // Box 60 x 120 (aspect 0.5, not a sliver); face drawn 130 wide round the same centre: eyes 52 px apart > 0.8 x 60.
    const narrow = box(100, 40, 60, 120);
    const wideFace = box(65, 40, 130, 120);
    expect(SYNTHETIC_EYE_DISTANCE_TO_WIDTH * 130).toBeGreaterThan(MAX_EYE_DISTANCE_TO_BOX_WIDTH * 60);
    expect(implausibleFaceReason(detection(narrow, wideFace))).toBe('landmarks-wider-than-box');
    // The same face in a box that fits it is fine.
    expect(implausibleFaceReason(detection(wideFace))).toBeNull();
  });

  it('refuses a box whose landmarks are mostly outside it (a box straddling two people, hair above a face)', () => {
    const b = box(100, 40, 80, 110);
    const faceBelow = box(100, 110, 80, 110);
    expect(implausibleFaceReason(detection(b, faceBelow))).toBe('landmarks-outside-box');
    // Shifted by a tenth of its height the face is still mostly inside: kept.
    expect(implausibleFaceReason(detection(b, box(100, 51, 80, 110)))).toBeNull();
  });

  it('calls an empty box a sliver rather than dividing by zero', () => {
    const empty = { box: { x1: 10, y1: 10, x2: 10, y2: 50 }, landmarks68: syntheticLandmarks(box(0, 10, 20, 40)) };
    expect(implausibleFaceReason(empty)).toBe('sliver');
  });
});

describe('plausibleFaceIndices', () => {
  const whole = detection(box(80, 60, 90, 125));
  const smallWhole = detection(box(10, 10, 40, 55));
  const sliver = detection(box(0, 70, 38, 111), box(0, 70, 80, 111));
  const astray: { box: ReturnType<typeof box>; landmarks68: Point[] } = detection(box(170, 60, 70, 100), box(170, 140, 70, 100));

  it('keeps the whole faces in their order and drops the rest', () => {
    expect(plausibleFaceIndices([sliver, whole, astray, smallWhole])).toEqual([1, 3]);
  });

  it('keeps every detection when none is a whole face (never turns a photo into "no face")', () => {
    expect(plausibleFaceIndices([sliver])).toEqual([0]);
    expect(plausibleFaceIndices([sliver, astray])).toEqual([0, 1]);
  });

  it('keeps a lone whole face', () => {
    expect(plausibleFaceIndices([whole])).toEqual([0]);
    expect(plausibleFaceIndices([])).toEqual([]);
  });
});

/** Which face a labelled gallery photo is about (src/face/galleryFaceChoice.ts), on hand-built boxes in a 250x250 picture like LFW's. */
import { describe, expect, it } from 'vitest';
import { CENTRAL_FACE_MAX_OFFSET, CENTRAL_FACE_MIN_LEAD, centreOffset, chooseGalleryFace } from '../../../src/face/galleryFaceChoice.ts';
import { box } from './helpers/syntheticFace.ts';

const SIDE = 250;
/** A w x h box whose centre is (cx, cy). */
const centred = (cx: number, cy: number, w: number, h: number) => box(cx - w / 2, cy - h / 2, w, h);
const choose = (...boxes: ReturnType<typeof box>[]) => chooseGalleryFace(boxes, SIDE, SIDE);

describe('centreOffset', () => {
  it("is the distance of the box's centre from the picture's centre over the shorter side", () => {
    expect(centreOffset(centred(125, 125, 90, 120), 250, 250)).toBe(0);
    expect(centreOffset(centred(125 + 30, 125 + 40, 90, 120), 250, 250)).toBeCloseTo(50 / 250, 12);
    // A landscape picture: the shorter side (200) is the unit.
    expect(centreOffset(centred(200 + 50, 100, 60, 80), 400, 200)).toBeCloseTo(0.25, 12);
  });
});

describe('chooseGalleryFace', () => {
  it('takes the only face', () => {
    expect(choose(centred(40, 40, 60, 80))).toEqual({ kind: 'only', index: 0 });
  });

  it('takes the clearly largest face wherever it is (unchanged rule: no other face above 0.7 x its area)', () => {
    const big = centred(60, 125, 100, 130);
    const smallCentral = centred(125, 125, 80, 110); // 0.68 of big's area
    expect(choose(smallCentral, big)).toEqual({ kind: 'largest', index: 1 });
  });

  it('takes the clearly central one of two faces of similar size, even when it is the smaller', () => {
    // Whoopi_Goldberg_0001: the labelled face is central, the other woman's face beside it is larger.
    const other = centred(125 - 85, 110, 66, 90);
    const labelled = centred(128, 128, 51, 89); // 0.76 of the other's area
    expect(choose(other, labelled)).toEqual({ kind: 'central', index: 1, similarCount: 2 });
  });

  it('counts only the faces of similar size, and ignores smaller ones however central', () => {
    const labelled = centred(125, 125, 90, 125);
    const background = centred(210, 60, 85, 120);
    const tiny = centred(125, 40, 20, 25);
    expect(choose(background, tiny, labelled)).toEqual({ kind: 'central', index: 2, similarCount: 2 });
  });

  it('refuses two similar faces about equally central (ten faces tiled: the centre falls between two)', () => {
    const left = centred(125 - 40, 125, 80, 110);
    const right = centred(125 + 40, 125, 80, 110);
    expect(choose(left, right)).toEqual({ kind: 'ambiguous', similarCount: 2 });
  });

  it('needs the central face to lead the next similar face by the margin', () => {
    const first = centred(125, 125, 90, 120); // offset 0
    const justShort = centred(125 + (CENTRAL_FACE_MIN_LEAD * SIDE - 1), 125, 90, 120);
    const justEnough = centred(125 + (CENTRAL_FACE_MIN_LEAD * SIDE + 1), 125, 90, 120);
    expect(choose(first, justShort).kind).toBe('ambiguous');
    expect(choose(first, justEnough)).toEqual({ kind: 'central', index: 0, similarCount: 2 });
  });

  it('needs the central face to be near the centre', () => {
    const nearest = centred(125 + (CENTRAL_FACE_MAX_OFFSET * SIDE + 2), 125, 90, 120);
    const far = centred(10, 10, 90, 120);
    expect(choose(nearest, far).kind).toBe('ambiguous');
    const near = centred(125 + (CENTRAL_FACE_MAX_OFFSET * SIDE - 2), 125, 90, 120);
    expect(choose(near, far)).toEqual({ kind: 'central', index: 0, similarCount: 2 });
  });

  it('needs a face', () => {
    expect(() => chooseGalleryFace([], SIDE, SIDE)).toThrow(RangeError);
  });
});

/**
 * Whole-image flips and quarter turns written plainly for tests, to build
 * the stored pixels of each EXIF orientation from an upright image
 * independently of tests/support/orient.ts.
 */
import type { RgbaImage } from '../../../../src/core/types.ts';

function remap(img: RgbaImage, outW: number, outH: number, from: (x: number, y: number) => [number, number]): RgbaImage {
  const out = new Uint8ClampedArray(outW * outH * 4);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const [sx, sy] = from(x, y);
      for (let c = 0; c < 4; c++) out[(y * outW + x) * 4 + c] = img.data[(sy * img.width + sx) * 4 + c];
    }
  }
  return { width: outW, height: outH, data: out };
}

export const mirror = (img: RgbaImage) => remap(img, img.width, img.height, (x, y) => [img.width - 1 - x, y]);
export const flipVertical = (img: RgbaImage) => remap(img, img.width, img.height, (x, y) => [x, img.height - 1 - y]);
export const transpose = (img: RgbaImage) => remap(img, img.height, img.width, (x, y) => [y, x]);
/** A quarter turn clockwise: the left column becomes the top row. */
export const rotateClockwise = (img: RgbaImage) => mirror(transpose(img));
export const rotateCounterClockwise = (img: RgbaImage) => transpose(mirror(img));
export const rotate180 = (img: RgbaImage) => mirror(flipVertical(img));

/**
 * The pixels a camera stores for an upright picture when it writes EXIF
 * orientation `o` (the viewer applies `o` to get the upright picture back).
 */
export function storedForOrientation(upright: RgbaImage, o: number): RgbaImage {
  switch (o) {
    case 1:
      return upright;
    case 2:
      return mirror(upright);
    case 3:
      return rotate180(upright);
    case 4:
      return flipVertical(upright);
    case 5:
      return transpose(upright); // its own inverse
    case 6:
      return rotateCounterClockwise(upright); // the viewer turns it clockwise
    case 7:
      return rotate180(transpose(upright)); // transverse, its own inverse
    case 8:
      return rotateClockwise(upright); // the viewer turns it counter-clockwise
    default:
      throw new Error(`orientation ${o}`);
  }
}

/**
 * Turns stored pixels upright according to an EXIF orientation (1-8).
 * Browsers do this themselves (createImageBitmap, imageOrientation
 * 'from-image'), so the app never needs it; Node decoders (jpeg-js) do not,
 * so the tests that decode photos in Node do.
 */
import type { RgbaImage } from '../../src/core/types.ts';

/**
 * For an output pixel (x, y) of the upright image, the stored pixel it comes
 * from. W, H are the stored width and height. The eight cases are the TIFF/EXIF
 * definitions: 2 mirror, 3 rotate 180, 4 flip vertical, 5 transpose,
 * 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise.
 */
function sourceOf(orientation: number, x: number, y: number, W: number, H: number): [number, number] {
  switch (orientation) {
    case 2:
      return [W - 1 - x, y];
    case 3:
      return [W - 1 - x, H - 1 - y];
    case 4:
      return [x, H - 1 - y];
    case 5:
      return [y, x];
    case 6:
      return [y, H - 1 - x];
    case 7:
      return [W - 1 - y, H - 1 - x];
    case 8:
      return [W - 1 - y, x];
    default:
      return [x, y];
  }
}

/** True when the orientation swaps width and height (5-8). */
export function orientationSwapsSides(orientation: number): boolean {
  return orientation >= 5 && orientation <= 8;
}

export function applyOrientation(image: RgbaImage, orientation: number): RgbaImage {
  if (orientation < 2 || orientation > 8) return image;
  const W = image.width;
  const H = image.height;
  const swap = orientationSwapsSides(orientation);
  const outW = swap ? H : W;
  const outH = swap ? W : H;
  // Whole pixels move, so copy them as 32-bit words (the view needs 4-byte alignment).
  const bytes = image.data.byteOffset % 4 === 0 ? image.data : image.data.slice();
  const src = new Uint32Array(bytes.buffer, bytes.byteOffset, W * H);
  const out = new Uint8ClampedArray(outW * outH * 4);
  const dst = new Uint32Array(out.buffer);
  for (let y = 0; y < outH; y++) {
    for (let x = 0; x < outW; x++) {
      const [sx, sy] = sourceOf(orientation, x, y, W, H);
      dst[y * outW + x] = src[sy * W + sx];
    }
  }
  return { width: outW, height: outH, data: out };
}

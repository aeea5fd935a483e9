/**
 * Node-side image decoding for tests and the bench: the same checks as the
 * browser worker (imageHeader first, so bombs never reach a decoder), then
 * jpeg-js / pngjs, EXIF orientation and alpha flattening. JPEG and PNG only;
 * WebP, BMP and GIF pixels are decoded by the browser (workers/decodeImage.ts).
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { AppError } from '../../../../src/core/errors.ts';
import type { RgbaImage } from '../../../../src/core/types.ts';
import { MAX_IMAGE_PIXELS, readImageHeader } from '../../../../src/face/imageHeader.ts';
import { jpegOrientation } from '../../../support/exif.ts';
import { applyOrientation } from '../../../support/orient.ts';
import { flattenAlphaOnWhite } from '../../../../src/face/pixels.ts';

export function decodeImageNode(bytes: Uint8Array, fileName: string): RgbaImage {
  const header = readImageHeader(bytes, fileName);
  let stored: RgbaImage;
  try {
    if (header.format === 'jpeg') {
      const d = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: MAX_IMAGE_PIXELS / 1e6, maxMemoryUsageInMB: 1024 });
      stored = { width: d.width, height: d.height, data: new Uint8ClampedArray(d.data.buffer, d.data.byteOffset, d.data.length) };
    } else if (header.format === 'png') {
      const d = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
      stored = { width: d.width, height: d.height, data: new Uint8ClampedArray(d.data.buffer, d.data.byteOffset, d.data.length) };
    } else {
      throw new AppError('unsupported-image', `the Node test decoder cannot decode ${header.format.toUpperCase()}`, 'Decode it in the browser.', { file: fileName });
    }
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError('corrupt-image', `the ${header.format.toUpperCase()} file could not be decoded: ${(e as Error).message}`, 'Export or download it again.', { file: fileName, cause: e });
  }
  if (stored.width !== header.width || stored.height !== header.height) {
    throw new AppError('corrupt-image', `decoded size ${stored.width}x${stored.height} differs from the header's ${header.width}x${header.height}`, 'Export or download it again.', { file: fileName });
  }
  return flattenAlphaOnWhite(applyOrientation(stored, header.format === 'jpeg' ? jpegOrientation(bytes) : 1));
}

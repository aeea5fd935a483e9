/**
 * Decodes a dropped file into RGBA pixels inside a Worker: header checks
 * first (src/face/imageHeader.ts, so a decompression bomb or a truncated file
 * never reaches the decoder), then createImageBitmap with EXIF orientation
 * applied, drawn on an OffscreenCanvas. The browser's decoder handles JPEG
 * (grey and CMYK too), PNG, WebP, BMP and GIF (the first frame: an
 * ImageBitmap of an animated GIF is its first frame). Transparent pixels
 * are flattened on white.
 */
import { AppError } from '../src/core/errors.ts';
import type { RgbaImage } from '../src/core/types.ts';
import { readImageHeader, type ImageHeader } from '../src/face/imageHeader.ts';
import { flattenAlphaOnWhite } from '../src/face/pixels.ts';

/**
 * Longest side kept after decoding. Faces are found on a 320x240 copy and
 * aligned to about 112 px, so more only costs memory (a 50 MP RGBA canvas is
 * 200 MB); a face 1/40 of a 4096 px photo is still 100 px wide.
 */
export const MAX_DECODED_SIDE = 4096;

export interface DecodedImage {
  readonly image: RgbaImage;
  readonly header: ImageHeader;
  /** Width and height after EXIF orientation, before any downscaling. */
  readonly orientedWidth: number;
  readonly orientedHeight: number;
}

/**
 * The file's bytes as they arrived from the engine worker (not a Blob to read back: each Blob a worker makes is
 * registered with, and read back through, the browser process).
 */
export async function decodeImageBytes(bytes: Uint8Array, fileName: string): Promise<DecodedImage> {
  const header = readImageHeader(bytes, fileName);
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart], { type: header.mimeType }), {
      imageOrientation: 'from-image',
      premultiplyAlpha: 'none',
      colorSpaceConversion: 'default',
    });
  } catch (e) {
    throw new AppError(
      'corrupt-image',
      `the ${header.format.toUpperCase()} file could not be decoded (it is damaged or uses an encoding this browser lacks)`,
      'Open it in an image editor, save it as JPEG or PNG, and drop it again.',
      {
        file: fileName,
        cause: e,
      },
    );
  }
  try {
    const orientedWidth = bitmap.width;
    const orientedHeight = bitmap.height;
    const shrink = Math.min(1, MAX_DECODED_SIDE / Math.max(orientedWidth, orientedHeight));
    const width = Math.max(1, Math.round(orientedWidth * shrink));
    const height = Math.max(1, Math.round(orientedHeight * shrink));
    const canvas = new OffscreenCanvas(width, height);
    const ctx = canvas.getContext('2d', { willReadFrequently: true });
    if (!ctx) throw new AppError('internal', 'no 2D canvas is available in this worker', 'Use a current version of Chrome, Edge or Firefox.', { file: fileName });
    ctx.imageSmoothingEnabled = true;
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
    const pixels = ctx.getImageData(0, 0, width, height);
    const image = flattenAlphaOnWhite({ width, height, data: pixels.data });
    return { image, header, orientedWidth, orientedHeight };
  } finally {
    bitmap.close();
  }
}

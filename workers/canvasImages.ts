/** Aligned faces to and from PNG in a worker (OffscreenCanvas). */
import { THUMBNAIL_JPEG_QUALITY, type AlignedImageType } from '../src/app/extractTypes.ts';
import { AppError } from '../src/core/errors.ts';
import type { RgbaImage } from '../src/core/types.ts';

function context2d(canvas: OffscreenCanvas): OffscreenCanvasRenderingContext2D {
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) throw new AppError('internal', 'no 2D canvas is available in this worker', 'Use a current version of Chrome, Edge or Firefox.');
  return ctx;
}

/**
 * The aligned crop as an image of `type`: PNG is lossless, so query transforms applied later to a face stored so
 * (evaluation's float32 storage) see the exact pixels the gallery was embedded from; JPEG is what the compact storage
 * keeps, the bytes encodeThumbnailJpeg makes of the PNG (tests/gpu/canvasImages.spec.ts).
 */
export function encodeAligned(img: RgbaImage, type: AlignedImageType = 'image/png'): Promise<Blob> {
  const c = new OffscreenCanvas(img.width, img.height);
  context2d(c).putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
  return c.convertToBlob(type === 'image/jpeg' ? { type, quality: THUMBNAIL_JPEG_QUALITY } : { type });
}

export async function decodeAligned(blob: Blob): Promise<RgbaImage> {
  const bmp = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = context2d(c);
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  const d = ctx.getImageData(0, 0, c.width, c.height);
  return { width: d.width, height: d.height, data: d.data };
}

/**
 * A library photo's preview: longest side at most 640 px (a photo view at
 * typical window sizes; ~40-80 kB of JPEG at quality 0.8, against megabytes
 * for the original), in the frame of the decoded photo, so the face boxes
 * scale onto it by one factor.
 */
export async function encodePhotoPreview(img: RgbaImage, maxSide = 640): Promise<Blob> {
  const scale = Math.min(1, maxSide / Math.max(img.width, img.height));
  const bmp = await createImageBitmap(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), {
    resizeWidth: Math.max(1, Math.round(img.width * scale)),
    resizeHeight: Math.max(1, Math.round(img.height * scale)),
    resizeQuality: 'medium',
  });
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  context2d(c).drawImage(bmp, 0, 0);
  bmp.close();
  return c.convertToBlob({ type: 'image/jpeg', quality: 0.8 });
}

/**
 * The compact storage's thumbnail of a face given in another type (an
 * export's PNG, a migrated gallery; imports hand it JPEG already): JPEG at
 * THUMBNAIL_JPEG_QUALITY. Evaluation then builds its queries from these
 * pixels; `npm run eval -- --storage float32` (PNG) measures what that costs.
 */
export async function encodeThumbnailJpeg(thumbnail: Blob): Promise<{ bytes: Uint8Array; type: string }> {
  const bmp = await createImageBitmap(thumbnail, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  context2d(c).drawImage(bmp, 0, 0);
  bmp.close();
  const jpeg = await c.convertToBlob({ type: 'image/jpeg', quality: THUMBNAIL_JPEG_QUALITY });
  return { bytes: new Uint8Array(await jpeg.arrayBuffer()), type: 'image/jpeg' };
}

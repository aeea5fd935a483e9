/** Browser glue between encoded images, RgbaImage and canvases. */
import type { RgbaImage } from '../core/types.ts';

// Only a canvas already holding another kind of context (WebGL) refuses a 2D one; these never do.
const NO_2D_CONTEXT = 'the browser gave no 2D canvas context';

export async function blobToRgba(blob: Blob, size?: number): Promise<RgbaImage> {
  const bmp = await createImageBitmap(blob);
  const w = size ?? bmp.width;
  const h = size ?? bmp.height;
  const c = new OffscreenCanvas(w, h);
  const ctx = c.getContext('2d');
  if (!ctx) throw new Error(NO_2D_CONTEXT);
  ctx.drawImage(bmp, 0, 0, w, h);
  bmp.close();
  const d = ctx.getImageData(0, 0, w, h);
  return { width: w, height: h, data: d.data };
}

export function drawRgba(canvas: HTMLCanvasElement, img: RgbaImage): void {
  canvas.width = img.width;
  canvas.height = img.height;
  const ctx = canvas.getContext('2d');
  if (!ctx) throw new Error(NO_2D_CONTEXT);
  ctx.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
}

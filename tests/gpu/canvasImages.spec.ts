/**
 * Thumbnails in the browser's own encoders (OffscreenCanvas): the JPEG an
 * extraction worker makes of an aligned face for the compact storage is, byte
 * for byte, what the storage made before from the lossless PNG
 * (encodeThumbnailJpeg), so moving the encoding into the worker changed no
 * stored thumbnail and no evaluation query drawn from one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { LFW_MINI, requireTestData } from './realFeatures.ts';

test('an aligned face encoded straight to JPEG is the JPEG of its PNG, and the PNG keeps every pixel', async ({ page }) => {
  requireTestData();
  const photo = readFileSync(join(LFW_MINI, 'Aaron_Tippin/Aaron_Tippin_0001.jpg')).toString('base64');
  await page.goto('/tests/gpu/harness.html');
  const r = await page.evaluate(async (jpegBase64) => {
    const canvasUrl: string = '/workers/canvasImages.ts';
    const { encodeAligned, encodeThumbnailJpeg, decodeAligned }: typeof import('../../workers/canvasImages.ts') = await import(canvasUrl);
    const decodeUrl: string = '/workers/decodeImage.ts';
    const { decodeImageBytes }: typeof import('../../workers/decodeImage.ts') = await import(decodeUrl);
    const bytes = Uint8Array.from(atob(jpegBase64), (c) => c.charCodeAt(0));
    const { image } = await decodeImageBytes(bytes, 'Aaron_Tippin_0001.jpg');
    // A 224 px square of the photo stands in for an aligned face (what matters is real pixels, opaque).
    const S = 224;
    const data = new Uint8ClampedArray(S * S * 4);
    for (let y = 0; y < S; y++) data.set(image.data.subarray(((y + 10) * image.width + 10) * 4, ((y + 10) * image.width + 10 + S) * 4), y * S * 4);
    const face = { width: S, height: S, data };
    const png = await encodeAligned(face);
    const direct = await encodeAligned(face, 'image/jpeg');
    const viaPng = await encodeThumbnailJpeg(png);
    const back = await decodeAligned(png);
    let pngDiff = 0;
    for (let i = 0; i < data.length; i++) pngDiff = Math.max(pngDiff, Math.abs(back.data[i] - data[i]));
    const jpegPixels = await decodeAligned(direct);
    let jpegMeanDiff = 0;
    for (let i = 0; i < data.length; i++) if (i % 4 !== 3) jpegMeanDiff += Math.abs(jpegPixels.data[i] - data[i]) / ((data.length * 3) / 4);
    return {
      types: [png.type, direct.type, viaPng.type],
      direct: Array.from(new Uint8Array(await direct.arrayBuffer())),
      viaPng: Array.from(viaPng.bytes),
      pngDiff,
      jpegMeanDiff,
      sizes: [png.size, direct.size],
    };
  }, photo);
  expect(r.types).toEqual(['image/png', 'image/jpeg', 'image/jpeg']);
  expect(r.direct.length).toBeGreaterThan(1000);
  expect(r.direct).toEqual(r.viaPng);
  expect(r.pngDiff).toBe(0);
  // Quality 0.9: close to the pixels, and far smaller than the PNG.
  expect(r.jpegMeanDiff).toBeLessThan(3);
  expect(r.sizes[1]).toBeLessThan(r.sizes[0] / 3);
});

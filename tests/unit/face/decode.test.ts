/** The Node decoding path (the same header checks as the browser worker): pixels, EXIF and typed errors. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../../src/core/types.ts';
import { jpegOrientation, readJpegOrientation } from '../../support/exif.ts';
import { applyOrientation } from '../../support/orient.ts';
import { dataPath } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { expectAppError } from './helpers/expectAppError.ts';
import { encodeJpeg, encodePng, exifSegment, withExifOrientation, withJpegFrameSize } from './helpers/imageBytes.ts';
import { storedForOrientation } from './helpers/imageOps.ts';

const pixel = (img: RgbaImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 4, (y * img.width + x) * 4 + 4));

describe('decodeImageNode', () => {
  it('decodes a real JPEG to 250 x 250 opaque RGBA', () => {
    const img = decodeImageNode(new Uint8Array(readFileSync(dataPath('lfw-dev/Aaron_Sorkin/Aaron_Sorkin_0001.jpg'))), 'a.jpg');
    expect([img.width, img.height, img.data.length]).toEqual([250, 250, 250 * 250 * 4]);
    expect(img.data.every((v, i) => i % 4 !== 3 || v === 255)).toBe(true);
  });

  it('flattens PNG transparency on white', () => {
    const rgba = new Uint8Array(40 * 40 * 4);
    for (let i = 0; i < 40 * 40; i++) rgba.set(i < 800 ? [255, 0, 0, 0] : [255, 0, 0, 128], i * 4);
    const img = decodeImageNode(encodePng(40, 40, rgba), 't.png');
    expect(pixel(img, 0, 0)).toEqual([255, 255, 255, 255]); // fully transparent -> white
    // Half-transparent red over white: 255 * 128/255 + 255 * (1 - 128/255) for red, 255 * (127/255) = 127 for the others.
    const half = pixel(img, 0, 39);
    expect(half[0]).toBe(255);
    expect(Math.abs(half[1] - 127)).toBeLessThanOrEqual(1);
    expect(Math.abs(half[2] - 127)).toBeLessThanOrEqual(1);
    expect(half[3]).toBe(255);
  });

  it('turns a greyscale PNG into equal R, G and B', () => {
    const rgba = new Uint8Array(48 * 48 * 4);
    for (let i = 0; i < 48 * 48; i++) rgba.set([i % 256, i % 256, i % 256, 255], i * 4);
    const img = decodeImageNode(encodePng(48, 48, rgba, 0), 'g.png');
    expect(pixel(img, 10, 0)).toEqual([10, 10, 10, 255]);
    expect(pixel(img, 47, 47)).toEqual([(47 * 48 + 47) % 256, (47 * 48 + 47) % 256, (47 * 48 + 47) % 256, 255]);
  });

  it('gives each bad kind its typed error, naming the file', () => {
    const jpg = new Uint8Array(readFileSync(dataPath('lfw-dev/Aaron_Sorkin/Aaron_Sorkin_0001.jpg')));
    expectAppError(() => decodeImageNode(new Uint8Array(0), 'empty.jpg'), 'empty-file', 'empty.jpg');
    expectAppError(() => decodeImageNode(new TextEncoder().encode('not an image at all'), 'readme.jpg'), 'not-an-image', 'readme.jpg');
    expectAppError(() => decodeImageNode(jpg.subarray(0, jpg.length >> 1), 'half.jpg'), 'corrupt-image', 'half.jpg');
    expectAppError(() => decodeImageNode(withJpegFrameSize(jpg, 60000, 60000), 'bomb.jpg'), 'image-too-large', 'bomb.jpg');
    const tiny = { width: 24, height: 24, data: new Uint8ClampedArray(24 * 24 * 4).fill(90) };
    expectAppError(() => decodeImageNode(encodeJpeg(tiny), 'tiny.jpg'), 'image-too-small', 'tiny.jpg');
    // A plausible header (sizes inside the limits) over scan data that is not what the frame says.
    expectAppError(() => decodeImageNode(withJpegFrameSize(jpg, 4000, 3000), 'lying.jpg'), 'corrupt-image', 'lying.jpg');
  });
});

describe('EXIF orientation', () => {
  it('parses orientation and ignores non-EXIF APP1 data', () => {
    const seg = Uint8Array.from(exifSegment(6, 'MM'));
    expect(readJpegOrientation(seg.subarray(4))).toBe(6);
    expect(readJpegOrientation(new TextEncoder().encode('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta>'))).toBe(1);
    expect(readJpegOrientation(new Uint8Array([0x45, 0x78, 0x69, 0x66, 0, 0, 1, 2]))).toBe(1);
  });

  it('finds the orientation of a whole JPEG in both byte orders, after an XMP segment too, and 1 without EXIF', () => {
    const base = encodeJpeg({ width: 64, height: 48, data: new Uint8ClampedArray(64 * 48 * 4).fill(128) });
    const xmp = [...new TextEncoder().encode('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>')];
    const app1 = (payload: number[]) => [0xff, 0xe1, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
    expect(jpegOrientation(base)).toBe(1);
    for (const order of ['II', 'MM'] as const) {
      for (let o = 1; o <= 8; o++) {
        expect(jpegOrientation(withExifOrientation(base, o, order)), `${order} ${o}`).toBe(o);
        const afterXmp = Uint8Array.from([...base.subarray(0, 2), ...app1(xmp), ...exifSegment(o, order), ...base.subarray(2)]);
        expect(jpegOrientation(afterXmp), `${order} ${o} after XMP`).toBe(o);
      }
    }
  });

  // Where the stored image's first row and first column end up (TIFF 6.0, tag 274):
  // 1 top/left, 2 top/right, 3 bottom/right, 4 bottom/left, 5 left/top, 6 right/top, 7 right/bottom, 8 left/bottom.
  const storedOriginCorner: Record<number, 'tl' | 'tr' | 'br' | 'bl'> = { 1: 'tl', 2: 'tr', 3: 'br', 4: 'bl', 5: 'tl', 6: 'tr', 7: 'br', 8: 'bl' };

  it('puts the stored first pixel in the corner the TIFF definition says, and swaps sides for 5-8', () => {
    const W = 3;
    const H = 2;
    const stored: RgbaImage = { width: W, height: H, data: new Uint8ClampedArray(W * H * 4) };
    for (let i = 0; i < W * H; i++) stored.data.set([i * 10, 0, 0, 255], i * 4);
    for (let o = 1; o <= 8; o++) {
      const up = applyOrientation(stored, o);
      expect([up.width, up.height]).toEqual(o >= 5 ? [H, W] : [W, H]);
      const corner = storedOriginCorner[o];
      const x = corner.endsWith('r') ? up.width - 1 : 0;
      const y = corner.startsWith('b') ? up.height - 1 : 0;
      expect(pixel(up, x, y)[0], `orientation ${o}`).toBe(0);
      // The stored first row runs along the top/bottom edge for 1-4 and along a side for 5-8.
      const next = o >= 5 ? pixel(up, x, y === 0 ? 1 : y - 1) : pixel(up, x === 0 ? 1 : x - 1, y);
      expect(next[0], `orientation ${o}`).toBe(10);
    }
  });

  it('decoding a JPEG with orientation o undoes what the camera stored', () => {
    const upright: RgbaImage = { width: 64, height: 40, data: new Uint8ClampedArray(64 * 40 * 4) };
    for (let y = 0; y < 40; y++) for (let x = 0; x < 64; x++) upright.data.set([x < 32 ? 240 : 20, y < 20 ? 240 : 20, 128, 255], (y * 64 + x) * 4);
    for (let o = 1; o <= 8; o++) {
      const img = decodeImageNode(withExifOrientation(encodeJpeg(storedForOrientation(upright, o)), o), `o${o}.jpg`);
      expect([img.width, img.height]).toEqual([64, 40]);
      // Quadrant colours survive JPEG: top-left is red+green, bottom-right neither.
      expect(
        pixel(img, 8, 8)
          .slice(0, 2)
          .every((v) => v > 200),
        `orientation ${o}`,
      ).toBe(true);
      expect(
        pixel(img, 56, 32)
          .slice(0, 2)
          .every((v) => v < 60),
        `orientation ${o}`,
      ).toBe(true);
      expect(pixel(img, 56, 8)[0] < 60 && pixel(img, 56, 8)[1] > 200, `orientation ${o}`).toBe(true);
    }
  });
});

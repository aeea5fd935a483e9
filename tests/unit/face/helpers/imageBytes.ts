/**
 * Builds test image files byte by byte, from the format specifications
 * (JPEG/EXIF, PNG, GIF, BMP, WebP), independently of the code under test.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import type { RgbaImage } from '../../../../src/core/types.ts';

export function encodeJpeg(image: RgbaImage, quality = 95): Uint8Array {
  const out = jpeg.encode({ width: image.width, height: image.height, data: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.length) }, quality);
  return new Uint8Array(out.data);
}

export function encodePng(width: number, height: number, rgba: Uint8Array, colorType: 0 | 2 | 6 = 6): Uint8Array {
  const png = new PNG({ width, height, colorType, inputColorType: 6, inputHasAlpha: true, bitDepth: 8 });
  png.data = Buffer.from(rgba);
  return new Uint8Array(PNG.sync.write(png, { colorType, inputColorType: 6, inputHasAlpha: true }));
}

const le16 = (v: number) => [v & 0xff, (v >> 8) & 0xff];
const be16 = (v: number) => [(v >> 8) & 0xff, v & 0xff];
const le32 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >>> 24) & 0xff];
const be32 = (v: number) => [(v >>> 24) & 0xff, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff];
const text = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** An APP1 EXIF segment whose IFD0 holds only Orientation (tag 0x0112, SHORT). */
export function exifSegment(orientation: number, byteOrder: 'II' | 'MM' = 'II'): number[] {
  const u16 = byteOrder === 'II' ? le16 : be16;
  const u32 = byteOrder === 'II' ? le32 : be32;
  // The SHORT value is left-aligned in its 4-byte field in both byte orders.
  const tiff = [...text(byteOrder), ...u16(42), ...u32(8), ...u16(1), ...u16(0x0112), ...u16(3), ...u32(1), ...u16(orientation), 0, 0, ...u32(0)];
  const payload = [...text('Exif'), 0, 0, ...tiff];
  return [0xff, 0xe1, ...be16(payload.length + 2), ...payload];
}

/** The JPEG with an EXIF orientation segment inserted right after SOI. */
export function withExifOrientation(jpegBytes: Uint8Array, orientation: number, byteOrder: 'II' | 'MM' = 'II'): Uint8Array {
  return Uint8Array.from([...jpegBytes.subarray(0, 2), ...exifSegment(orientation, byteOrder), ...jpegBytes.subarray(2)]);
}

/** Rewrites the frame size in a JPEG's SOF0/SOF2 segment (the data after it is left alone). */
export function withJpegFrameSize(jpegBytes: Uint8Array, width: number, height: number): Uint8Array {
  const b = Uint8Array.from(jpegBytes);
  let i = 2;
  while (i < b.length) {
    const marker = b[i + 1];
    const len = (b[i + 2] << 8) | b[i + 3];
    if (marker === 0xc0 || marker === 0xc2) {
      b.set(be16(height), i + 5);
      b.set(be16(width), i + 7);
      return b;
    }
    i += 2 + len;
  }
  throw new Error('no SOF0/SOF2 segment');
}

/** Rewrites width and height in a PNG's IHDR (the CRC is left stale: headers are read before any decoder). */
export function withPngSize(pngBytes: Uint8Array, width: number, height: number): Uint8Array {
  const b = Uint8Array.from(pngBytes);
  b.set(be32(width), 16);
  b.set(be32(height), 20);
  return b;
}

/** A GIF89a with one frame; `lzw` is the image data sub-block content (not checked here). */
export function gifBytes(width: number, height: number, lzw: number[] = [0x44, 0x01]): Uint8Array {
  return Uint8Array.from([
    ...text('GIF89a'),
    ...le16(width),
    ...le16(height),
    0x00,
    0,
    0, // no global colour table
    0x21,
    0xf9,
    4,
    0,
    0,
    0,
    0,
    0, // graphic control extension
    0x2c,
    ...le16(0),
    ...le16(0),
    ...le16(width),
    ...le16(height),
    0x00, // image descriptor
    2,
    lzw.length,
    ...lzw,
    0, // LZW minimum code size, one sub-block, terminator
    0x3b,
  ]);
}

/** An uncompressed 24-bit BMP (BITMAPINFOHEADER), rows bottom-up, all mid-grey. */
export function bmpBytes(width: number, height: number): Uint8Array {
  const stride = Math.ceil((24 * width) / 32) * 4;
  const pixels = new Array<number>(stride * height).fill(128);
  const header = [...text('BM'), ...le32(54 + pixels.length), 0, 0, 0, 0, ...le32(54)];
  const dib = [...le32(40), ...le32(width), ...le32(height), ...le16(1), ...le16(24), ...le32(0), ...le32(pixels.length), ...le32(2835), ...le32(2835), ...le32(0), ...le32(0)];
  return Uint8Array.from([...header, ...dib, ...pixels]);
}

function riff(chunks: number[]): Uint8Array {
  return Uint8Array.from([...text('RIFF'), ...le32(4 + chunks.length), ...text('WEBP'), ...chunks]);
}

/** Lossy WebP header (VP8 key frame); the payload after the size fields is filler. */
export function webpVp8Bytes(width: number, height: number): Uint8Array {
  const data = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, ...le16(width), ...le16(height), ...new Array<number>(22).fill(0)];
  return riff([...text('VP8 '), ...le32(data.length), ...data]);
}

/** Lossless WebP header (VP8L): 14-bit width-1 and height-1 after the 0x2F signature. */
export function webpVp8lBytes(width: number, height: number): Uint8Array {
  const bits = ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14);
  const data = [0x2f, ...le32(bits), ...new Array<number>(11).fill(0)];
  return riff([...text('VP8L'), ...le32(data.length), ...data]);
}

/** Extended WebP header (VP8X): 24-bit canvas width-1 and height-1. */
export function webpVp8xBytes(width: number, height: number): Uint8Array {
  const le24 = (v: number) => [v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff];
  const data = [0, 0, 0, 0, ...le24(width - 1), ...le24(height - 1)];
  return riff([...text('VP8X'), ...le32(data.length), ...data]);
}

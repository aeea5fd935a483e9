/** Header sniffing and the typed rejections, on files built from the format specifications. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { readImageHeader } from '../../../src/face/imageHeader.ts';
import { dataPath } from './helpers/data.ts';
import { expectAppError } from './helpers/expectAppError.ts';
import { bmpBytes, encodeJpeg, encodePng, exifSegment, gifBytes, webpVp8Bytes, webpVp8lBytes, webpVp8xBytes, withJpegFrameSize, withPngSize } from './helpers/imageBytes.ts';

const realJpeg = () => new Uint8Array(readFileSync(dataPath('lfw-dev/Aaron_Sorkin/Aaron_Sorkin_0001.jpg')));

function grey(width: number, height: number): { width: number; height: number; data: Uint8ClampedArray } {
  return { width, height, data: new Uint8ClampedArray(width * height * 4).fill(128) };
}

describe('readImageHeader: formats and sizes', () => {
  it('reads the size of a real LFW JPEG (250 x 250)', () => {
    const h = readImageHeader(realJpeg(), 'a.jpg');
    expect(h).toMatchObject({ format: 'jpeg', width: 250, height: 250, mimeType: 'image/jpeg' });
  });

  it('reads a non-square JPEG as width x height, not the other way round', () => {
    const h = readImageHeader(encodeJpeg(grey(120, 40)), 'w.jpg');
    expect([h.width, h.height]).toEqual([120, 40]);
  });

  it('walks past an EXIF segment in either byte order to the stored size (the browser applies the orientation)', () => {
    const base = encodeJpeg(grey(64, 48));
    for (const order of ['II', 'MM'] as const) {
      const b = Uint8Array.from([...base.subarray(0, 2), ...exifSegment(6, order), ...base.subarray(2)]);
      expect(readImageHeader(b, 'o.jpg')).toMatchObject({ format: 'jpeg', width: 64, height: 48 });
    }
  });

  it('reads PNG, GIF, BMP and the three WebP headers', () => {
    const png = encodePng(70, 50, new Uint8Array(70 * 50 * 4).fill(200));
    expect(readImageHeader(png, 'a.png')).toMatchObject({ format: 'png', width: 70, height: 50 });
    expect(readImageHeader(gifBytes(90, 33), 'a.gif')).toMatchObject({ format: 'gif', width: 90, height: 33 });
    expect(readImageHeader(bmpBytes(41, 37), 'a.bmp')).toMatchObject({ format: 'bmp', width: 41, height: 37 });
    expect(readImageHeader(webpVp8Bytes(300, 200), 'a.webp')).toMatchObject({ format: 'webp', width: 300, height: 200 });
    expect(readImageHeader(webpVp8lBytes(1000, 64), 'b.webp')).toMatchObject({ format: 'webp', width: 1000, height: 64 });
    expect(readImageHeader(webpVp8xBytes(5000, 4000), 'c.webp')).toMatchObject({ format: 'webp', width: 5000, height: 4000 });
  });
});

describe('readImageHeader: rejections name the file', () => {
  it('empty file', () => expectAppError(() => readImageHeader(new Uint8Array(0), 'empty.jpg'), 'empty-file', 'empty.jpg'));

  it('not an image (text, a PDF, wrong magic)', () => {
    expectAppError(() => readImageHeader(new TextEncoder().encode('hello, world, this is text'), 'notes.jpg'), 'not-an-image', 'notes.jpg');
    expectAppError(() => readImageHeader(new TextEncoder().encode('%PDF-1.7\n...'), 'doc.png'), 'not-an-image', 'doc.png');
    const b = realJpeg();
    b[0] = 0x00;
    expectAppError(() => readImageHeader(b, 'broken-magic.jpg'), 'not-an-image', 'broken-magic.jpg');
  });

  it('says what a renamed document is: PDF, HTML, text; an SVG is an unsupported image', () => {
    const enc = (t: string) => new TextEncoder().encode(t);
    const message = (b: Uint8Array) => {
      try {
        readImageHeader(b, 'x.jpg');
      } catch (e) {
        return `${(e as { code: string }).code}: ${(e as Error).message}`;
      }
      return 'accepted';
    };
    expect(message(enc('%PDF-1.7\n...'))).toBe('not-an-image: x.jpg: this is not an image file: its content is a PDF document');
    expect(message(enc('\uFEFF  <!DOCTYPE html><html><body>hi</body></html>'))).toMatch(/^not-an-image: .*an HTML page$/);
    expect(message(enc('Dear Zoë,\nsee you at 5.\n'))).toMatch(/^not-an-image: .*its content is text$/);
    expect(message(enc('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>'))).toMatch(/^unsupported-image: .*SVG drawing/);
    expect(message(Uint8Array.from([0, 1, 2, 3, 250, 251, 252, 0, 7, 9]))).toBe('not-an-image: x.jpg: this is not an image file (its first bytes match no image format)');
  });

  it('a PNG whose critical chunk fails its CRC is corrupt; a bad ancillary CRC is tolerated', () => {
    const png = encodePng(
      64,
      64,
      new Uint8Array(64 * 64 * 4).map((_, i) => (i * 37) & 255),
    );
    // Chunks after the signature: IHDR (13 bytes of data) then IDAT; flip the last bit of IDAT's CRC.
    const idatAt = 8 + 12 + 13;
    const idatLen = (png[idatAt] << 24) | (png[idatAt + 1] << 16) | (png[idatAt + 2] << 8) | png[idatAt + 3];
    expect(String.fromCharCode(...png.subarray(idatAt + 4, idatAt + 8))).toBe('IDAT');
    const bad = Uint8Array.from(png);
    bad[idatAt + 8 + idatLen + 3] ^= 1;
    expectAppError(() => readImageHeader(bad, 'crc.png'), 'corrupt-image', 'crc.png');
    expect(() => readImageHeader(bad, 'crc.png')).toThrow(/IDAT chunk fails its CRC check/);
    // A tEXt chunk with a wrong CRC, inserted before IDAT: browsers ignore it, so do we.
    const text = Uint8Array.from([0, 0, 0, 3, ...[...'tEXta'].map((c) => c.charCodeAt(0)), 0, 0x62, 0xde, 0xad, 0xbe, 0xef]);
    const withText = Uint8Array.from([...png.subarray(0, idatAt), ...text, ...png.subarray(idatAt)]);
    expect(readImageHeader(withText, 'text.png')).toMatchObject({ format: 'png', width: 64, height: 64 });
  });

  it('TIFF and HEIC are named as unsupported', () => {
    expectAppError(() => readImageHeader(Uint8Array.from([0x49, 0x49, 0x2a, 0, 8, 0, 0, 0, 0, 0]), 'scan.tif'), 'unsupported-image', 'scan.tif');
    const heic = Uint8Array.from([0, 0, 0, 24, ...[...'ftypheic'].map((c) => c.charCodeAt(0)), 0, 0, 0, 0]);
    expectAppError(() => readImageHeader(heic, 'phone.heic'), 'unsupported-image', 'phone.heic');
  });

  it('truncated JPEG, PNG, GIF, BMP and WebP', () => {
    const jpg = realJpeg();
    expectAppError(() => readImageHeader(jpg.subarray(0, Math.floor(jpg.length * 0.6)), 'cut.jpg'), 'corrupt-image', 'cut.jpg');
    expectAppError(() => readImageHeader(jpg.subarray(0, 100), 'header-only.jpg'), 'corrupt-image', 'header-only.jpg');
    const png = encodePng(
      64,
      64,
      new Uint8Array(64 * 64 * 4).map((_, i) => (i * 37) & 255),
    );
    expectAppError(() => readImageHeader(png.subarray(0, png.length - 20), 'cut.png'), 'corrupt-image', 'cut.png');
    const gif = gifBytes(64, 64, new Array(200).fill(7));
    expectAppError(() => readImageHeader(gif.subarray(0, 60), 'cut.gif'), 'corrupt-image', 'cut.gif');
    const bmp = bmpBytes(64, 64);
    expectAppError(() => readImageHeader(bmp.subarray(0, bmp.length - 100), 'cut.bmp'), 'corrupt-image', 'cut.bmp');
    const webp = webpVp8Bytes(64, 64);
    expectAppError(() => readImageHeader(webp.subarray(0, webp.length - 4), 'cut.webp'), 'corrupt-image', 'cut.webp');
  });

  it('a JPEG whose segments are garbage', () => {
    const b = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, ...new Array(14).fill(0), 0x12, 0x34, 0x56, ...new Array(40).fill(0)]);
    expectAppError(() => readImageHeader(b, 'garbage.jpg'), 'corrupt-image', 'garbage.jpg');
  });

  it('decompression bombs: headers claiming 60,000 x 60,000 pixels', () => {
    expectAppError(() => readImageHeader(withJpegFrameSize(realJpeg(), 60000, 60000), 'bomb.jpg'), 'image-too-large', 'bomb.jpg');
    const png = encodePng(64, 64, new Uint8Array(64 * 64 * 4).fill(9));
    expectAppError(() => readImageHeader(withPngSize(png, 60000, 60000), 'bomb.png'), 'image-too-large', 'bomb.png');
    expectAppError(() => readImageHeader(gifBytes(60000, 60000), 'bomb.gif'), 'image-too-large', 'bomb.gif');
    expectAppError(() => readImageHeader(webpVp8xBytes(60000, 60000), 'bomb.webp'), 'image-too-large', 'bomb.webp');
    // Just over the limit: 7072 x 7072 = 50.01 MP; just under is accepted.
    expectAppError(() => readImageHeader(withJpegFrameSize(realJpeg(), 7072, 7072), 'big.jpg'), 'image-too-large', 'big.jpg');
    expect(() => readImageHeader(withJpegFrameSize(realJpeg(), 7071, 7071), 'ok.jpg')).not.toThrow();
  });

  it('images under 32 px on a side', () => {
    expectAppError(() => readImageHeader(encodeJpeg(grey(31, 200)), 'thin.jpg'), 'image-too-small', 'thin.jpg');
    expectAppError(() => readImageHeader(encodeJpeg(grey(200, 20)), 'flat.jpg'), 'image-too-small', 'flat.jpg');
    expectAppError(() => readImageHeader(bmpBytes(16, 16), 'icon.bmp'), 'image-too-small', 'icon.bmp');
    expect(readImageHeader(encodeJpeg(grey(32, 32)), 'edge.jpg').width).toBe(32);
  });
});

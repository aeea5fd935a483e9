/**
 * Reads an image file's format and size from its header bytes, without
 * decoding pixels, and rejects what must never reach a decoder: empty files,
 * non-images, decompression bombs (> 50 megapixels), tiny images (< 32 px),
 * and files whose structure shows they were cut short.
 *
 * The truncation checks are structural (a JPEG's end-of-image marker after its
 * scan, a PNG's IEND chunk, a GIF's first frame data, a BMP's pixel array, a
 * WebP's RIFF size) because browsers happily decode a cut-off JPEG into a
 * half-grey picture instead of failing.
 *
 * Why our own parser and not `file-type` + `image-size`: those two answer
 * "which format" and "how big" from the first bytes, and nothing more. What
 * this file exists for is the rest: walking each format's structure to its
 * end (JPEG segments to the end-of-image marker, PNG chunks with their CRCs
 * to IEND, GIF blocks to the first frame, BMP's pixel array, WebP's RIFF
 * size), and that walk finds the frame size on the way, so a size library
 * would only parse every file a second time with a parser that could
 * disagree with ours. Signature sniffing for the five formats browsers decode
 * is a few lines; file-type's result would still need our own checks for
 * text, HTML and SVG (it reads binary signatures only) to name what a wrong
 * file is. image-size also understands some twenty formats we refuse anyway,
 * which is more code reading untrusted input for nothing. We use `crc-32` for
 * the checksum itself.
 */
import { AppError } from '../core/errors.ts';
// crc-32 is CommonJS whose exports Node cannot name statically: only its default import works everywhere (Node, Vite, tsx).
import CRC32 from 'crc-32';

export type ImageFormat = 'jpeg' | 'png' | 'gif' | 'bmp' | 'webp';

export interface ImageHeader {
  readonly format: ImageFormat;
  /** Stored size in pixels: before the EXIF orientation, which the browser applies when it decodes. */
  readonly width: number;
  readonly height: number;
  readonly mimeType: string;
}

/** Decompression-bomb guard: 50 megapixels (a 200 MB RGBA buffer). */
export const MAX_IMAGE_PIXELS = 50_000_000;
/** Smallest side we accept: a face needs some pixels to be found. */
export const MIN_IMAGE_SIDE = 32;

const MIME: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  bmp: 'image/bmp',
  webp: 'image/webp',
};

const HINT_NOT_IMAGE = 'Drop a photo in JPEG, PNG, WebP, BMP or GIF format.';
const HINT_CORRUPT = 'The file looks damaged or incomplete; export or download it again.';

function ascii(bytes: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n && at + i < bytes.length; i++) s += String.fromCharCode(bytes[at + i]);
  return s;
}

const u16be = (b: Uint8Array, i: number) => (b[i] << 8) | b[i + 1];
const u16le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8);
const u24le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16);
const u32be = (b: Uint8Array, i: number) => ((b[i] << 24) | (b[i + 1] << 16) | (b[i + 2] << 8) | b[i + 3]) >>> 0;
const u32le = (b: Uint8Array, i: number) => (b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24)) >>> 0;
const i32le = (b: Uint8Array, i: number) => b[i] | (b[i + 1] << 8) | (b[i + 2] << 16) | (b[i + 3] << 24);

/** The format named by the file's first bytes, or null when none we know. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | null {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (bytes.length >= 8 && u32be(bytes, 0) === 0x89504e47 && u32be(bytes, 4) === 0x0d0a1a0a) return 'png';
  if (ascii(bytes, 0, 6) === 'GIF87a' || ascii(bytes, 0, 6) === 'GIF89a') return 'gif';
  if (ascii(bytes, 0, 2) === 'BM' && bytes.length >= 14) return 'bmp';
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 4) === 'WEBP') return 'webp';
  return null;
}

/** Formats a browser may not decode; named so the message can say what the file is. */
function sniffUnsupported(bytes: Uint8Array): string | null {
  const tiff = ascii(bytes, 0, 4);
  if (tiff === 'II*\0' || tiff === 'MM\0*') return 'TIFF';
  if (ascii(bytes, 4, 4) === 'ftyp') {
    const brand = ascii(bytes, 8, 4);
    if (/^(heic|heix|hevc|heim|heis|mif1|msf1)$/.test(brand)) return 'HEIC';
    if (/^avi[fs]$/.test(brand)) return 'AVIF';
  }
  return null;
}

/**
 * What a file that is not an image holds, when its first bytes say so: a
 * document or a page renamed to .jpg is the usual case, and naming it tells
 * the user which file went wrong in their export. Null for unknown binary.
 */
export function describeNonImage(bytes: Uint8Array): string | null {
  const start = ascii(bytes, 0, 8);
  if (start.startsWith('%PDF-')) return 'a PDF document';
  if (start.startsWith('PK\x03\x04')) return 'a ZIP archive (or an Office document)';
  if (start.startsWith('{\\rtf')) return 'an RTF document';
  // Text formats: look past a UTF-8 byte-order mark and leading white space.
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(0, Math.min(bytes.length, 1024)));
  } catch {
    // A multi-byte character cut at 1024 bytes, or binary: decide on what decodes.
    text = new TextDecoder('utf-8').decode(bytes.subarray(0, Math.min(bytes.length, 1024)));
    if ((text.match(/\uFFFD/g)?.length ?? 0) > 2) return null;
  }
  const head = text
    .replace(/^\uFEFF/, '')
    .trimStart()
    .toLowerCase();
  if (/^<svg[\s>]/.test(head) || (/^<\?xml[\s?]/.test(head) && /<svg[\s>]/.test(head))) return 'an SVG drawing';
  if (/^<!doctype html|^<html[\s>]|^<head[\s>]|^<body[\s>]/.test(head)) return 'an HTML page';
  if (/^<\?xml[\s?]/.test(head)) return 'an XML file';
  // Text: no control characters other than tab, newline, carriage return and form feed.
  // eslint-disable-next-line no-control-regex -- finding control characters is this pattern's purpose
  if (text.length > 0 && !/[\x00-\x08\x0b\x0e-\x1f\x7f]/.test(text)) return 'text';
  return null;
}

class Truncated extends Error {}

function need(bytes: Uint8Array, end: number): void {
  if (end > bytes.length) throw new Truncated();
}

interface Parsed {
  width: number;
  height: number;
  complete: boolean;
  /** Set when the structure is whole but a checksum shows damaged data. */
  damage?: string;
}

/** SOFn markers carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) are not frames. */
function isJpegFrameMarker(m: number): boolean {
  return m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc;
}

function parseJpeg(b: Uint8Array): Parsed {
  let i = 2;
  let width = 0;
  let height = 0;
  let scanStart = -1;
  while (scanStart < 0) {
    need(b, i + 2);
    if (b[i] !== 0xff) throw new Error('JPEG segment does not start with 0xFF');
    const marker = b[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    if (marker === 0xd9) throw new Error('JPEG ends before any image data');
    need(b, i + 4);
    const len = u16be(b, i + 2);
    if (len < 2) throw new Error('JPEG segment length is invalid');
    need(b, i + 2 + len);
    if (isJpegFrameMarker(marker)) {
      height = u16be(b, i + 5);
      width = u16be(b, i + 7);
    } else if (marker === 0xda) {
      scanStart = i + 2 + len;
    }
    i += 2 + len;
  }
  if (width === 0 || height === 0) throw new Error('JPEG has no frame size before its image data');
  // Entropy-coded data escapes every 0xFF as FF 00, so FF D9 after the first
  // scan can only be the end-of-image marker. (An EXIF thumbnail's EOI sits
  // before the scan and does not count.)
  let complete = false;
  for (let j = b.length - 2; j >= scanStart; j--) {
    if (b[j] === 0xff && b[j + 1] === 0xd9) {
      complete = true;
      break;
    }
  }
  return { width, height, complete };
}

/** CRC-32 (ISO 3309, as PNG uses it) of b[from, to), unsigned. */
function crc32(b: Uint8Array, from: number, to: number): number {
  // crc-32 returns the CRC as a signed 32-bit int; the PNG field is read unsigned.
  return CRC32.buf(b.subarray(from, to)) >>> 0;
}

function parsePng(b: Uint8Array): Parsed {
  need(b, 33);
  if (ascii(b, 12, 4) !== 'IHDR') throw new Error('PNG does not start with an IHDR chunk');
  const width = u32be(b, 16);
  const height = u32be(b, 20);
  // A bomb is refused from its size alone; checking its CRCs would only cost time.
  const checkCrc = width * height <= MAX_IMAGE_PIXELS;
  let i = 8;
  let complete = false;
  let damage: string | undefined;
  while (i + 12 <= b.length) {
    const len = u32be(b, i);
    const type = ascii(b, i + 4, 4);
    if (i + 12 + len > b.length) break;
    // Like libpng (and so the browser): a critical chunk (upper-case first letter) with a wrong CRC is fatal, an ancillary one is not.
    const critical = (b[i + 4] & 0x20) === 0;
    if (checkCrc && critical && damage === undefined && crc32(b, i + 4, i + 8 + len) !== u32be(b, i + 8 + len)) {
      damage = `its ${type} chunk fails its CRC check (the data was changed after it was written)`;
    }
    if (type === 'IEND') {
      complete = true;
      break;
    }
    i += 12 + len;
  }
  return { width, height, complete, damage };
}

/** Walks GIF blocks up to the end of the first frame's image data. */
function parseGif(b: Uint8Array): Parsed {
  need(b, 13);
  const width = u16le(b, 6);
  const height = u16le(b, 8);
  const flags = b[10];
  let i = 13 + (flags & 0x80 ? 3 * (1 << ((flags & 7) + 1)) : 0);
  const skipSubBlocks = (at: number): number => {
    let k = at;
    for (;;) {
      need(b, k + 1);
      const n = b[k];
      k += 1 + n;
      if (n === 0) return k;
    }
  };
  let complete = false;
  try {
    for (;;) {
      need(b, i + 1);
      const block = b[i];
      if (block === 0x21) {
        i = skipSubBlocks(i + 2);
      } else if (block === 0x2c) {
        need(b, i + 10);
        const local = b[i + 9];
        i += 10 + (local & 0x80 ? 3 * (1 << ((local & 7) + 1)) : 0);
        i = skipSubBlocks(i + 1); // +1: the LZW minimum code size
        complete = true;
        break;
      } else {
        // The trailer (0x3B) or garbage before any frame: no picture to show.
        break;
      }
    }
  } catch (e) {
    if (!(e instanceof Truncated)) throw e;
  }
  return { width, height, complete };
}

function parseBmp(b: Uint8Array): Parsed {
  need(b, 26);
  const pixelOffset = u32le(b, 10);
  const dibSize = u32le(b, 14);
  let width: number;
  let height: number;
  let bitsPerPixel: number;
  let compression = 0;
  if (dibSize === 12) {
    width = u16le(b, 18);
    height = u16le(b, 20);
    bitsPerPixel = u16le(b, 24);
  } else {
    need(b, 34);
    width = i32le(b, 18);
    height = Math.abs(i32le(b, 22)); // negative height = rows stored top-down
    bitsPerPixel = u16le(b, 28);
    compression = u32le(b, 30);
  }
  if (width <= 0 || height <= 0 || bitsPerPixel === 0) throw new Error('BMP header has an invalid size');
  // Uncompressed (BI_RGB, BI_BITFIELDS, BI_ALPHABITFIELDS) rows have a known size.
  const uncompressed = compression === 0 || compression === 3 || compression === 6;
  const stride = Math.floor((bitsPerPixel * width + 31) / 32) * 4;
  const complete = !uncompressed || pixelOffset + stride * height <= b.length;
  return { width, height, complete };
}

function parseWebp(b: Uint8Array): Parsed {
  need(b, 30);
  const riffSize = u32le(b, 4);
  const chunk = ascii(b, 12, 4);
  let width: number;
  let height: number;
  if (chunk === 'VP8X') {
    width = u24le(b, 24) + 1;
    height = u24le(b, 27) + 1;
  } else if (chunk === 'VP8 ') {
    if (b[23] !== 0x9d || b[24] !== 0x01 || b[25] !== 0x2a) throw new Error('WebP VP8 frame has no start code');
    width = u16le(b, 26) & 0x3fff;
    height = u16le(b, 28) & 0x3fff;
  } else if (chunk === 'VP8L') {
    if (b[20] !== 0x2f) throw new Error('WebP VP8L stream has no signature');
    const bits = u32le(b, 21);
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else {
    throw new Error(`WebP starts with an unknown chunk "${chunk}"`);
  }
  return { width, height, complete: b.length >= riffSize + 8 };
}

const PARSERS: Record<ImageFormat, (b: Uint8Array) => Parsed> = {
  jpeg: parseJpeg,
  png: parsePng,
  gif: parseGif,
  bmp: parseBmp,
  webp: parseWebp,
};

/**
 * Validates an image file from its bytes and returns its header. Throws an
 * AppError naming `fileName`: 'empty-file', 'not-an-image' (saying what
 * the content is when it is a known document or text), 'unsupported-image'
 * (TIFF, HEIC, AVIF, SVG), 'corrupt-image' (unreadable header or cut short),
 * 'image-too-large' (> 50 MP) or 'image-too-small' (a side < 32 px).
 */
export function readImageHeader(bytes: Uint8Array, fileName: string): ImageHeader {
  const file = fileName;
  if (bytes.length === 0) {
    throw new AppError('empty-file', 'the file is empty (0 bytes)', 'Choose the file again; it may not have finished copying.', { file });
  }
  const format = sniffImageFormat(bytes);
  if (!format) {
    const other = sniffUnsupported(bytes);
    if (other) {
      throw new AppError('unsupported-image', `${other} images are not supported`, 'Convert the photo to JPEG or PNG and drop it again.', { file });
    }
    const what = describeNonImage(bytes);
    if (what === 'an SVG drawing') {
      throw new AppError('unsupported-image', 'this is an SVG drawing, not a photo; SVG images are not supported', 'Export the drawing as PNG or JPEG, or drop a photo instead.', { file });
    }
    const message = what ? `this is not an image file: its content is ${what}` : 'this is not an image file (its first bytes match no image format)';
    throw new AppError('not-an-image', message, HINT_NOT_IMAGE, { file });
  }
  let parsed: Parsed;
  try {
    parsed = PARSERS[format](bytes);
  } catch (e) {
    const why = e instanceof Truncated ? 'the file ends inside its header' : (e as Error).message;
    throw new AppError('corrupt-image', `the ${format.toUpperCase()} file is corrupt: ${why}`, HINT_CORRUPT, { file, cause: e });
  }
  const { width, height } = parsed;
  if (width * height > MAX_IMAGE_PIXELS) {
    const mp = ((width * height) / 1e6).toFixed(0);
    throw new AppError(
      'image-too-large',
      `the image is ${width} x ${height} pixels (${mp} megapixels); the limit is ${MAX_IMAGE_PIXELS / 1e6} megapixels`,
      'Resize the photo (a face needs only a few hundred pixels) and drop it again.',
      { file },
    );
  }
  if (Math.min(width, height) < MIN_IMAGE_SIDE) {
    throw new AppError('image-too-small', `the image is ${width} x ${height} pixels; both sides must be at least ${MIN_IMAGE_SIDE}`, 'Use a larger photo of the face.', { file });
  }
  if (!parsed.complete) {
    throw new AppError('corrupt-image', `the ${format.toUpperCase()} file is truncated (its data ends early)`, HINT_CORRUPT, { file });
  }
  if (parsed.damage) {
    throw new AppError('corrupt-image', `the ${format.toUpperCase()} file is damaged: ${parsed.damage}`, HINT_CORRUPT, { file });
  }
  return { format, width, height, mimeType: MIME[format] };
}

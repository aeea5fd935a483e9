/**
 * Builds, at test time, the awkward and broken files a real user drops on the
 * app: every file is made here from the format specifications (nothing binary
 * is committed), with real LFW faces from ../shared/data/lfw-mini as the
 * pixels wherever a face is needed.
 *
 * - JPEG: jpeg-js for ordinary colour JPEGs; a small baseline encoder below
 *   for the 1-component (greyscale) and 4-component (Adobe CMYK) files, which
 *   jpeg-js cannot write.
 * - PNG: written chunk by chunk (node:zlib deflate, crc-32), so bit
 *   depth, colour type, IHDR size and a chunk's CRC can be chosen freely.
 * - GIF: a two-frame animated GIF89a (uncompressed-style LZW: literal codes
 *   with a clear code often enough that the code size stays 9 bits).
 * - EXIF: an APP1 segment holding only Orientation (0x0112), inserted after
 *   JFIF's APP0.
 * - ZIP: fflate for ordinary archives; tests/support/zipFiles.ts for the
 *   hostile ones (a 1 GB bomb made in a second, headers that lie, a bad CRC).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import { storedEntry, withEntryHeader, zerosEntry, zerosZip, zipOfRaw } from '../../tests/support/zipFiles.ts';
import { requireLfwMini } from '../support/fixtures.ts';
import { be32, concat, PNG_SIGNATURE, pngChunk } from '../../tests/support/pngChunks.ts';

export interface Rgba {
  readonly width: number;
  readonly height: number;
  /** RGBA, 4 bytes a pixel. */
  readonly data: Uint8Array;
}

// ---------------------------------------------------------------- pixels

export function lfwFace(identity: string, n = 1): Uint8Array {
  return new Uint8Array(readFileSync(join(requireLfwMini(), identity, `${identity}_${String(n).padStart(4, '0')}.jpg`)));
}

export function decodeJpegRgba(bytes: Uint8Array): Rgba {
  const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
  return { width: img.width, height: img.height, data: new Uint8Array(img.data) };
}

function remap(img: Rgba, outW: number, outH: number, from: (x: number, y: number) => [number, number]): Rgba {
  const out = new Uint8Array(outW * outH * 4);
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      const [sx, sy] = from(x, y);
      out.set(img.data.subarray((sy * img.width + sx) * 4, (sy * img.width + sx) * 4 + 4), (y * outW + x) * 4);
    }
  return { width: outW, height: outH, data: out };
}

export function crop(img: Rgba, x0: number, y0: number, w: number, h: number): Rgba {
  return remap(img, w, h, (x, y) => [x0 + x, y0 + y]);
}

const mirror = (img: Rgba) => remap(img, img.width, img.height, (x, y) => [img.width - 1 - x, y]);
const flipV = (img: Rgba) => remap(img, img.width, img.height, (x, y) => [x, img.height - 1 - y]);
const transpose = (img: Rgba) => remap(img, img.height, img.width, (x, y) => [y, x]);
const rotateCw = (img: Rgba) => mirror(transpose(img));
const rotateCcw = (img: Rgba) => transpose(mirror(img));

/** The pixels a camera stores for an upright picture when it writes EXIF orientation `o`. */
export function storedForOrientation(upright: Rgba, o: number): Rgba {
  switch (o) {
    case 1:
      return upright;
    case 2:
      return mirror(upright);
    case 3:
      return mirror(flipV(upright));
    case 4:
      return flipV(upright);
    case 5:
      return transpose(upright); // its own inverse
    case 6:
      return rotateCcw(upright); // the viewer turns it clockwise
    case 7:
      return mirror(flipV(transpose(upright))); // transverse, its own inverse
    case 8:
      return rotateCw(upright); // the viewer turns it counter-clockwise
    default:
      throw new Error(`orientation ${o}`);
  }
}

const luma = (d: Uint8Array, i: number) => Math.round(0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2]);

// ---------------------------------------------------------------- JPEG

export function encodeJpeg(img: Rgba, quality = 95): Uint8Array {
  return new Uint8Array(jpeg.encode({ width: img.width, height: img.height, data: Buffer.from(img.data) }, quality).data);
}

/** APP1 "Exif" segment with IFD0 = { Orientation: o } (big-endian TIFF). */
function exifOrientationSegment(o: number): number[] {
  const tiff = [0x4d, 0x4d, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, o, 0, 0, 0, 0, 0, 0];
  const payload = [0x45, 0x78, 0x69, 0x66, 0, 0, ...tiff];
  const len = payload.length + 2;
  return [0xff, 0xe1, len >> 8, len & 0xff, ...payload];
}

/** The JPEG with an EXIF orientation segment after SOI (and after JFIF's APP0 when there is one). */
export function withExifOrientation(jpg: Uint8Array, o: number): Uint8Array {
  let at = 2;
  if (jpg[2] === 0xff && jpg[3] === 0xe0) at = 4 + ((jpg[4] << 8) | jpg[5]);
  return Uint8Array.from([...jpg.subarray(0, at), ...exifOrientationSegment(o), ...jpg.subarray(at)]);
}

const ZIGZAG = [
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45,
  38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
];
// ITU T.81 Annex K.1 luminance quantisation table (natural order) and K.3 luminance Huffman tables.
const QUANT_LUMA = [
  16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
  49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99,
];
const DC_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0];
const DC_VALS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
const AC_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7d];
const AC_VALS = [
  0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07, 0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xa1, 0x08, 0x23, 0x42, 0xb1, 0xc1, 0x15, 0x52, 0xd1, 0xf0, 0x24,
  0x33, 0x62, 0x72, 0x82, 0x09, 0x0a, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4a, 0x53,
  0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5a, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x92, 0x93,
  0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9,
  0xca, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa,
];

/** Canonical Huffman codes (T.81 Annex C): symbol -> [code, length]. */
function huffmanCodes(bits: number[], vals: number[]): Map<number, [number, number]> {
  const out = new Map<number, [number, number]>();
  let code = 0;
  let k = 0;
  for (let len = 1; len <= 16; len++) {
    for (let i = 0; i < bits[len - 1]; i++) out.set(vals[k++], [code++, len]);
    code <<= 1;
  }
  return out;
}

class BitWriter {
  readonly bytes: number[] = [];
  private acc = 0;
  private n = 0;
  write(value: number, length: number): void {
    for (let i = length - 1; i >= 0; i--) {
      this.acc = (this.acc << 1) | ((value >> i) & 1);
      if (++this.n === 8) this.flushByte();
    }
  }
  private flushByte(): void {
    this.bytes.push(this.acc);
    if (this.acc === 0xff) this.bytes.push(0); // byte stuffing
    this.acc = 0;
    this.n = 0;
  }
  finish(): void {
    while (this.n !== 0) this.write(1, 1); // pad with 1 bits
  }
}

/**
 * A baseline JPEG with 1 (greyscale) or 4 (Adobe CMYK, stored inverted as
 * Photoshop writes it, APP14 transform 0) components, no subsampling, every
 * component on the luminance tables. `planes[c][y * width + x]` is 0..255.
 */
export function encodeBaselineJpeg(width: number, height: number, planes: Uint8Array[], quality = 92): Uint8Array {
  const nc = planes.length;
  if (nc !== 1 && nc !== 4) throw new Error('1 or 4 components');
  const scale = quality < 50 ? 5000 / quality : 200 - 2 * quality;
  const q = QUANT_LUMA.map((v) => Math.min(255, Math.max(1, Math.floor((v * scale + 50) / 100))));
  const dc = huffmanCodes(DC_BITS, DC_VALS);
  const ac = huffmanCodes(AC_BITS, AC_VALS);
  const cos = Array.from({ length: 64 }, (_, i) => Math.cos(((2 * (i % 8) + 1) * Math.floor(i / 8) * Math.PI) / 16)); // [u*8 + x]
  const bw = new BitWriter();
  const category = (v: number) => (v === 0 ? 0 : Math.floor(Math.log2(Math.abs(v))) + 1);
  const emit = (table: Map<number, [number, number]>, sym: number) => {
    const code = table.get(sym);
    if (!code) throw new Error(`JPEG encoder: no Huffman code for symbol ${sym}`);
    bw.write(code[0], code[1]);
  };
  const extra = (v: number, cat: number) => bw.write(v < 0 ? v + (1 << cat) - 1 : v, cat);
  const prevDc = new Array(nc).fill(0);
  const block = new Float64Array(64);
  const coef = new Int32Array(64);
  for (let by = 0; by < height; by += 8)
    for (let bx = 0; bx < width; bx += 8)
      for (let c = 0; c < nc; c++) {
        for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) block[y * 8 + x] = planes[c][Math.min(height - 1, by + y) * width + Math.min(width - 1, bx + x)] - 128;
        for (let v = 0; v < 8; v++)
          for (let u = 0; u < 8; u++) {
            let s = 0;
            for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) s += block[y * 8 + x] * cos[u * 8 + x] * cos[v * 8 + y];
            const cu = u === 0 ? Math.SQRT1_2 : 1;
            const cv = v === 0 ? Math.SQRT1_2 : 1;
            coef[v * 8 + u] = Math.round((0.25 * cu * cv * s) / q[v * 8 + u]);
          }
        const diff = coef[0] - prevDc[c];
        prevDc[c] = coef[0];
        const dcat = category(diff);
        emit(dc, dcat);
        if (dcat) extra(diff, dcat);
        let run = 0;
        for (let k = 1; k < 64; k++) {
          const v = coef[ZIGZAG[k]];
          if (v === 0) {
            run++;
            continue;
          }
          while (run > 15) {
            emit(ac, 0xf0);
            run -= 16;
          }
          const cat = category(v);
          emit(ac, (run << 4) | cat);
          extra(v, cat);
          run = 0;
        }
        if (run > 0) emit(ac, 0x00);
      }
  bw.finish();
  const seg = (marker: number, payload: number[]) => [0xff, marker, (payload.length + 2) >> 8, (payload.length + 2) & 0xff, ...payload];
  const out = [
    0xff,
    0xd8,
    ...(nc === 4 ? seg(0xee, [0x41, 0x64, 0x6f, 0x62, 0x65, 0x00, 0x64, 0, 0, 0, 0, 0]) : []),
    ...seg(0xdb, [0, ...ZIGZAG.map((i) => q[i])]),
    ...seg(0xc0, [8, height >> 8, height & 0xff, width >> 8, width & 0xff, nc, ...Array.from({ length: nc }, (_, c) => [c + 1, 0x11, 0]).flat()]),
    ...seg(0xc4, [0x00, ...DC_BITS, ...DC_VALS, 0x10, ...AC_BITS, ...AC_VALS]),
    ...seg(0xda, [nc, ...Array.from({ length: nc }, (_, c) => [c + 1, 0x00]).flat(), 0, 63, 0]),
  ];
  return Uint8Array.from([...out, ...bw.bytes, 0xff, 0xd9]);
}

export function greyJpeg(img: Rgba): Uint8Array {
  const g = new Uint8Array(img.width * img.height);
  for (let i = 0; i < g.length; i++) g[i] = luma(img.data, i * 4);
  return encodeBaselineJpeg(img.width, img.height, [g]);
}

/**
 * An Adobe CMYK JPEG. Stored values are inverted (255 = no ink), as Photoshop
 * writes them and as browsers read them: R = C'K'/255 with C' = 255 - C.
 * Black is pulled out into K (K' = max(R, G, B)).
 */
export function cmykJpeg(img: Rgba): Uint8Array {
  const n = img.width * img.height;
  const planes = [new Uint8Array(n), new Uint8Array(n), new Uint8Array(n), new Uint8Array(n)];
  for (let i = 0; i < n; i++) {
    const r = img.data[i * 4],
      g = img.data[i * 4 + 1],
      b = img.data[i * 4 + 2];
    const k = Math.max(r, g, b);
    planes[3][i] = k;
    planes[0][i] = k ? Math.round((255 * r) / k) : 0;
    planes[1][i] = k ? Math.round((255 * g) / k) : 0;
    planes[2][i] = k ? Math.round((255 * b) / k) : 0;
  }
  return encodeBaselineJpeg(img.width, img.height, planes);
}

// ---------------------------------------------------------------- PNG

const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };

/**
 * A PNG from raw scanlines (`rows(y)` returns one row of samples, big-endian
 * for 16 bits). Filter "None" on every row; compression level 1 keeps huge
 * uniform images fast to write.
 */
export function encodePngRaw(width: number, height: number, colorType: 0 | 2 | 4 | 6, bitDepth: 8 | 16, rows: (y: number) => Uint8Array): Uint8Array {
  const stride = (width * CHANNELS[colorType] * bitDepth) / 8;
  const raw = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) raw.set(rows(y), y * (stride + 1) + 1);
  const ihdr = Uint8Array.from([...be32(width), ...be32(height), bitDepth, colorType, 0, 0, 0]);
  return concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(raw, { level: 1 })), pngChunk('IEND', new Uint8Array(0))]);
}

/** The face as a PNG: 'rgb', 'grey', 'rgb16' (16 bits a sample), or 'alpha' (opaque oval, transparent corners). */
export function facePng(img: Rgba, kind: 'rgb' | 'grey' | 'rgb16' | 'alpha'): Uint8Array {
  const { width: w, height: h, data } = img;
  if (kind === 'grey') return encodePngRaw(w, h, 0, 8, (y) => Uint8Array.from({ length: w }, (_, x) => luma(data, (y * w + x) * 4)));
  if (kind === 'rgb') return encodePngRaw(w, h, 2, 8, (y) => Uint8Array.from({ length: 3 * w }, (_, i) => data[(y * w + Math.floor(i / 3)) * 4 + (i % 3)]));
  if (kind === 'rgb16')
    return encodePngRaw(w, h, 2, 16, (y) => {
      const row = new Uint8Array(6 * w);
      // v * 257 spreads 8 bits over 16 (0xAB -> 0xABAB) plus a low-byte ramp, so the low byte is not just a copy.
      for (let x = 0; x < w; x++)
        for (let c = 0; c < 3; c++) {
          const v = Math.min(65535, data[(y * w + x) * 4 + c] * 257 + ((x * 7) & 0x7f));
          row[6 * x + 2 * c] = v >> 8;
          row[6 * x + 2 * c + 1] = v & 0xff;
        }
      return row;
    });
  return encodePngRaw(w, h, 6, 8, (y) => {
    const row = new Uint8Array(4 * w);
    for (let x = 0; x < w; x++) {
      const dx = (x - w / 2) / (0.48 * w),
        dy = (y - h / 2) / (0.5 * h);
      const inside = dx * dx + dy * dy <= 1;
      // Transparent pixels carry garish green: it must not show through.
      row.set(inside ? [data[(y * w + x) * 4], data[(y * w + x) * 4 + 1], data[(y * w + x) * 4 + 2], 255] : [0, 255, 0, 0], 4 * x);
    }
    return row;
  });
}

/** A valid PNG whose IDAT chunk's CRC is wrong (one bit flipped): the data is damaged. */
export function brokenCrcPng(img: Rgba): Uint8Array {
  const png = facePng(img, 'rgb');
  const dv = new DataView(png.buffer, png.byteOffset);
  let i = 8;
  while (i < png.length) {
    const len = dv.getUint32(i);
    const type = String.fromCharCode(...png.subarray(i + 4, i + 8));
    if (type === 'IDAT') {
      png[i + 8 + len + 3] ^= 0x01;
      return png;
    }
    i += 12 + len;
  }
  throw new Error('no IDAT');
}

/** A decompression bomb's header: IHDR claims width x height, a few bytes of IDAT, IEND. All CRCs valid. */
export function bombPng(width: number, height: number): Uint8Array {
  const ihdr = Uint8Array.from([...be32(width), ...be32(height), 8, 2, 0, 0, 0]);
  return concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', deflateSync(new Uint8Array(64))), pngChunk('IEND', new Uint8Array(0))]);
}

/** A genuine, fully valid greyscale PNG of side x side pixels (mid grey; it compresses to well under 1 MB). */
export function hugePng(side: number): Uint8Array {
  const row = new Uint8Array(side).fill(128);
  return encodePngRaw(side, side, 0, 8, () => row);
}

// ---------------------------------------------------------------- GIF

/** LZW image data for 8-bit indices: literals only, with a clear code every 200 so codes stay 9 bits. */
function lzwLiterals(indices: Uint8Array): number[] {
  const CLEAR = 256,
    EOI = 257;
  const out: number[] = [];
  let acc = 0,
    n = 0;
  const put = (code: number) => {
    acc |= code << n;
    n += 9;
    while (n >= 8) {
      out.push(acc & 0xff);
      acc >>>= 8;
      n -= 8;
    }
  };
  for (let i = 0; i < indices.length; i++) {
    if (i % 200 === 0) put(CLEAR);
    put(indices[i]);
  }
  put(EOI);
  if (n > 0) out.push(acc & 0xff);
  const blocks: number[] = [8];
  for (let i = 0; i < out.length; i += 255) {
    const chunk = out.slice(i, i + 255);
    blocks.push(chunk.length, ...chunk);
  }
  blocks.push(0);
  return blocks;
}

/** An animated (looping, two frames, 0.5 s each) greyscale GIF89a; both frames the same size. */
export function animatedGreyGif(frames: Rgba[]): Uint8Array {
  const { width: w, height: h } = frames[0];
  const le16 = (v: number) => [v & 0xff, v >> 8];
  const palette = Array.from({ length: 256 }, (_, i) => [i, i, i]).flat();
  const bytes: number[] = [...'GIF89a'].map((c) => c.charCodeAt(0));
  bytes.push(...le16(w), ...le16(h), 0xf7, 0, 0, ...palette);
  bytes.push(0x21, 0xff, 11, ...[...'NETSCAPE2.0'].map((c) => c.charCodeAt(0)), 3, 1, 0, 0, 0);
  for (const f of frames) {
    const idx = Uint8Array.from({ length: w * h }, (_, i) => luma(f.data, i * 4));
    bytes.push(0x21, 0xf9, 4, 0x04, 50, 0, 0, 0); // disposal "leave in place", 0.5 s
    bytes.push(0x2c, 0, 0, 0, 0, ...le16(w), ...le16(h), 0);
    bytes.push(...lzwLiterals(idx));
  }
  bytes.push(0x3b);
  return Uint8Array.from(bytes);
}

// ---------------------------------------------------------------- the cases

/** The file name a hostile page would love to see rendered as HTML. */
export const HOSTILE_NAME = '<img src=x onerror=alert(1)>_Zoë_😀';

export interface Expectation {
  /** data-code of its line in the problems list. */
  readonly code: string;
  /** What the message must say. */
  readonly message: RegExp;
}

export interface BadFile {
  /** Path inside the dropped folder (or the zip), "/"-separated. */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Absent: the file must be indexed. Present: it must be listed with this code and message. */
  readonly expect?: Expectation;
  /** Why this file is here (for the test's failure messages). */
  readonly what: string;
}

/** The person the face variants (grey, CMYK, 16-bit, alpha, GIF, huge, EXIF 1-8) are made from. */
export const VARIANT_IDENTITY = 'Alec_Baldwin';
/** Good images (new to the gallery) dropped together with the bad ones. */
export const NEW_GOOD_IDENTITIES = ['Ai_Sugiyama', 'Aishwarya_Rai'];
/** A face (not otherwise in the import) in a folder with the hostile name. */
export const HOSTILE_FOLDER_FACE = 'Amanda_Bynes';
/** Side of the genuinely large face image: 49 MP, just under the 50 MP decoding limit, so it is decoded and downscaled. */
export const LARGE_SIDE = 7000;
/** Side of the genuinely huge image: 256 MP, over the limit, so it is refused from its header. */
export const HUGE_SIDE = 16000;

export interface BadSet {
  readonly files: BadFile[];
  /** Files that must be indexed. */
  readonly good: BadFile[];
  /** Files that must be listed as problems (by path). */
  readonly bad: BadFile[];
  /** The duplicated pair: exactly one is indexed, the other is listed as a duplicate of it. */
  readonly duplicatePair: [string, string];
  /** EXIF orientation variants, 1..8. */
  readonly orientations: BadFile[];
  /** Every variant of the VARIANT_IDENTITY source photo (colour spaces, depths, alpha, GIF, large, EXIF). */
  readonly variants: BadFile[];
  /** The upright source of the variants, to query with. */
  readonly variantSource: Uint8Array;
}

export function buildBadSet(): BadSet {
  const files: BadFile[] = [];
  const add = (path: string, bytes: Uint8Array, what: string, expect?: Expectation) => files.push({ path, bytes, what, expect });

  // New good faces, as they are.
  for (const id of NEW_GOOD_IDENTITIES)
    for (let n = 1; ; n++) {
      let bytes: Uint8Array;
      try {
        bytes = lfwFace(id, n);
      } catch {
        break;
      }
      add(`${id}/${id}_${String(n).padStart(4, '0')}.jpg`, bytes, 'a good face');
    }
  // The same content twice, under two names in the same identity folder.
  const dupId = NEW_GOOD_IDENTITIES[1];
  const dupA = `${dupId}/${dupId}_0001.jpg`;
  const dupB = `${dupId}/${dupId}_0001 (copy).jpg`;
  add(dupB, lfwFace(dupId, 1), 'the same bytes as another file');

  // Variants of one photo. The upright picture is cropped to 220 x 250, so a
  // decoder that forgets to swap width and height for EXIF 5-8 shows.
  const source = lfwFace(VARIANT_IDENTITY, 1);
  const full = decodeJpegRgba(source);
  const upright = crop(full, 15, 0, 220, 250);
  const variantSource = encodeJpeg(upright, 97);
  const v = (name: string) => `${VARIANT_IDENTITY}/${VARIANT_IDENTITY}_${name}`;
  add(v('grey.jpg'), greyJpeg(upright), 'a 1-component greyscale JPEG');
  add(v('cmyk.jpg'), cmykJpeg(upright), 'an Adobe CMYK JPEG (4 components)');
  add(v('grey.png'), facePng(upright, 'grey'), 'a greyscale PNG');
  add(v('16bit.png'), facePng(upright, 'rgb16'), 'a 16-bit-per-sample RGB PNG');
  add(v('alpha.png'), facePng(upright, 'alpha'), 'an RGBA PNG with transparent corners');
  const other = crop(decodeJpegRgba(lfwFace('Abdullah', 1)), 15, 0, 220, 250);
  add(v('animated.gif'), animatedGreyGif([upright, other]), 'an animated GIF (first frame: the face)');
  add(v('large.png'), encodePngRaw(LARGE_SIDE, LARGE_SIDE, 2, 8, largeRows(upright, LARGE_SIDE)), `a ${LARGE_SIDE} x ${LARGE_SIDE} PNG of the face`);
  for (let o = 1; o <= 8; o++) add(v(`exif${o}.jpg`), withExifOrientation(encodeJpeg(storedForOrientation(upright, o), 95), o), `EXIF orientation ${o}`);

  // A face in a folder whose name is HTML (the label is rendered in the identity list).
  add(`${HOSTILE_NAME}/${HOSTILE_FOLDER_FACE}_0001.jpg`, lfwFace(HOSTILE_FOLDER_FACE, 1), 'a face in a folder named like HTML');

  // The bad ones.
  const enc = (s: string) => new TextEncoder().encode(s);
  const b = (name: string) => `Broken/${name}`;
  add(b('empty.jpg'), new Uint8Array(0), 'an empty file', { code: 'empty-file', message: /empty \(0 bytes\)/ });
  add(b('notes.jpg'), enc('Shopping list:\n- milk\n- eggs\nThis is plain text with a .jpg name.\n'), 'text named .jpg', { code: 'not-an-image', message: /its content is text/ });
  add(b('report.jpg'), enc('%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n'), 'a PDF named .jpg', {
    code: 'not-an-image',
    message: /PDF document/,
  });
  add(b('drawing.jpg'), enc('<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="100" height="100"><circle cx="50" cy="50" r="40"/></svg>\n'), 'an SVG named .jpg', {
    code: 'unsupported-image',
    message: /SVG drawing/,
  });
  add(b('page.jpg'), enc('<!DOCTYPE html>\n<html><head><title>x</title></head><body><script>alert(1)</script></body></html>\n'), 'an HTML page named .jpg', {
    code: 'not-an-image',
    message: /HTML page/,
  });
  const jpg = lfwFace('Abner_Martinez', 1);
  add(b('truncated.jpg'), jpg.slice(0, Math.floor(jpg.length * 0.45)), 'a JPEG cut off at 45%', { code: 'corrupt-image', message: /truncated/ });
  add(b('bad-crc.png'), brokenCrcPng(decodeJpegRgba(lfwFace('Adam_Ant', 1))), 'a PNG whose IDAT CRC is wrong', { code: 'corrupt-image', message: /IDAT chunk fails its CRC check/ });
  add(
    b('one-pixel.png'),
    encodePngRaw(1, 1, 2, 8, () => Uint8Array.from([200, 100, 50])),
    'a 1 x 1 image',
    { code: 'image-too-small', message: /1 x 1 pixels/ },
  );
  add(b('bomb.png'), bombPng(60000, 60000), 'a PNG whose IHDR claims 60000 x 60000', { code: 'image-too-large', message: /60000 x 60000 pixels/ });
  add(b('huge.png'), hugePng(HUGE_SIDE), `a valid ${HUGE_SIDE} x ${HUGE_SIDE} PNG`, { code: 'image-too-large', message: new RegExp(`${HUGE_SIDE} x ${HUGE_SIDE} pixels`) });
  add(b('no-face.jpg'), encodeJpeg(noFaceScene(320, 240)), 'a picture with no face', { code: 'no-face', message: /no face/ });
  add(b('ten-faces.jpg'), encodeJpeg(tenFaceGrid()), 'ten faces tiled in one picture', { code: 'several-faces', message: /\b([2-9]|1\d) faces\b/ });
  add(b(`${HOSTILE_NAME}.jpg`), enc('not a picture, just a file with a hostile name'), 'text under an HTML-like name', { code: 'not-an-image', message: /not an image/ });
  add('notes.txt', enc('a note left in the folder'), 'a .txt file', { code: 'not-an-image', message: /not an image/ });

  const bad = files.filter((f) => f.expect);
  const good = files.filter((f) => !f.expect && f.path !== dupB);
  const variants = files.filter((f) => f.path.startsWith(`${VARIANT_IDENTITY}/`));
  return { files, good, bad, duplicatePair: [dupA, dupB], orientations: variants.filter((f) => /_exif\d\.jpg$/.test(f.path)), variants, variantSource };
}

/** Rows of the face blown up to side x side (nearest neighbour, computed row by row: the whole image is 147 MB). */
function largeRows(img: Rgba, side: number): (y: number) => Uint8Array {
  const row = new Uint8Array(3 * side);
  const xs = Int32Array.from({ length: side }, (_, x) => Math.min(img.width - 1, Math.floor((x * img.width) / side)));
  return (y) => {
    const sy = Math.min(img.height - 1, Math.floor((y * img.height) / side));
    for (let x = 0; x < side; x++) {
      const s = (sy * img.width + xs[x]) * 4;
      row[3 * x] = img.data[s];
      row[3 * x + 1] = img.data[s + 1];
      row[3 * x + 2] = img.data[s + 2];
    }
    return row;
  };
}

/** Sky, ground and a few boxes: a valid photo-sized picture with nothing face-like in it. */
function noFaceScene(w: number, h: number): Rgba {
  const d = new Uint8Array(w * h * 4);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 4;
      const sky = y < h * 0.55;
      const house = x > 60 && x < 140 && y > 80 && y < 170;
      const tree = (x - 240) ** 2 + (y - 100) ** 2 < 35 ** 2;
      const [r, g, b] = house ? [170, 60, 40] : tree ? [30, 120, 40] : sky ? [110 + y / 3, 160 + y / 4, 235] : [70 + (x % 13), 140, 60];
      d.set([r, g, b, 255], i);
    }
  return { width: w, height: h, data: d };
}

/** Ten LFW faces (their central 150 x 150) in a 4 x 3 grid; the last two cells are plain grey. */
function tenFaceGrid(): Rgba {
  const people = [
    'Aaron_Tippin',
    'Abba_Eban',
    'Abdul_Majeed_Shobokshi',
    'Abdullah_Nasseef',
    'Abel_Pacheco',
    'Adolfo_Aguilar_Zinser',
    'Ahmad_Jbarah',
    'Ahmed_Ahmed',
    'Aiysha_Smith',
    'Alastair_Campbell',
  ];
  const cell = 150,
    cols = 4,
    rows = 3;
  const out = new Uint8Array(cols * cell * rows * cell * 4).fill(128);
  const W = cols * cell;
  people.forEach((id, k) => {
    const face = crop(decodeJpegRgba(lfwFace(id, 1)), 50, 50, cell, cell);
    const ox = (k % cols) * cell,
      oy = Math.floor(k / cols) * cell;
    for (let y = 0; y < cell; y++) out.set(face.data.subarray(y * cell * 4, (y + 1) * cell * 4), ((oy + y) * W + ox) * 4);
  });
  return { width: W, height: rows * cell, data: out };
}

// ---------------------------------------------------------------- on disk and zipped

/** Writes the files under a fresh temporary folder named `name`; returns that folder. */
export function writeTree(name: string, files: readonly { path: string; bytes: Uint8Array }[]): string {
  const root = join(mkdtempSync(join(tmpdir(), 'dfemd-bad-')), name);
  mkdirSync(root, { recursive: true });
  for (const f of files) {
    const p = join(root, ...f.path.split('/'));
    mkdirSync(dirname(p), { recursive: true });
    writeFileSync(p, f.bytes);
  }
  return root;
}

/** An empty temporary folder. */
export function emptyFolder(): string {
  const root = join(mkdtempSync(join(tmpdir(), 'dfemd-empty-')), 'Empty');
  mkdirSync(root);
  return root;
}

/**
 * The files inside a zip under nested folders ("export/2024/<path>"), with
 * __MACOSX resource forks, .DS_Store files and empty folder entries. Stored,
 * not deflated (fast for the 16000 px file's already-compressed bytes).
 */
export function zipWithJunk(files: readonly { path: string; bytes: Uint8Array }[], nest = 'export/2024'): Uint8Array {
  const entries: Record<string, Uint8Array | [Uint8Array, { level: 0 }]> = {};
  const junk = new Uint8Array([0, 5, 22, 7, 0, 2, 0, 0, ...new Array(40).fill(0)]);
  for (const f of files) {
    entries[`${nest}/${f.path}`] = [f.bytes, { level: 0 }];
    const dir = dirname(`${nest}/${f.path}`);
    const base = f.path.slice(f.path.lastIndexOf('/') + 1);
    entries[`__MACOSX/${dir}/._${base}`] = [junk, { level: 0 }];
  }
  entries[`${nest}/.DS_Store`] = [junk, { level: 0 }];
  entries['.DS_Store'] = [junk, { level: 0 }];
  entries[`${nest}/Empty/`] = [new Uint8Array(0), { level: 0 }];
  return zipSync(entries);
}

// ---------------------------------------------------------------- hostile zips and damaged exports (issue 15)

/** Unpacked size of the zip bomb: 1 GB of zeros, about 6 MB zipped (made in a second or two, never written unpacked). */
export const BOMB_BYTES = 1e9;
/** The folder name a hostile zip uses as an identity; the file in it has a backslash in its name. */
export const HOSTILE_ZIP_FOLDER = '<img src=x>';
export const BACKSLASH_FILE = '<script>a<\\script>.jpg';

export interface HostileZips {
  /** The zips to drop ("bomb.zip", "hostile.zip"). */
  readonly files: { path: string; bytes: Uint8Array }[];
  /** Every entry that must be listed, by its path in the problems list. */
  readonly refused: { file: string; code: string; message: RegExp }[];
  /** The one entry that must be indexed, and its label. */
  readonly indexed: { file: string; label: string };
}

/**
 * A 1 GB zip bomb, and a zip whose entries climb out of it ("../"), are
 * absolute, compress 1000:1, lie about their size (50 MB of zeros declared
 * as 1,000 bytes) or fail their CRC, next to one good face in a folder named
 * like HTML whose file name holds a backslash.
 */
export function hostileZips(): HostileZips {
  const face = lfwFace(HOSTILE_FOLDER_FACE);
  const other = lfwFace('Aaron_Tippin');
  const damaged = other.slice();
  damaged[damaged.length >> 1] ^= 0x10;
  const crcOfOriginal = storedEntry('Crc/Aaron_Tippin_0001.jpg', other).crc;
  const hostile = zipOfRaw([
    storedEntry(`${HOSTILE_ZIP_FOLDER}/${BACKSLASH_FILE}`, face),
    storedEntry('../../escape/Aaron_Tippin_0001.jpg', other),
    storedEntry('/abs/Aaron_Tippin/Aaron_Tippin_0001.jpg', other),
    zerosEntry('Flat/flat.bmp', 20e6),
    zerosEntry('Liar/liar.jpg', 50e6),
    { ...storedEntry('Crc/Aaron_Tippin_0001.jpg', damaged), crc: crcOfOriginal },
  ]);
  return {
    files: [
      { path: 'bomb.zip', bytes: zerosZip('zeros.jpg', BOMB_BYTES) },
      { path: 'hostile.zip', bytes: withEntryHeader(hostile, 'Liar/liar.jpg', { size: 1000 }) },
    ],
    refused: [
      { file: 'bomb/zeros.jpg', code: 'archive-limit', message: /not unpacked: it would unpack to 1 GB, over the 200 MB limit for one file/ },
      { file: 'hostile/../../escape/Aaron_Tippin_0001.jpg', code: 'unsafe-path', message: /not imported: its path climbs out of the archive's folder/ },
      { file: 'hostile//abs/Aaron_Tippin/Aaron_Tippin_0001.jpg', code: 'unsafe-path', message: /not imported: its path is absolute/ },
      { file: 'hostile/Flat/flat.bmp', code: 'archive-limit', message: /would unpack to 20 MB \(\d+:1, over the 100:1 limit; .*zip bomb\)/ },
      { file: 'hostile/Liar/liar.jpg', code: 'corrupt-archive', message: /it unpacks to more than the 1000 bytes its header declares/ },
      { file: 'hostile/Crc/Aaron_Tippin_0001.jpg', code: 'corrupt-archive', message: /its CRC-32 is [0-9a-f]{8}, but the archive records [0-9a-f]{8}/ },
    ],
    indexed: { file: `hostile/${HOSTILE_ZIP_FOLDER}/${BACKSLASH_FILE}`, label: HOSTILE_ZIP_FOLDER },
  };
}

/** `bytes` with `n` bytes in the middle XOR-ed with a pattern (never with 0, so every one changes). */
export function xorMiddle(bytes: Uint8Array, n = 256): Uint8Array {
  const out = bytes.slice();
  const start = (out.length - n) >> 1;
  for (let i = 0; i < n; i++) out[start + i] ^= (i * 37 + 11) & 0xff || 1;
  return out;
}

const sha256Hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * A gallery export edited as a careful tamperer would: every face's
 * embedding cut to `dim` floats, index.json and the .f32 entries agreeing,
 * and every checksum (schema 2) written afresh, so only the shape check can
 * tell.
 */
export function withEmbeddingSize(exportZip: Uint8Array, dim: number): Uint8Array {
  const files = unzipSync(exportZip);
  const index = JSON.parse(strFromU8(files['index.json'])) as { faces: Record<string, unknown>[] };
  for (const [i, face] of index.faces.entries()) {
    const name = `faces/${String(i).padStart(6, '0')}`;
    const floats = new Float32Array(files[`${name}.f32`].slice().buffer);
    const kept = Number(face.dim);
    const cut = new Float32Array(floats.length - kept + dim);
    cut.set(floats.subarray(0, dim));
    cut.set(floats.subarray(kept), dim);
    files[`${name}.f32`] = new Uint8Array(cut.buffer);
    face.dim = dim;
    face.featuresSha256 = sha256Hex(files[`${name}.f32`]);
  }
  files['index.json'] = strToU8(JSON.stringify(index));
  files['index.sha256'] = strToU8(sha256Hex(files['index.json']));
  return zipSync(files, { level: 0 });
}

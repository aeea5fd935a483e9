/**
 * EXIF orientation (tag 0x0112) of a JPEG. Phones store the sensor's pixels
 * as shot and record here how to turn them upright; ignoring it feeds the
 * detector sideways faces. Browsers apply it themselves when they decode
 * (createImageBitmap, imageOrientation 'from-image'), so the app never reads
 * it; the Node decoder of the tests and benches (jpeg-js) does not, so they
 * read it here and turn the pixels with orient.ts.
 */

const ORIENTATION_TAG = 0x0112;
const TYPE_SHORT = 3;

/**
 * `app1` is the APP1 payload (after the marker and length). Returns 1-8, or 1
 * when the segment is not EXIF or holds no valid orientation: a damaged EXIF
 * block must not stop the photo from being used.
 */
export function readJpegOrientation(app1: Uint8Array): number {
  // "Exif\0\0" then a TIFF header.
  if (app1.length < 14) return 1;
  if (app1[0] !== 0x45 || app1[1] !== 0x78 || app1[2] !== 0x69 || app1[3] !== 0x66 || app1[4] !== 0 || app1[5] !== 0) return 1;
  const tiff = app1.subarray(6);
  const little = tiff[0] === 0x49 && tiff[1] === 0x49;
  const big = tiff[0] === 0x4d && tiff[1] === 0x4d;
  if (!little && !big) return 1;
  const u16 = (i: number) => (little ? tiff[i] | (tiff[i + 1] << 8) : (tiff[i] << 8) | tiff[i + 1]);
  const u32 = (i: number) => (little ? tiff[i] | (tiff[i + 1] << 8) | (tiff[i + 2] << 16) | (tiff[i + 3] << 24) : (tiff[i] << 24) | (tiff[i + 1] << 16) | (tiff[i + 2] << 8) | tiff[i + 3]) >>> 0;
  if (u16(2) !== 42) return 1;
  const ifd0 = u32(4);
  if (ifd0 + 2 > tiff.length) return 1;
  const count = u16(ifd0);
  for (let k = 0; k < count; k++) {
    const entry = ifd0 + 2 + 12 * k;
    if (entry + 12 > tiff.length) return 1;
    if (u16(entry) !== ORIENTATION_TAG) continue;
    if (u16(entry + 2) !== TYPE_SHORT) return 1;
    // A single SHORT sits left-aligned in the 4-byte value field.
    const value = u16(entry + 8);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/**
 * The orientation of a whole JPEG file: the first APP1 segment before the scan
 * that holds a valid one (an XMP APP1 may come first), else 1. The file is
 * assumed to have passed readImageHeader; anything this walk does not expect
 * just ends it with 1.
 */
export function jpegOrientation(bytes: Uint8Array): number {
  let i = 2;
  while (i + 4 <= bytes.length && bytes[i] === 0xff) {
    const marker = bytes[i + 1];
    if (marker === 0xff) {
      i += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2; // markers without a length
      continue;
    }
    // Start of scan or end of image: EXIF comes before either.
    if (marker === 0xda || marker === 0xd9) return 1;
    const len = (bytes[i + 2] << 8) | bytes[i + 3];
    if (len < 2 || i + 2 + len > bytes.length) return 1;
    if (marker === 0xe1) {
      const o = readJpegOrientation(bytes.subarray(i + 4, i + 2 + len));
      if (o !== 1) return o;
    }
    i += 2 + len;
  }
  return 1;
}

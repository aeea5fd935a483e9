/**
 * Real aligned faces for whole-model parity: the paper authors' sample in
 * ../shared/data/paper-small (5 identities x 2, 128x128 JPEG), decoded and
 * bilinearly resized to a model's input size. Read in place, never copied.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import jpeg from 'jpeg-js';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const FACES_DIR = resolve(REPO_ROOT, '../shared/data/paper-small/lfw-align-128');

export interface RgbFace {
  readonly identity: string;
  readonly file: string;
  readonly size: number;
  /** size x size x 3, row-major RGB 0..255. */
  readonly rgb: Float32Array;
}

function bilinearResize(src: Uint8Array, sw: number, sh: number, size: number): Float32Array {
  const out = new Float32Array(size * size * 3);
  for (let y = 0; y < size; y++) {
    const fy = Math.min(Math.max(((y + 0.5) * sh) / size - 0.5, 0), sh - 1);
    const y0 = Math.floor(fy);
    const y1 = Math.min(y0 + 1, sh - 1);
    const wy = fy - y0;
    for (let x = 0; x < size; x++) {
      const fx = Math.min(Math.max(((x + 0.5) * sw) / size - 0.5, 0), sw - 1);
      const x0 = Math.floor(fx);
      const x1 = Math.min(x0 + 1, sw - 1);
      const wx = fx - x0;
      for (let c = 0; c < 3; c++) {
        const p = (yy: number, xx: number) => src[(yy * sw + xx) * 4 + c];
        const top = p(y0, x0) * (1 - wx) + p(y0, x1) * wx;
        const bottom = p(y1, x0) * (1 - wx) + p(y1, x1) * wx;
        // Whole values, as an 8-bit image would give both models.
        out[(y * size + x) * 3 + c] = Math.round(top * (1 - wy) + bottom * wy);
      }
    }
  }
  return out;
}

/** Loads `count` faces (sorted, so runs are repeatable), resized to size x size. */
export function loadRealFaces(size: number, count: number): RgbFace[] {
  if (!existsSync(FACES_DIR)) {
    throw new Error(`Test data missing: ${FACES_DIR} does not exist. The TF.js parity tests need the shared data set at ../shared/data ` + '(relative to the repository root); see its README.');
  }
  const files = readdirSync(FACES_DIR)
    .sort()
    .flatMap((id) =>
      readdirSync(join(FACES_DIR, id))
        .sort()
        .map((f) => ({ id, f })),
    );
  if (files.length < count) throw new Error(`Only ${files.length} faces in ${FACES_DIR}, the test needs ${count}`);
  return files.slice(0, count).map(({ id, f }) => {
    const img = jpeg.decode(readFileSync(join(FACES_DIR, id, f)), { useTArray: true, formatAsRGBA: true });
    return { identity: id, file: f, size, rgb: bilinearResize(img.data, img.width, img.height, size) };
  });
}

/** Stacks faces as an NHWC batch (what TF.js takes). */
export function toNhwc(faces: readonly RgbFace[]): Float32Array {
  const n = faces[0].rgb.length;
  const out = new Float32Array(faces.length * n);
  faces.forEach((f, i) => out.set(f.rgb, i * n));
  return out;
}

/** NCHW batch with (x - mean[c]) / std[c] per channel, channels in `order` (what the ONNX graphs take). */
export function toNchwNormalised(faces: readonly RgbFace[], mean: readonly number[], std: readonly number[], order: 'RGB' | 'BGR'): Float32Array {
  const size = faces[0].size;
  const plane = size * size;
  const out = new Float32Array(faces.length * 3 * plane);
  faces.forEach((f, i) => {
    for (let c = 0; c < 3; c++) {
      const srcC = order === 'RGB' ? c : 2 - c;
      for (let p = 0; p < plane; p++) out[(i * 3 + c) * plane + p] = (f.rgb[p * 3 + srcC] - mean[c]) / std[c];
    }
  });
  return out;
}

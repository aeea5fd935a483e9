/**
 * Node side of the GPU specs: real 7x7x512 patch maps from the default model
 * on ../shared/data/lfw-mini. JPEGs are decoded with jpeg-js, centre-cropped
 * and resized to 112 x 112 RGB, normalised (x - 127) / 128 in NCHW, and run
 * through public/models/mobilefacenet-arcface.onnx with onnxruntime-web's
 * WASM backend in Node. (No face alignment: the kernels only need realistic
 * feature statistics, not good identification.)
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import * as ort from 'onnxruntime-web';

export const LFW_MINI = resolve(process.cwd(), '../shared/data/lfw-mini');
export const RECOGNIZER = resolve(process.cwd(), 'public/models/mobilefacenet-arcface.onnx');
const SIDE = 112;
/** LFW deep-funneled images are 250 px with the face in the middle ~120 px. */
const CROP = 150;

export interface RealFeatures {
  readonly files: string[];
  readonly labels: string[];
  /** images x 512 embeddings. */
  readonly embeddings: Float32Array;
  /** images x 49 x 512, patch-major (row p = y * 7 + x), raw. */
  readonly patches: Float32Array;
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

export function requireTestData(): void {
  if (!existsSync(LFW_MINI)) {
    throw new Error(`Test data missing: ${LFW_MINI} does not exist. These GPU tests need ../shared/data/lfw-mini (the shared data folder beside the repository).`);
  }
  if (!existsSync(RECOGNIZER)) {
    throw new Error(`Model missing: ${RECOGNIZER}. Build it with \`npx tsx scripts/models/build.ts --if-stale\`.`);
  }
}

function listImages(limit: number): { file: string; label: string }[] {
  const out: { file: string; label: string }[] = [];
  for (const person of readdirSync(LFW_MINI).sort()) {
    for (const f of readdirSync(join(LFW_MINI, person)).sort()) {
      if (f.toLowerCase().endsWith('.jpg')) out.push({ file: join(LFW_MINI, person, f), label: person });
    }
  }
  return out.slice(0, limit);
}

/** Centre crop of CROP px, bilinear resize to 112, (x - 127) / 128, NCHW RGB. */
function toInput(file: string, into: Float32Array, offset: number): void {
  const img = jpeg.decode(readFileSync(file), { useTArray: true, formatAsRGBA: true });
  const side = Math.min(CROP, img.width, img.height);
  const x0 = (img.width - side) / 2;
  const y0 = (img.height - side) / 2;
  const plane = SIDE * SIDE;
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const sx = Math.min(img.width - 1.001, Math.max(0, x0 + ((x + 0.5) * side) / SIDE - 0.5));
      const sy = Math.min(img.height - 1.001, Math.max(0, y0 + ((y + 0.5) * side) / SIDE - 0.5));
      const ix = Math.floor(sx);
      const iy = Math.floor(sy);
      const fx = sx - ix;
      const fy = sy - iy;
      for (let ch = 0; ch < 3; ch++) {
        const at = (xx: number, yy: number) => img.data[(yy * img.width + xx) * 4 + ch];
        const v = (1 - fy) * ((1 - fx) * at(ix, iy) + fx * at(ix + 1, iy)) + fy * ((1 - fx) * at(ix, iy + 1) + fx * at(ix + 1, iy + 1));
        into[offset + ch * plane + y * SIDE + x] = (v - 127) / 128;
      }
    }
  }
}

export async function computeRealFeatures(limit: number): Promise<RealFeatures> {
  requireTestData();
  const images = listImages(limit);
  ort.env.wasm.numThreads = 1;
  const session = await ort.InferenceSession.create(readFileSync(RECOGNIZER), { executionProviders: ['wasm'] });
  const b = images.length;
  const input = new Float32Array(b * 3 * SIDE * SIDE);
  images.forEach((im, i) => toInput(im.file, input, i * 3 * SIDE * SIDE));
  const out = await session.run({ input: new ort.Tensor('float32', input, [b, 3, SIDE, SIDE]) });
  const emb = out['output'];
  const map = out['507'];
  const [, c, h, w] = map.dims as number[];
  const nchw = map.data as Float32Array;
  const patches = new Float32Array(b * h * w * c);
  for (let i = 0; i < b; i++) {
    for (let ch = 0; ch < c; ch++) {
      for (let p = 0; p < h * w; p++) patches[(i * h * w + p) * c + ch] = nchw[(i * c + ch) * h * w + p];
    }
  }
  await session.release();
  return { files: images.map((i) => i.file), labels: images.map((i) => i.label), embeddings: Float32Array.from(emb.data as Float32Array), patches, h, w, c };
}

export function toBase64(a: Float32Array): string {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
}

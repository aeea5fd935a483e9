/**
 * The built recognizer must be the source network, plus a second output that
 * really is the last feature map. References: the untouched source ONNX file
 * from the npm package, and the source graph's tail recomputed here in plain
 * float64 loops from the source's own weights.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModel, type Model } from '../../../scripts/models/onnxGraph.ts';
import { SOURCES, packageDir, sha256 } from '../../../scripts/models/sources.ts';
import { parseManifest } from '../../../src/models/manifestSchema.ts';
import { recognizerEntry } from '../../../src/models/recognizers.ts';
import { modelEntry } from '../face/helpers/models.ts';
import { listIdentityImages, repoRoot, requireSharedData } from '../../support/sharedData.ts';
import { readJpeg, resizeRgba, toNchw } from '../../support/nodeImage.ts';
import { referenceCosine } from '../../support/vectors.ts';

const manifest = parseManifest(readFileSync(join(repoRoot, 'public/models/manifest.json'), 'utf8'));
const entry = recognizerEntry(manifest, 'mobilefacenet-arcface');
const sourcePath = join(packageDir(SOURCES.frFeature.package), SOURCES.frFeature.file);

/** A float32 initializer of the source model (rawData or floatData), for recomputing its tail. */
function readFloatInitializer(model: Model, name: string): { dims: number[]; data: Float32Array } {
  const init = model.graph?.initializer?.find((t) => t.name === name);
  if (!init) throw new Error(`The source model has no initializer named "${name}"`);
  const dims = (init.dims ?? []).map((d) => Number(d));
  if (init.rawData && init.rawData.length) {
    // A copy, so the floats start on a 4-byte boundary whatever the offset of rawData in the file.
    const copy = new Uint8Array(init.rawData);
    return { dims, data: new Float32Array(copy.buffer, 0, copy.byteLength / 4) };
  }
  return { dims, data: Float32Array.from(init.floatData ?? []) };
}

let built: ort.InferenceSession;
let source: ort.InferenceSession;
let faces: Float32Array; // 8 faces, NCHW
const N_FACES = 8;
const PER = 3 * 112 * 112;

beforeAll(async () => {
  built = await ort.InferenceSession.create(readFileSync(join(repoRoot, 'public/models', entry.file)));
  source = await ort.InferenceSession.create(readFileSync(sourcePath));
  const imgs = listIdentityImages(requireSharedData('paper-small/lfw-align-128')).slice(0, N_FACES);
  expect(imgs.length).toBe(N_FACES);
  faces = toNchw(
    imgs.map((i) => resizeRgba(readJpeg(i.path), 112, 112)),
    entry.normalisation.mean,
    entry.normalisation.std,
  );
});

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

describe('mobilefacenet-arcface build', () => {
  it('records the source checksum and its own output checksum in the manifest', () => {
    expect(entry.source.sha256).toBe(sha256(readFileSync(sourcePath)));
    expect(entry.sha256).toBe(sha256(readFileSync(join(repoRoot, 'public/models', entry.file))));
    expect(entry.patchGrids).toEqual([{ output: '507', h: 7, w: 7, c: 512 }]);
  });

  it('gives the source model embedding on real faces (max abs diff <= 1e-4)', async () => {
    for (let b = 0; b < N_FACES; b++) {
      const x = new ort.Tensor('float32', faces.slice(b * PER, (b + 1) * PER), [1, 3, 112, 112]);
      const ref = (await source.run({ input: x })).output.data as Float32Array;
      const got = (await built.run({ input: x })).output.data as Float32Array;
      expect(maxAbsDiff(got, ref)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('batch 4 gives the same rows as batch 1', async () => {
    const batch = await built.run({ input: new ort.Tensor('float32', faces.slice(0, 4 * PER), [4, 3, 112, 112]) });
    expect(batch.output.dims).toEqual([4, 512]);
    expect(batch['507'].dims).toEqual([4, 512, 7, 7]);
    for (let b = 0; b < 4; b++) {
      const one = await built.run({ input: new ort.Tensor('float32', faces.slice(b * PER, (b + 1) * PER), [1, 3, 112, 112]) });
      const rowE = (batch.output.data as Float32Array).subarray(b * 512, (b + 1) * 512);
      const rowP = (batch['507'].data as Float32Array).subarray(b * 512 * 49, (b + 1) * 512 * 49);
      expect(maxAbsDiff(rowE, one.output.data as Float32Array)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(rowP, one['507'].data as Float32Array)).toBeLessThanOrEqual(1e-4);
    }
  });

  it('second output is the map the embedding is computed from: the source tail rebuilds the embedding', async () => {
    // Source tail after tensor 507: Conv(663,664) depthwise 7x7 (group 512, no pad) -> Conv(666,667) 1x1 -> Reshape.
    const src = decodeModel(readFileSync(sourcePath));
    const dw = readFloatInitializer(src, '663');
    const dwB = readFloatInitializer(src, '664');
    const pw = readFloatInitializer(src, '666');
    const pwB = readFloatInitializer(src, '667');
    expect(dw.dims).toEqual([512, 1, 7, 7]);
    expect(pw.dims).toEqual([512, 512, 1, 1]);
    const out = await built.run({ input: new ort.Tensor('float32', faces.slice(0, 2 * PER), [2, 3, 112, 112]) });
    const map = out['507'].data as Float32Array;
    const emb = out.output.data as Float32Array;
    for (let b = 0; b < 2; b++) {
      const g = new Float64Array(512);
      for (let c = 0; c < 512; c++) {
        let s = dwB.data[c];
        for (let i = 0; i < 49; i++) s += dw.data[c * 49 + i] * map[b * 512 * 49 + c * 49 + i];
        g[c] = s;
      }
      const rebuilt = new Float64Array(512);
      for (let o = 0; o < 512; o++) {
        let s = pwB.data[o];
        for (let c = 0; c < 512; c++) s += pw.data[o * 512 + c] * g[c];
        rebuilt[o] = s;
      }
      expect(maxAbsDiff(rebuilt, emb.subarray(b * 512, (b + 1) * 512))).toBeLessThanOrEqual(1e-4);
    }
  });

  it('same-person faces are closer than different-person faces (sanity of preprocessing)', async () => {
    const out = await built.run({ input: new ort.Tensor('float32', faces.slice(0, 4 * PER), [4, 3, 112, 112]) });
    const e = out.output.data as Float32Array;
    const row = (i: number) => e.subarray(i * 512, (i + 1) * 512);
    const cos = (i: number, j: number) => referenceCosine(row(i), row(j));
    // Faces 0,1 are one person and 2,3 another (two images per identity in paper-small).
    expect(cos(0, 1)).toBeGreaterThan(cos(0, 2));
    expect(cos(2, 3)).toBeGreaterThan(cos(1, 3));
  });
});

describe('the WebGPU file of mobilefacenet-arcface', () => {
  it("has no PRelu left and gives exactly the main file's outputs on real faces", async () => {
    const webgpu = entry.webgpu;
    if (!webgpu) throw new Error('the manifest lists no WebGPU file for mobilefacenet-arcface: rebuild with `npm run models`');
    const bytes = readFileSync(join(repoRoot, 'public/models', webgpu.file));
    expect(sha256(bytes)).toBe(webgpu.sha256);
    const ops = new Set((decodeModel(bytes).graph?.node ?? []).map((n) => n.opType));
    expect(ops.has('PRelu')).toBe(false);
    const rewritten = await ort.InferenceSession.create(bytes);
    const feeds = { [entry.input.name]: new ort.Tensor('float32', faces, [N_FACES, 3, 112, 112]) };
    const [a, b] = [await built.run(feeds), await rewritten.run(feeds)];
    for (const o of entry.outputs) expect(maxAbsDiff(a[o.name].data as Float32Array, b[o.name].data as Float32Array)).toBe(0);
  });
});

describe('detector and landmark builds', () => {
  it('the landmark model is the package file byte for byte, and runs', async () => {
    const e = modelEntry('pfld-landmarks68');
    const bytes = readFileSync(join(repoRoot, 'public/models', e.file));
    expect(sha256(bytes)).toBe(e.source.sha256);
    const s = await ort.InferenceSession.create(bytes);
    const x = new ort.Tensor('float32', new Float32Array(e.input.shape.reduce((a, b) => a * b, 1)), e.input.shape);
    const r = await s.run({ [e.input.name]: x });
    for (const o of e.outputs) expect(r[o.name].dims).toEqual(o.shape);
  });

  it("the detector gives exactly the package file's scores and boxes on a real photo, its open-ended slices written as INT32_MAX", async () => {
    const e = modelEntry('ultraface-detector');
    const bytes = readFileSync(join(repoRoot, 'public/models', e.file));
    const src = readFileSync(join(packageDir(SOURCES.frDetect.package), SOURCES.frDetect.file));
    expect(sha256(src)).toBe(e.source.sha256);
    const ends = (m: Model) =>
      (m.graph?.node ?? []).filter((n) => n.opType === 'Slice').flatMap((n) => (n.attribute ?? []).filter((a) => a.name === 'ends').flatMap((a) => (a.ints ?? []).map(Number)));
    expect(Math.max(...ends(decodeModel(src)))).toBeGreaterThan(2 ** 62);
    expect(Math.max(...ends(decodeModel(bytes)))).toBe(2 ** 31 - 1);
    const [, , h, w] = e.input.shape;
    const img = listIdentityImages(requireSharedData('lfw-mini'))[0];
    const x = new ort.Tensor('float32', toNchw([resizeRgba(readJpeg(img.path), w, h)], e.normalisation.mean, e.normalisation.std), e.input.shape);
    const [a, b] = [await (await ort.InferenceSession.create(bytes)).run({ [e.input.name]: x }), await (await ort.InferenceSession.create(src)).run({ [e.input.name]: x })];
    for (const o of e.outputs) {
      expect(a[o.name].dims).toEqual(o.shape);
      expect(maxAbsDiff(a[o.name].data as Float32Array, b[o.name].data as Float32Array)).toBe(0);
    }
  });
});

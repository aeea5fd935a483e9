/**
 * The face models on onnxruntime-web's WebGPU backend give what its WASM
 * backend gives, through the app's own loader and face code, on a real photo.
 * WASM is the independent reference here: ORT's CPU kernels, not the WGSL
 * ones. Until the model build clamped the detector's open-ended Slices, the
 * detector failed on WebGPU (and with graph optimisation off gave boxes 0.11
 * off), so a user whose GPU was chosen could index nothing.
 * FaceRes is left out: on SwiftShader one run takes minutes.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { LFW_MINI, requireTestData } from './realFeatures.ts';
import { SOURCES, packageDir } from '../../scripts/models/sources.ts';

/** The real photo both tests run on, for the page. */
function photoBase64(): string {
  requireTestData();
  return readFileSync(join(LFW_MINI, 'Aaron_Tippin/Aaron_Tippin_0001.jpg')).toString('base64');
}

test('detector, landmarks and MobileFaceNet agree on WebGPU and WASM for a real photo', async ({ page }) => {
  const photo = photoBase64();
  await page.goto('/tests/gpu/harness.html');
  const r = await page.evaluate(async (jpegBase64) => {
    // A path the page's Vite server resolves; typed as a plain string so that tsc does not look it up as a module.
    const modulesUrl: string = '/tests/gpu/faceModules.ts';
    const { browserLoaderDeps, loadModel, readManifest, decodeImageBytes, FaceDetector, LandmarkModel, Recognizer, FacePipeline }: typeof import('./faceModules.ts') = await import(modulesUrl);

    const bytes = Uint8Array.from(atob(jpegBase64), (c) => c.charCodeAt(0));
    const { image } = await decodeImageBytes(bytes, 'Aaron_Tippin_0001.jpg');
    const manifest = await readManifest(browserLoaderDeps);
    const entry = (id: string) => {
      const e = manifest.models.find((m) => m.id === id);
      if (!e) throw new Error(`${id} is not in the manifest`);
      return e;
    };
    const run = async (backend: 'webgpu' | 'wasm') => {
      const load = (id: string) => loadModel(browserLoaderDeps, entry(id), backend);
      const [det, lmk, rec] = await Promise.all([load('ultraface-detector'), load('pfld-landmarks68'), load('mobilefacenet-arcface')]);
      const pipeline = new FacePipeline({ detector: new FaceDetector(det.session), landmarks: new LandmarkModel(lmk.session), recognizer: new Recognizer(rec.session, rec.entry) });
      const analysis = await pipeline.analyse(image, 'Aaron_Tippin_0001.jpg');
      const [features] = await pipeline.embed([analysis]);
      const face = analysis.faces[analysis.chosenIndex];
      return {
        backends: [det.backend, lmk.backend, rec.backend],
        fallback: [det.fallbackReason, lmk.fallbackReason, rec.fallbackReason].filter(Boolean),
        faces: analysis.faces.length,
        box: [face.box.x1, face.box.y1, face.box.x2, face.box.y2],
        score: face.score,
        landmarks: face.landmarks68.flat(),
        embedding: Array.from(features.embedding),
      };
    };
    return { webgpu: await run('webgpu'), wasm: await run('wasm') };
  }, photo);

  expect(r.webgpu.fallback).toEqual([]);
  expect(r.webgpu.backends).toEqual(['webgpu', 'webgpu', 'webgpu']);
  expect(r.webgpu.faces).toBe(r.wasm.faces);
  const maxAbs = (a: number[], b: number[]) => Math.max(...a.map((x, i) => Math.abs(x - b[i])));
  // Pixels of a 250 px photo; float32 sums in another order move them by far less than a pixel.
  expect(maxAbs(r.webgpu.box, r.wasm.box)).toBeLessThan(0.05);
  expect(Math.abs(r.webgpu.score - r.wasm.score)).toBeLessThan(1e-4);
  expect(maxAbs(r.webgpu.landmarks, r.wasm.landmarks)).toBeLessThan(0.05);
  const dot = r.webgpu.embedding.reduce((s, x, i) => s + x * r.wasm.embedding[i], 0);
  const norm = (v: number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  expect(dot / (norm(r.webgpu.embedding) * norm(r.wasm.embedding))).toBeGreaterThan(0.9999);
});

test('a model whose WebGPU run fails (the package detector, before the build fixed it) answers from WASM, with one notice', async ({ page }) => {
  const photo = photoBase64();
  const unfixedDetector = readFileSync(join(packageDir(SOURCES.frDetect.package), SOURCES.frDetect.file)).toString('base64');
  await page.goto('/tests/gpu/harness.html');
  const r = await page.evaluate(
    async ({ jpegBase64, modelBase64 }) => {
      const modulesUrl: string = '/tests/gpu/faceModules.ts';
      const { ort, WasmFallbackSession, decodeImageBytes, FaceDetector }: typeof import('./faceModules.ts') = await import(modulesUrl);
      const bytes = (b64: string) => Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const { image } = await decodeImageBytes(bytes(jpegBase64), 'Aaron_Tippin_0001.jpg');
      const model = bytes(modelBase64);
      const create = (backend: 'webgpu' | 'wasm') => ort.InferenceSession.create(model, { executionProviders: [backend], graphOptimizationLevel: 'all' });
      const notices: { code: string; message: string }[] = [];
      const session = new WasmFallbackSession(
        await create('webgpu'),
        () => create('wasm'),
        { id: 'ultraface-detector', file: 'face-detector.onnx' },
        (n) => notices.push(n),
      );
      const boxes = async (d: InstanceType<typeof FaceDetector>) => (await d.detect(image)).map((f) => [f.box.x1, f.box.y1, f.box.x2, f.box.y2, f.score]);
      const viaFallback = await boxes(new FaceDetector(session));
      const again = await boxes(new FaceDetector(session));
      const wasm = await boxes(new FaceDetector(await create('wasm')));
      return { viaFallback, again, wasm, notices, reason: session.fallbackReason };
    },
    { jpegBase64: photo, modelBase64: unfixedDetector },
  );
  expect(r.reason).toMatch(/Mul_164/);
  expect(r.notices).toHaveLength(1);
  expect(r.notices[0].code).toBe('webgpu-run-failed');
  expect(r.wasm.length).toBeGreaterThan(0);
  expect(r.viaFallback).toEqual(r.wasm);
  expect(r.again).toEqual(r.wasm);
});

test('the WASM-only build of onnxruntime-web, which the app runs WASM models on, gives the default build’s outputs', async ({ page }) => {
  const photo = photoBase64();
  await page.goto('/tests/gpu/harness.html');
  const r = await page.evaluate(async (jpegBase64) => {
    const modulesUrl: string = '/tests/gpu/faceModules.ts';
    const {
      browserLoaderDeps,
      loaderDepsFor,
      loadModel,
      readManifest,
      decodeImageBytes,
      FaceDetector,
      LandmarkModel,
      embedderFor,
      FacePipeline,
      DEFAULT_RECOGNIZER_ID,
      modelsToLoad,
      resolveRecognizer,
    }: typeof import('./faceModules.ts') = await import(modulesUrl);

    const bytes = Uint8Array.from(atob(jpegBase64), (c) => c.charCodeAt(0));
    const { image } = await decodeImageBytes(bytes, 'Aaron_Tippin_0001.jpg');
    const manifest = await readManifest(browserLoaderDeps);
    const active = resolveRecognizer(manifest, DEFAULT_RECOGNIZER_ID);
    const run = async (deps: typeof browserLoaderDeps) => {
      const byId = new Map();
      for (const e of modelsToLoad(manifest, active)) byId.set(e.id, await loadModel(deps, e, 'wasm'));
      const role = (r: string) => [...byId.values()].find((m) => m.entry.role === r).session;
      const pipeline = new FacePipeline({ detector: new FaceDetector(role('detector')), landmarks: new LandmarkModel(role('landmarks')), recognizer: embedderFor(active.id, byId) });
      const analysis = await pipeline.analyse(image, 'Aaron_Tippin_0001.jpg');
      const [features] = await pipeline.embed([analysis]);
      const face = analysis.faces[analysis.chosenIndex];
      return {
        box: [face.box.x1, face.box.y1, face.box.x2, face.box.y2, face.score],
        landmarks: face.landmarks68.flat(),
        embedding: Array.from(features.embedding),
        patches: Array.from(features.patches.data.subarray(0, 4096)),
      };
    };
    const wasmOnly = await loaderDepsFor('wasm');
    return { separate: wasmOnly.ort !== browserLoaderDeps.ort, fromDefault: await run(browserLoaderDeps), fromWasmOnly: await run(wasmOnly) };
  }, photo);

  expect(r.separate).toBe(true);
  // The same CPU kernels built twice: the same floats.
  expect(r.fromWasmOnly.box).toEqual(r.fromDefault.box);
  expect(r.fromWasmOnly.landmarks).toEqual(r.fromDefault.landmarks);
  expect(r.fromWasmOnly.embedding).toEqual(r.fromDefault.embedding);
  expect(r.fromWasmOnly.patches).toEqual(r.fromDefault.patches);
});

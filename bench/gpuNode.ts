/**
 * The app's WebGPU paths on a real GPU, without a browser. Dawn's Node
 * binding (the npm package `webgpu`, given by path so that it is no
 * dependency of the app) puts a `navigator.gpu` into Node; the engine's WGSL
 * kernels and onnxruntime-web's WebGPU backend (the JSEP build the app's
 * bundle loads) then run on it unchanged. Measures:
 *   - stage 2 (k 100; 7x7 and 4x4; reference and converged Sinkhorn) on the
 *     CPU and on WebGPU, and how far the GPU's scores are from the CPU's;
 *   - each ONNX model's run on WASM (one thread) and on WebGPU, and the
 *     largest difference between their outputs;
 *   - the default pipeline per photo (detect, landmarks, align, both
 *     recognizers) on each backend, as photos per second for one worker.
 *
 * It is bundled first (onnxruntime-web's Node entry has no WebGPU, and the
 * app's `?raw` WGSL imports need a loader), then run with Node:
 *   npx tsx bench/gpuNodeBuild.ts           # writes .cache/gpuNode/gpuNode.mjs
 *   node .cache/gpuNode/gpuNode.mjs --dawn DIR/webgpu/index.js --ort node_modules/onnxruntime-web/dist/
 *        --models public/models --images DIR [--photos N] [--json FILE]
 *        [--only stage2,models,pipeline] [--queries N] [--runs N] [--skip-models ID,...]
 *        [--faceres-maps FILE]   # also stage 2 on real FaceRes maps (bench/study/exportFaceresMaps.ts)
 * Without a GPU, point VK_ICD_FILENAMES at Chromium's SwiftShader ICD
 * (/usr/lib/chromium/vk_swiftshader_icd.json): correct, but no speed figure.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as ort from 'onnxruntime-web';
import { seededRandom } from '../src/core/random.ts';
import { DEFAULT_SETTINGS, type FaceFeatures, type RerankSettings, type SinkhornMode } from '../src/core/types.ts';
import { SearchEngine } from '../src/engine/searchEngine.ts';
import { CpuStage2Scorer } from '../src/engine/stage2Batch.ts';
import { FaceDetector } from '../src/face/detector.ts';
import { FusedRecognizer } from '../src/face/fusedRecognizer.ts';
import { LandmarkModel } from '../src/face/landmarks.ts';
import { FacePipeline } from '../src/face/pipeline.ts';
import { Recognizer } from '../src/face/recognizer.ts';
import { GpuStage2 } from '../src/gpu/gpuStage2.ts';
import { sha256Hex } from '../src/core/hash.ts';
import { loadModel } from '../src/models/loadModels.ts';
import type { ModelEntry } from '../src/models/manifest.ts';
import type { ModelSession } from '../src/models/modelSession.ts';
import { parseManifest } from '../src/models/manifestSchema.ts';
import { DEFAULT_RECOGNIZER_ID, fusedPipeline } from '../src/models/pipelines.ts';
import { decodeImageNode } from '../tests/unit/face/helpers/decodeNode.ts';
import { adapterDescription, benchStage2, gaussians, summarise, type Stage2Row } from './enginePage.ts';

type Backend = 'wasm' | 'webgpu';

/** Timed stage-2 queries per row and timed runs per model (small values make a quick check on SwiftShader). */
const QUERIES = Number(arg('--queries') ?? 30);
const RUNS = Number(arg('--runs') ?? 15);

interface DawnModule {
  readonly create: (options: string[]) => GPU;
  readonly globals: Record<string, unknown>;
}

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1] : undefined;
}

function required(name: string): string {
  const v = arg(name);
  if (!v) throw new Error(`${name} is required (see the header of bench/gpuNode.ts)`);
  return v;
}

const median = (xs: readonly number[]) => summarise(xs).medianMs;

/**
 * Dawn's writeBuffer refuses a view of a SharedArrayBuffer (ORT's WASM
 * memory is one) and some argument forms ORT passes; a copy of the bytes
 * asked for is accepted. Only refused calls are copied, so the engine's own
 * uploads are timed as they are. Chromium needs none of this.
 */
function patchWriteBuffer(globals: Record<string, unknown>): void {
  const queue = globals.GPUQueue as { prototype: GPUQueue };
  const original = queue.prototype.writeBuffer;
  queue.prototype.writeBuffer = function (this: GPUQueue, buffer: GPUBuffer, offset: number, data: BufferSource | SharedArrayBuffer, dataOffset = 0, size?: number) {
    const view = ArrayBuffer.isView(data) ? data : null;
    const shared = typeof SharedArrayBuffer !== 'undefined' && (view ? view.buffer : data) instanceof SharedArrayBuffer;
    if (!shared) {
      try {
        return original.call(this, buffer, offset, data, dataOffset, size);
      } catch (e) {
        if (!(e instanceof TypeError)) throw e;
      }
    }
    const unit = view && 'BYTES_PER_ELEMENT' in view ? (view as unknown as { BYTES_PER_ELEMENT: number }).BYTES_PER_ELEMENT : 1;
    const start = (view ? view.byteOffset : 0) + dataOffset * unit;
    const length = size === undefined ? (view ? view.byteLength : (data as ArrayBuffer).byteLength) - dataOffset * unit : size * unit;
    const copy = new Uint8Array(length);
    copy.set(new Uint8Array(view ? view.buffer : (data as ArrayBuffer), start, length));
    return original.call(this, buffer, Number(offset), copy);
  };
}

/**
 * Time spent inside parts of a GPU stage 2, summed between resets: the whole
 * GPU batch (weights, uploads, kernels, readback), APC's weights on the CPU
 * inside it, and the time up to the queue submission (weights, buffers,
 * uploads, encoding); the rest is the GPU's work and the readback.
 */
const gpuParts = { weightsMs: 0, batchMs: 0, submitMs: 0, batches: 0 };

function resetGpuParts(): void {
  Object.assign(gpuParts, { weightsMs: 0, batchMs: 0, submitMs: 0, batches: 0 });
}

/** Mean ms per GPU batch since the last reset; none when no batch ran on the GPU. */
function gpuPartMeans(): { gpuBatchMeanMs?: number; toSubmitMeanMs?: number; cpuWeightsMeanMs?: number } {
  const n = gpuParts.batches;
  return n ? { gpuBatchMeanMs: gpuParts.batchMs / n, toSubmitMeanMs: gpuParts.submitMs / n, cpuWeightsMeanMs: gpuParts.weightsMs / n } : {};
}

function timeGpuParts(): void {
  const scorer = CpuStage2Scorer.prototype;
  const withGivenWeights = scorer.withGivenWeights;
  scorer.withGivenWeights = function (this: CpuStage2Scorer, ...args: Parameters<CpuStage2Scorer['withGivenWeights']>) {
    const t = performance.now();
    try {
      return withGivenWeights.apply(this, args);
    } finally {
      gpuParts.weightsMs += performance.now() - t;
    }
  };
  const gpu = GpuStage2.prototype;
  const scoreBatch = gpu.scoreBatch;
  gpu.scoreBatch = async function (this: GpuStage2, ...args: Parameters<GpuStage2['scoreBatch']>) {
    const t = performance.now();
    let submittedAt = t;
    this.testHooks.afterSubmit = () => {
      submittedAt = performance.now();
    };
    try {
      return await scoreBatch.apply(this, args);
    } finally {
      gpuParts.batchMs += performance.now() - t;
      gpuParts.submitMs += submittedAt - t;
      gpuParts.batches++;
    }
  };
}

async function installDawn(path: string): Promise<void> {
  const dawn = (await import(pathToFileURL(path).href)) as DawnModule;
  Object.assign(globalThis, dawn.globals);
  patchWriteBuffer(dawn.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: dawn.create([]) }, configurable: true });
}

async function stage2Rows(): Promise<Stage2Row[]> {
  const rows: Stage2Row[] = [];
  // 512 channels: MobileFaceNet's maps (the engine bench's shape); 1024: FaceRes's, the default pipeline's.
  for (const channels of [512, 1024])
    for (const grid of [7, 4])
      for (const mode of ['reference', 'converged'] as SinkhornMode[])
        for (const backend of ['cpu', 'webgpu'] as const) {
          resetGpuParts();
          const row = await benchStage2({ grid, k: 100, mode, backend, queries: QUERIES, warmup: 3, galleryFaces: 1000, channels });
          const parts = gpuPartMeans();
          const split =
            parts.gpuBatchMeanMs !== undefined
              ? ` (of which the GPU batch ${parts.gpuBatchMeanMs?.toFixed(2)} ms mean: up to the submission ${parts.toSubmitMeanMs?.toFixed(2)}, APC weights on the CPU ${parts.cpuWeightsMeanMs?.toFixed(2)})`
              : '';
          console.log(`stage 2 ${grid}x${grid}x${channels} ${mode} ${backend} (used ${row.backendUsed}): median ${row.medianMs.toFixed(2)} ms, p90 ${row.p90Ms.toFixed(2)}${split}`);
          rows.push({ ...row, ...parts });
        }
  return rows;
}

interface RealMapRow {
  readonly grid: number;
  readonly mode: SinkhornMode;
  readonly backend: 'cpu' | 'webgpu';
  readonly backendUsed: 'cpu' | 'webgpu';
  readonly queries: number;
  readonly medianMs: number;
  readonly gpuBatchMeanMs?: number;
  readonly toSubmitMeanMs?: number;
  readonly cpuWeightsMeanMs?: number;
  readonly maxAbsSEmdVsCpu?: number;
}

/**
 * Stage 2 on 101 real FaceRes features (bench/study/exportFaceresMaps.ts):
 * each query is one of them against the other 100, so k 100 takes every
 * one; the same engine on the CPU and on WebGPU, and how far apart.
 */
async function realMapRows(path: string): Promise<RealMapRow[]> {
  const all = new Float32Array(readFileSync(path).buffer.slice(0));
  const per = 1024 + 49 * 1024;
  const faces = Array.from({ length: all.length / per }, (_, i): FaceFeatures => ({
    embedding: all.slice(i * per, i * per + 1024),
    patches: { h: 7, w: 7, c: 1024, data: all.slice(i * per + 1024, (i + 1) * per) },
    cropSize: 224,
  }));
  const rows: RealMapRow[] = [];
  for (const grid of [7, 4])
    for (const mode of ['reference', 'converged'] as SinkhornMode[]) {
      const sEmd: Record<string, Map<string, number>[]> = { cpu: [], webgpu: [] };
      for (const backend of ['cpu', 'webgpu'] as const) {
        resetGpuParts();
        const ms: number[] = [];
        let used: 'cpu' | 'webgpu' = 'cpu';
        const queries = Math.min(QUERIES, faces.length);
        for (let q = 0; q < queries + 2; q++) {
          const engine = new SearchEngine({ accelerator: backend === 'webgpu' ? sharedGpu : null });
          engine.add(faces.flatMap((features, i) => (i === q % faces.length ? [] : [{ id: `f${i}`, label: `f${i}`, features }])));
          const settings: RerankSettings = { ...DEFAULT_SETTINGS, k: 100, grid, backend, sinkhorn: { ...DEFAULT_SETTINGS.sinkhorn, mode } };
          const r = await engine.search(faces[q % faces.length], settings);
          if (q < 2) continue;
          ms.push(r.timings.stage2Ms);
          used = r.backendUsed;
          sEmd[backend].push(new Map(r.stage2.map((h) => [h.id, h.sEmd])));
        }
        let maxAbs: number | undefined;
        if (backend === 'webgpu') {
          maxAbs = 0;
          sEmd.webgpu.forEach((m, qi) => m.forEach((v, id) => (maxAbs = Math.max(maxAbs ?? 0, Math.abs(v - (sEmd.cpu[qi].get(id) ?? NaN))))));
        }
        const row: RealMapRow = {
          grid,
          mode,
          backend,
          backendUsed: used,
          queries: ms.length,
          medianMs: median(ms),
          ...gpuPartMeans(),
          ...(maxAbs === undefined ? {} : { maxAbsSEmdVsCpu: maxAbs }),
        };
        console.log(
          `stage 2 real FaceRes ${grid}x${grid} ${mode} ${backend} (used ${used}): median ${row.medianMs.toFixed(2)} ms${row.gpuBatchMeanMs === undefined ? '' : `, GPU batch ${row.gpuBatchMeanMs.toFixed(2)} ms (up to the submission ${row.toSubmitMeanMs?.toFixed(2)})`}${maxAbs === undefined ? '' : `, max |sEmd gpu - cpu| ${maxAbs.toExponential(2)}`}`,
        );
        rows.push(row);
      }
    }
  return rows;
}

/** One GPU scorer for the real-map rows, so the pipelines are built once. */
const sharedGpu = new GpuStage2();

/** Largest |sEmd(GPU) - sEmd(CPU)| over the re-ranked top 100 of a few queries: the WGSL kernels against the CPU path on the same engine. */
async function stage2Agreement(): Promise<{ readonly mode: SinkhornMode; readonly maxAbsSEmd: number; readonly sameOrder: number }[]> {
  const rand = seededRandom(7);
  const face = (): FaceFeatures => ({ embedding: gaussians(rand, 512), patches: { h: 7, w: 7, c: 512, data: gaussians(rand, 7 * 7 * 512, true) }, cropSize: 112 });
  const engine = new SearchEngine({ accelerator: new GpuStage2() });
  engine.add(Array.from({ length: 500 }, (_, i) => ({ id: `g${i}`, label: `l${i % 50}`, features: face() })));
  const out = [];
  for (const mode of ['reference', 'converged'] as SinkhornMode[]) {
    let maxAbs = 0;
    let same = 0;
    const queries = 5;
    for (let q = 0; q < queries; q++) {
      const query = face();
      const at = (backend: 'cpu' | 'webgpu') => {
        const settings: RerankSettings = { ...DEFAULT_SETTINGS, k: 100, grid: 7, backend, sinkhorn: { ...DEFAULT_SETTINGS.sinkhorn, mode } };
        return engine.search(query, settings);
      };
      const cpu = await at('cpu');
      const gpu = await at('webgpu');
      if (gpu.backendUsed !== 'webgpu') throw new Error(`stage 2 fell back to the CPU: ${gpu.fallbackReason}`);
      const byId = new Map(cpu.stage2.map((h) => [h.id, h.sEmd]));
      for (const h of gpu.stage2) maxAbs = Math.max(maxAbs, Math.abs(h.sEmd - (byId.get(h.id) ?? NaN)));
      if (gpu.stage2.every((h, i) => h.id === cpu.stage2[i].id)) same++;
    }
    console.log(`stage 2 agreement ${mode}: max |sEmd gpu - cpu| ${maxAbs.toExponential(2)}, same order ${same}/${queries}`);
    out.push({ mode, maxAbsSEmd: maxAbs, sameOrder: same / queries });
  }
  return out;
}

/** A session through the app's own loader (checksums, the WebGPU file where a model has one); a WebGPU failure is an error here, not a fallback. */
async function session(modelsDir: string, entry: ModelEntry, backend: Backend): Promise<ModelSession> {
  const deps = { ort, readFile: (name: string) => Promise.resolve(new Uint8Array(readFileSync(join(modelsDir, name)))), sha256Hex };
  // A run that fails on WebGPU must fail the bench, not be timed on WASM.
  const loaded = await loadModel(deps, entry, backend, (notice) => {
    throw new Error(notice.message);
  });
  if (loaded.backend !== backend) throw new Error(`${entry.id} did not load on ${backend}: ${loaded.fallbackReason}`);
  return loaded.session;
}

interface ModelRow {
  readonly model: string;
  readonly batch: number;
  readonly backend: Backend;
  readonly createMs: number;
  readonly medianMs: number;
  readonly maxAbsDiffVsWasm?: number;
}

/** Each model on a fixed random input: run time per backend and how far WebGPU's outputs are from WASM's. */
async function modelRows(modelsDir: string, entries: readonly ModelEntry[]): Promise<ModelRow[]> {
  const rows: ModelRow[] = [];
  for (const entry of entries) {
    const batches = entry.role === 'recognizer' ? [1, 8] : [1];
    for (const batch of batches) {
      const shape = entry.input.shape.map((d, i) => (i === 0 ? batch : d));
      const rand = seededRandom(11);
      const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
      for (let i = 0; i < data.length; i++) data[i] = rand() * 2 - 1;
      let reference: Record<string, Float32Array> | null = null;
      for (const backend of ['wasm', 'webgpu'] as Backend[]) {
        const t0 = performance.now();
        const s = await session(modelsDir, entry, backend);
        const createMs = performance.now() - t0;
        const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', data, shape) };
        const times: number[] = [];
        let outputs: Record<string, Float32Array> = {};
        for (let r = 0; r < 3 + RUNS; r++) {
          const t = performance.now();
          const result = await s.run(feeds);
          if (r >= 3) times.push(performance.now() - t);
          outputs = Object.fromEntries(Object.entries(result).map(([k, v]) => [k, v.data as Float32Array]));
        }
        let maxAbs: number | undefined;
        if (reference) {
          maxAbs = 0;
          for (const [k, v] of Object.entries(outputs)) for (let i = 0; i < v.length; i++) maxAbs = Math.max(maxAbs, Math.abs(v[i] - reference[k][i]));
        } else reference = outputs;
        const row: ModelRow = { model: entry.id, batch, backend, createMs, medianMs: median(times), ...(maxAbs === undefined ? {} : { maxAbsDiffVsWasm: maxAbs }) };
        console.log(
          `model ${entry.id} batch ${batch} ${backend}: create ${createMs.toFixed(0)} ms, run median ${row.medianMs.toFixed(2)} ms${maxAbs === undefined ? '' : `, max |webgpu - wasm| ${maxAbs.toExponential(2)}`}`,
        );
        rows.push(row);
      }
    }
  }
  return rows;
}

interface PipelineRow {
  readonly backend: Backend;
  readonly photos: number;
  readonly photosPerSecond: number;
  readonly medianMs: { readonly decode: number; readonly detect: number; readonly landmarks: number; readonly align: number; readonly embed: number };
}

/** The default pipeline on real photos, one photo at a time as an extraction worker runs it. */
async function pipelineRows(modelsDir: string, entries: readonly ModelEntry[], images: readonly string[]): Promise<PipelineRow[]> {
  const byId = (id: string) => {
    const e = entries.find((m) => m.id === id);
    if (!e) throw new Error(`model ${id} is not in the manifest`);
    return e;
  };
  const byRole = (role: 'detector' | 'landmarks') => {
    const e = entries.find((m) => m.role === role);
    if (!e) throw new Error(`no ${role} model in the manifest`);
    return e;
  };
  const spec = fusedPipeline(DEFAULT_RECOGNIZER_ID);
  if (!spec) throw new Error('the default recognizer is no fused pipeline; update bench/gpuNode.ts');
  const rows: PipelineRow[] = [];
  for (const backend of ['wasm', 'webgpu'] as Backend[]) {
    const detector = new FaceDetector(await session(modelsDir, byRole('detector'), backend));
    const landmarks = new LandmarkModel(await session(modelsDir, byRole('landmarks'), backend));
    const rec = async (id: string) => new Recognizer(await session(modelsDir, byId(id), backend), byId(id));
    const recognizer = new FusedRecognizer(await rec(spec.primary), await rec(spec.secondary), spec);
    const pipeline = new FacePipeline({ detector, landmarks, recognizer });
    const t: Record<keyof PipelineRow['medianMs'], number[]> = { decode: [], detect: [], landmarks: [], align: [], embed: [] };
    let wall = 0;
    for (let i = 0; i < images.length + 2; i++) {
      const path = images[i % images.length];
      const t0 = performance.now();
      const image = decodeImageNode(readFileSync(path), path);
      const t1 = performance.now();
      const a = await pipeline.analyse(image, path);
      const t2 = performance.now();
      await pipeline.embed([a]);
      const t3 = performance.now();
      if (i < 2) continue; // warm-up: first runs compile shaders
      wall += t3 - t0;
      t.decode.push(t1 - t0);
      t.detect.push(a.timings.detectMs);
      t.landmarks.push(a.timings.landmarksMs);
      t.align.push(a.timings.alignMs);
      t.embed.push(t3 - t2);
    }
    const row: PipelineRow = {
      backend,
      photos: images.length,
      photosPerSecond: images.length / (wall / 1000),
      medianMs: { decode: median(t.decode), detect: median(t.detect), landmarks: median(t.landmarks), align: median(t.align), embed: median(t.embed) },
    };
    console.log(
      `pipeline ${backend}: ${row.photosPerSecond.toFixed(1)} photos/s per worker; median ms ${JSON.stringify(row.medianMs, (_, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(2)) : v))}`,
    );
    rows.push(row);
  }
  return rows;
}

async function main(): Promise<void> {
  await installDawn(required('--dawn'));
  timeGpuParts();
  ort.env.wasm.wasmPaths = `${resolve(required('--ort'))}/`;
  ort.env.wasm.numThreads = 1;
  ort.env.logLevel = 'error';
  const modelsDir = required('--models');
  const imagesDir = required('--images');
  const photos = Number(arg('--photos') ?? 40);
  const faceresMaps = arg('--faceres-maps');
  const only = new Set((arg('--only') ?? 'stage2,models,pipeline').split(','));
  const images = readdirSync(imagesDir)
    .filter((f) => /\.jpe?g$/i.test(f))
    .sort()
    .slice(0, photos)
    .map((f) => join(imagesDir, f));
  const skip = new Set(['dlib-resnet', ...(arg('--skip-models')?.split(',') ?? [])]);
  const all = parseManifest(readFileSync(join(modelsDir, 'manifest.json'), 'utf8')).models;
  const entries = all.filter((m) => !skip.has(m.id));
  const adapter = await adapterDescription();
  console.log(`adapter: ${adapter}; ${cpus().length} x ${cpus()[0]?.model ?? 'unknown'}`);
  const report = {
    adapter,
    machine: { cpuCount: cpus().length, cpuModel: cpus()[0]?.model ?? 'unknown', node: process.version },
    stage2: only.has('stage2') ? await stage2Rows() : [],
    stage2Agreement: only.has('stage2') ? await stage2Agreement() : [],
    stage2RealFaceres: faceresMaps ? await realMapRows(faceresMaps) : [],
    models: only.has('models') ? await modelRows(modelsDir, entries) : [],
    pipeline: only.has('pipeline') ? await pipelineRows(modelsDir, all, images) : [],
  };
  const json = arg('--json');
  if (json) writeFileSync(json, JSON.stringify(report, null, 2));
}

await main();

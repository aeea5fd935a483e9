/**
 * Feature-extraction worker: owns the ONNX sessions and the face pipeline
 * (decode -> detect -> landmarks -> align -> optional query transform ->
 * embed). The app starts one per core; each is single-threaded (ortBrowser.ts).
 */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import type { ModelsStatus, OrtBackendChoice } from '../src/app/engineApi.ts';
import type { ExtractOptions, ExtractOutcome } from '../src/app/extractTypes.ts';
import { AppError, toPlainError } from '../src/core/errors.ts';
import type { FaceFeatures, OodTransform, RgbaImage } from '../src/core/types.ts';
import { FaceDetector } from '../src/face/detector.ts';
import { LandmarkModel } from '../src/face/landmarks.ts';
import { applyOod } from '../src/face/ood.ts';
import { FacePipeline } from '../src/face/pipeline.ts';
import { Recognizer, type FaceEmbedder } from '../src/face/recognizer.ts';
import { FusedRecognizer } from '../src/face/fusedRecognizer.ts';
import { fusedPipeline } from '../src/models/pipelines.ts';
import { boxArea } from '../src/face/detector.ts';
import { decodeImageFile } from './decodeImage.ts';
import { loadAllModels, type LoadedModels } from './modelHost.ts';

installComlinkErrorHandler();

/**
 * A gallery photo with several faces is indexed under its largest face only
 * when that face clearly dominates (LFW photos often show people in the
 * background); otherwise which face the label belongs to is ambiguous.
 */
const GALLERY_SECOND_FACE_MAX_AREA_RATIO = 0.7;

/** Faults the engine's test hook can inject into one extract job (see AppEngine.injectExtractFaults). */
export type ExtractFault = 'crash' | 'hang';

let models: LoadedModels | undefined;
let pipeline: FacePipeline | undefined;

/** Lossless, so query transforms applied later to a stored face (evaluation) see the exact pixels the gallery was embedded from. */
async function encodeAligned(img: RgbaImage): Promise<Blob> {
  const c = new OffscreenCanvas(img.width, img.height);
  c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(img.data), img.width, img.height), 0, 0);
  return c.convertToBlob({ type: 'image/png' });
}

async function decodeAligned(blob: Blob): Promise<RgbaImage> {
  const bmp = await createImageBitmap(blob, { premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  const c = new OffscreenCanvas(bmp.width, bmp.height);
  const ctx = c.getContext('2d')!;
  ctx.drawImage(bmp, 0, 0);
  bmp.close();
  const d = ctx.getImageData(0, 0, c.width, c.height);
  return { width: d.width, height: d.height, data: d.data };
}

/** The active recognizer, or the fused pipeline's two recognizers read as one. */
function buildEmbedder(loaded: LoadedModels): FaceEmbedder {
  const recognizer = (id: string) => {
    const m = loaded.byId.get(id);
    if (!m) throw new AppError('model-missing', `recognizer ${id} was not loaded`, 'Reload the page; if it persists, rebuild the models with `npm run models`.');
    return new Recognizer(m.session, m.entry);
  };
  const fused = fusedPipeline(loaded.status.active.id);
  if (!fused) return recognizer(loaded.status.active.id);
  return new FusedRecognizer(recognizer(fused.primary), recognizer(fused.secondary), { secondaryWeight: fused.secondaryWeight });
}

function requirePipeline(): FacePipeline {
  if (!pipeline) throw new AppError('internal', 'the extraction worker has no models loaded', 'Reload the page.');
  return pipeline;
}

const api = {
  async init(choice: OrtBackendChoice, recognizerId?: string): Promise<ModelsStatus> {
    models = await loadAllModels(choice, recognizerId);
    const byRole = (role: string) => [...models!.byId.values()].find((m) => m.entry.role === role)!;
    pipeline = new FacePipeline({
      detector: new FaceDetector(byRole('detector').session),
      landmarks: new LandmarkModel(byRole('landmarks').session),
      recognizer: buildEmbedder(models),
    });
    return models.status;
  },

  /** Changes whenever the built weights, graphs or a pipeline's fusion change: galleries are keyed by it. */
  recognizerVersion(): string {
    if (!models) throw new AppError('internal', 'no recognizer loaded', 'Reload the page.');
    const rec = (id: string) => models!.byId.get(id)!.entry;
    const fused = fusedPipeline(models.status.active.id);
    if (fused) return `${fused.version}-w${fused.secondaryWeight}-${rec(fused.primary).sha256.slice(0, 12)}-${rec(fused.secondary).sha256.slice(0, 12)}`;
    const entry = rec(models.status.active.id);
    return `${entry.version}-${entry.sha256.slice(0, 12)}`;
  },

  /**
   * `fault` is the engine's test hook (AppEngine.injectExtractFaults, only with
   * ?testHooks=1): 'crash' throws an uncaught error in this worker (its error
   * event, as a decoder crash gives) and never answers; 'hang' spins forever.
   */
  async extract(fileName: string, bytes: ArrayBuffer, opts: ExtractOptions, fault?: ExtractFault): Promise<ExtractOutcome> {
    if (fault === 'crash') {
      setTimeout(() => {
        throw new Error(`injected crash while extracting ${fileName} (test hook)`);
      });
      return new Promise<never>(() => {});
    }
    if (fault === 'hang') {
      for (;;) {
        // Busy, as a decoder stuck in a loop: only terminate() ends it.
      }
    }
    try {
      const p = requirePipeline();
      const t0 = performance.now();
      const { image } = await decodeImageFile(new Blob([bytes]), fileName);
      const decodeMs = performance.now() - t0;
      let analysis = await p.analyse(image, fileName);
      if (opts.purpose === 'gallery' && analysis.faces.length > 1) {
        const areas = analysis.faces.map((f) => boxArea(f.box)).sort((a, b) => b - a);
        if (areas[1] > GALLERY_SECOND_FACE_MAX_AREA_RATIO * areas[0]) {
          throw new AppError('several-faces', `${analysis.faces.length} faces of similar size were found, so the label is ambiguous`, 'Crop the photo to the one person it is labelled with, or use it as a query and pick the face.', { file: fileName });
        }
      }
      if (opts.faceIndex !== undefined && opts.faceIndex !== analysis.chosenIndex) analysis = p.realign(image, analysis, opts.faceIndex);
      const face = applyOod(opts.ood, analysis, opts.seed);
      const t1 = performance.now();
      const [features] = await p.embed([face]);
      const embedMs = performance.now() - t1;
      const aligned = await encodeAligned(face.aligned);
      const faces = analysis.faces.map((f) => ({ x: f.box.x1, y: f.box.y1, width: f.box.x2 - f.box.x1, height: f.box.y2 - f.box.y1, score: f.score }));
      const result: ExtractOutcome = {
        ok: true,
        face: {
          faces,
          chosenIndex: analysis.chosenIndex,
          features,
          aligned,
          timings: { decode: decodeMs, detect: analysis.timings.detectMs, landmarks: analysis.timings.landmarksMs, align: analysis.timings.alignMs, embed: embedMs },
        },
      };
      return Comlink.transfer(result, [features.embedding.buffer, features.patches.data.buffer]);
    } catch (e) {
      const plain = toPlainError(e);
      return { ok: false, error: { ...plain, file: plain.file ?? fileName } };
    }
  },

  /**
   * Features of an already aligned face after a query transform: the
   * evaluation builds out-of-distribution queries from stored gallery faces.
   */
  async embedAligned(aligned: Blob, landmarks68: Float32Array, ood: OodTransform, seed: number): Promise<FaceFeatures> {
    const p = requirePipeline();
    const image = await decodeAligned(aligned);
    const landmarksAligned = Array.from({ length: landmarks68.length / 2 }, (_, i) => [landmarks68[2 * i], landmarks68[2 * i + 1]] as const);
    const face = applyOod(ood, { aligned: image, landmarksAligned }, seed);
    const [features] = await p.embed([face]);
    return Comlink.transfer(features, [features.embedding.buffer, features.patches.data.buffer]);
  },
};

export type ExtractWorkerApi = typeof api;

Comlink.expose(api);

/**
 * Feature-extraction worker: owns the ONNX sessions and the face pipeline
 * (decode -> detect -> landmarks -> align -> optional query transform ->
 * embed). The app starts one per core; each is single-threaded (ortBrowser.ts).
 */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import type { ModelsStatus, OrtBackendChoice } from '../src/app/engineApi.ts';
import type { AlignedImageType, ExtractOptions, ExtractOutcome, LibraryExtractOutcome } from '../src/app/extractTypes.ts';
import { AppError, toPlainError, type PlainNotice } from '../src/core/errors.ts';
import type { FaceFeatures, OodTransform } from '../src/core/types.ts';
import { FaceDetector } from '../src/face/detector.ts';
import { embedderFor, recognizerVersion } from '../src/face/embedderFor.ts';
import { extractFace } from '../src/face/extractFace.ts';
import { LandmarkModel } from '../src/face/landmarks.ts';
import { applyOod } from '../src/face/ood.ts';
import { FacePipeline } from '../src/face/pipeline.ts';
import { libraryFaces } from '../src/library/libraryFaces.ts';
import { loadedModelOfRole } from '../src/models/loadModels.ts';
import { decodeAligned, encodeAligned, encodePhotoPreview } from './canvasImages.ts';
import { decodeImageBytes } from './decodeImage.ts';
import { loadAllModels, restartOnGpuDeviceLoss, takeModelNotice, type LoadedModels } from './modelHost.ts';
import { ort } from './ortBrowser.ts';
import { loseGpuDevice, simulateFault } from './testHooks.ts';

installComlinkErrorHandler();

interface Loaded {
  readonly models: LoadedModels;
  readonly pipeline: FacePipeline;
}

let loaded: Loaded | undefined;

function requireLoaded(): Loaded {
  if (!loaded) throw new AppError('internal', 'the extraction worker has no models loaded', 'Reload the page.');
  return loaded;
}

const transferFeatures = (f: FaceFeatures) => [f.embedding.buffer, f.patches.data.buffer];

/**
 * The photo's own notice, else a model's move to WASM not yet reported (an import's report lists it, a query shows
 * it and the status line then says WASM): one notice per photo, so a second waits for the next.
 */
function withNotice(own: PlainNotice | undefined): { notice?: PlainNotice } {
  const notice = own ?? takeModelNotice();
  return notice ? { notice } : {};
}

const api = {
  async init(choice: OrtBackendChoice, recognizerId?: string): Promise<ModelsStatus> {
    const models = await loadAllModels(choice, recognizerId);
    const pipeline = new FacePipeline({
      detector: new FaceDetector(loadedModelOfRole(models.byId, 'detector').session),
      landmarks: new LandmarkModel(loadedModelOfRole(models.byId, 'landmarks').session),
      recognizer: embedderFor(models.status.active.id, models.byId),
    });
    loaded = { models, pipeline };
    restartOnGpuDeviceLoss(models);
    return models.status;
  },

  recognizerVersion(): string {
    const { models } = requireLoaded();
    return recognizerVersion(models.status.active.id, models.byId);
  },

  /** A bad image is an `ok: false` outcome naming the file, never a rejection. */
  async extract(fileName: string, bytes: ArrayBuffer, opts: ExtractOptions): Promise<ExtractOutcome> {
    try {
      const { pipeline } = requireLoaded();
      const t0 = performance.now();
      const { image } = await decodeImageBytes(new Uint8Array(bytes), fileName);
      const decodeMs = performance.now() - t0;
      const found = await extractFace(pipeline, image, fileName, opts);
      const result: ExtractOutcome = {
        ok: true,
        face: {
          faces: found.faces,
          chosenIndex: found.chosenIndex,
          features: found.features,
          aligned: await encodeAligned(found.aligned, opts.alignedAs),
          timings: { decode: decodeMs, ...found.timings },
          ...withNotice(found.notice),
        },
      };
      return Comlink.transfer(result, transferFeatures(found.features));
    } catch (e) {
      const plain = toPlainError(e);
      return { ok: false, error: { ...plain, file: plain.file ?? fileName } };
    }
  },

  /** Every face of a library photo; a photo without one is an empty list, a bad file an `ok: false` outcome naming it. */
  async extractLibrary(fileName: string, bytes: ArrayBuffer, opts: { readonly alignedAs?: AlignedImageType } = {}): Promise<LibraryExtractOutcome> {
    try {
      const { pipeline } = requireLoaded();
      const t0 = performance.now();
      const { image } = await decodeImageBytes(new Uint8Array(bytes), fileName);
      const t1 = performance.now();
      const found = await libraryFaces(pipeline, image);
      const t2 = performance.now();
      const faces = await Promise.all(found.map(async (f) => ({ box: { ...f.box, score: f.score }, features: f.features, aligned: await encodeAligned(f.alignment.aligned, opts.alignedAs) })));
      // A photo with no face is never shown: no preview.
      const preview = found.length > 0 ? await encodePhotoPreview(image) : null;
      const result: LibraryExtractOutcome = {
        ok: true,
        width: image.width,
        height: image.height,
        faces,
        preview,
        timings: { decode: t1 - t0, faces: t2 - t1, preview: performance.now() - t2 },
        ...withNotice(undefined),
      };
      return Comlink.transfer(
        result,
        found.flatMap((f) => transferFeatures(f.features)),
      );
    } catch (e) {
      const plain = toPlainError(e);
      return { ok: false, error: { ...plain, file: plain.file ?? fileName } };
    }
  },

  /** Features of an already aligned face after a query transform (evaluation builds its queries from stored faces). */
  async embedAligned(aligned: Blob, landmarks68: Float32Array, ood: OodTransform, seed: number): Promise<FaceFeatures> {
    const { pipeline } = requireLoaded();
    const image = await decodeAligned(aligned);
    const landmarksAligned = Array.from({ length: landmarks68.length / 2 }, (_, i) => [landmarks68[2 * i], landmarks68[2 * i + 1]] as const);
    const [features] = await pipeline.embed([applyOod(ood, { aligned: image, landmarksAligned }, seed)]);
    return Comlink.transfer(features, transferFeatures(features));
  },

  /** Used only by the fault-injection test hook (workers/testHooks.ts), which the engine wires in with ?testHooks=1. */
  simulateFault,
  loseGpuDevice: () => loseGpuDevice(ort.env.webgpu),
};

export type ExtractWorkerApi = typeof api;

Comlink.expose(api);

/**
 * The app's face and model-loading modules the model specs drive in the
 * harness page, in one import: `await import('/tests/gpu/faceModules.ts')`
 * (the page's Vite server resolves it).
 */
export { browserLoaderDeps, loaderDepsFor } from '../../workers/modelHost.ts';
export { ort } from '../../workers/ortBrowser.ts';
export { decodeImageBytes } from '../../workers/decodeImage.ts';
export { loadModel, readManifest } from '../../src/models/loadModels.ts';
export { WasmFallbackSession } from '../../src/models/modelSession.ts';
export { DEFAULT_RECOGNIZER_ID } from '../../src/models/pipelines.ts';
export { modelsToLoad, resolveRecognizer } from '../../src/models/recognizers.ts';
export { FaceDetector } from '../../src/face/detector.ts';
export { LandmarkModel } from '../../src/face/landmarks.ts';
export { Recognizer } from '../../src/face/recognizer.ts';
export { embedderFor } from '../../src/face/embedderFor.ts';
export { FacePipeline } from '../../src/face/pipeline.ts';

/**
 * Loads the built models (public/models, from `npm run models`) into
 * onnxruntime-web's WASM backend in Node and assembles a FacePipeline.
 * Sessions are created once per test process.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { ModelEntry, ModelManifest } from '../../../../src/models/manifest.ts';
import { parseManifest } from '../../../../src/models/manifestSchema.ts';
import { FaceDetector, type DetectorOptions } from '../../../../src/face/detector.ts';
import { LandmarkModel } from '../../../../src/face/landmarks.ts';
import { FacePipeline } from '../../../../src/face/pipeline.ts';
import { Recognizer } from '../../../../src/face/recognizer.ts';
import { REPO_ROOT } from './data.ts';

export const MODELS_DIR = join(REPO_ROOT, 'public/models');

export function readManifest(): ModelManifest {
  const path = join(MODELS_DIR, 'manifest.json');
  if (!existsSync(path)) throw new Error(`${path} is missing: build the models with \`npx tsx scripts/models/build.ts --if-stale\`.`);
  return parseManifest(readFileSync(path, 'utf8'), path);
}

/** Any built model by id; the app itself only looks up recognizers (src/models/recognizers.ts). */
export function modelEntry(id: string): ModelEntry {
  const entry = readManifest().models.find((m) => m.id === id);
  if (!entry) throw new Error(`model ${id} is not in public/models/manifest.json: rebuild with \`npm run models\``);
  return entry;
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

export function loadSession(entry: ModelEntry): Promise<ort.InferenceSession> {
  let s = sessions.get(entry.file);
  if (!s) {
    ort.env.wasm.numThreads = 1;
    s = ort.InferenceSession.create(readFileSync(join(MODELS_DIR, entry.file)), { executionProviders: ['wasm'] });
    sessions.set(entry.file, s);
  }
  return s;
}

export interface PipelineSetup {
  readonly pipeline: FacePipeline;
  readonly detector: FaceDetector;
  readonly landmarks: LandmarkModel;
  readonly recognizer: Recognizer;
}

export async function createPipeline(recognizerId = 'mobilefacenet-arcface', detectorOptions: DetectorOptions = {}): Promise<PipelineSetup> {
  const det = modelEntry('ultraface-detector');
  const lmk = modelEntry('pfld-landmarks68');
  const rec = modelEntry(recognizerId);
  const detector = new FaceDetector(await loadSession(det), detectorOptions);
  const landmarks = new LandmarkModel(await loadSession(lmk));
  const recognizer = new Recognizer(await loadSession(rec), rec);
  return { pipeline: new FacePipeline({ detector, landmarks, recognizer }), detector, landmarks, recognizer };
}

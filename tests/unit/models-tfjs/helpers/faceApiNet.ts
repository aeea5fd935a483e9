/**
 * face-api's own FaceRecognitionNet, loaded from the package's no-bundle
 * build with its weights decoded by TF.js (tf.io.decodeWeights), i.e. with
 * none of the converter's code. The calling test must mock the umbrella
 * `@tensorflow/tfjs` import (see dlib-parity.test.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { readSource } from '../../../../scripts/models/sources.ts';
import { TFJS_SOURCES } from '../../../../scripts/models/tfjs/tfjsSources.ts';

/** The parts of face-api's API the tests use (its own types reference its bundled copy of tfjs). */
export interface FaceApiRecognitionNet {
  readonly params: unknown;
  computeFaceDescriptor(input: tf.Tensor4D[]): Promise<Float32Array[]>;
}

export async function loadFaceApiRecognitionNet(): Promise<FaceApiRecognitionNet> {
  const faceapi = (await import('@vladmandic/face-api/dist/face-api.esm-nobundle.js')) as unknown as {
    FaceRecognitionNet: new () => FaceApiRecognitionNet & { loadFromWeightMap(m: tf.NamedTensorMap): void };
  };
  const net = new faceapi.FaceRecognitionNet();
  const manifest = JSON.parse(new TextDecoder().decode(readSource(TFJS_SOURCES.dlibManifest))) as { weights: tf.io.WeightsManifestEntry[] }[];
  if (manifest.length !== 1) throw new Error('face_recognition_model: expected one weight group');
  net.loadFromWeightMap(tf.io.decodeWeights(readSource(TFJS_SOURCES.dlibWeights).slice().buffer, manifest[0].weights));
  return net;
}

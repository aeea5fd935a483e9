/**
 * face-api's FaceRecognitionNet forward pass written out with TF.js ops on
 * face-api's own loaded parameters, only so that the intermediate maps
 * (which face-api does not return) can be read. The parity test first checks
 * that this reproduces face-api's descriptor, so the maps are face-api's.
 * Mirrors node_modules/@vladmandic/face-api/src/faceRecognitionNet/*.ts.
 */
import * as tf from '@tensorflow/tfjs-core';

interface ConvLayerParams {
  conv: { filters: tf.Tensor4D; bias: tf.Tensor1D };
  scale: { weights: tf.Tensor1D; biases: tf.Tensor1D };
}
interface ResidualParams {
  conv1: ConvLayerParams;
  conv2: ConvLayerParams;
}
type NetParams = Record<string, ResidualParams> & { conv32_down: ConvLayerParams; fc: tf.Tensor2D };

function convLayer(x: tf.Tensor4D, p: ConvLayerParams, strides: [number, number], withRelu: boolean, padding: 'valid' | 'same' = 'same'): tf.Tensor4D {
  let out: tf.Tensor4D = tf.add(tf.conv2d(x, p.conv.filters, strides, padding), p.conv.bias);
  out = tf.add(tf.mul(out, p.scale.weights), p.scale.biases);
  return withRelu ? tf.relu(out) : out;
}

function residual(x: tf.Tensor4D, p: ResidualParams): tf.Tensor4D {
  let out = convLayer(x, p.conv1, [1, 1], true);
  out = convLayer(out, p.conv2, [1, 1], false);
  return tf.relu(tf.add<tf.Tensor4D>(out, x));
}

function residualDown(x: tf.Tensor4D, p: ResidualParams): tf.Tensor4D {
  let out = convLayer(x, p.conv1, [2, 2], true, 'valid');
  out = convLayer(out, p.conv2, [1, 1], false);
  let pooled = tf.avgPool<tf.Tensor4D>(x, 2, 2, 'valid');
  const zeros = tf.zeros<tf.Rank.R4>(pooled.shape);
  if (pooled.shape[1] !== out.shape[1] || pooled.shape[2] !== out.shape[2]) {
    const padX = [...out.shape] as [number, number, number, number];
    padX[1] = 1;
    out = tf.concat([out, tf.zeros<tf.Rank.R4>(padX)], 1);
    const padY = [...out.shape] as [number, number, number, number];
    padY[2] = 1;
    out = tf.concat([out, tf.zeros<tf.Rank.R4>(padY)], 2);
  }
  if (pooled.shape[3] !== out.shape[3]) pooled = tf.concat([pooled, zeros], 3);
  return tf.relu(tf.add<tf.Tensor4D>(pooled, out));
}

/** Runs the net on an NHWC batch of 0..255 RGB faces; returns embedding and the two patch maps (NHWC). */
export function dlibReferenceMaps(params: unknown, nhwc: Float32Array, n: number): { embedding: Float32Array; patches8: Float32Array; patches4: Float32Array } {
  const p = params as NetParams;
  return tf.tidy(() => {
    const x = tf.div<tf.Tensor4D>(tf.sub(tf.tensor4d(nhwc, [n, 150, 150, 3]), tf.tensor1d([122.782, 117.001, 104.298])), 255);
    let out = convLayer(x, p.conv32_down, [2, 2], true, 'valid');
    out = tf.maxPool(out, 3, 2, 'valid');
    for (const k of ['conv32_1', 'conv32_2', 'conv32_3']) out = residual(out, p[k]);
    out = residualDown(out, p.conv64_down);
    for (const k of ['conv64_1', 'conv64_2', 'conv64_3']) out = residual(out, p[k]);
    out = residualDown(out, p.conv128_down);
    for (const k of ['conv128_1', 'conv128_2']) out = residual(out, p[k]);
    const patches8 = out.dataSync() as Float32Array;
    out = residualDown(out, p.conv256_down);
    for (const k of ['conv256_1', 'conv256_2']) out = residual(out, p[k]);
    const patches4 = out.dataSync() as Float32Array;
    out = residualDown(out, p.conv256_down_out);
    const embedding = tf.matMul(tf.mean<tf.Tensor2D>(out, [1, 2]), p.fc).dataSync() as Float32Array;
    return { embedding, patches8, patches4 };
  });
}

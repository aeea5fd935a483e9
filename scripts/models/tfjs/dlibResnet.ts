/**
 * face-api's `face_recognition_model` (dlib's ResNet-29 face descriptor,
 * 128-D) rebuilt as ONNX from its weight names. The layer sequence follows
 * face-api's src/faceRecognitionNet (FaceRecognitionNet.ts,
 * residualLayer.ts, convLayer.ts): no graph ships with the weights.
 *
 * Graph: input [batch, 3, 150, 150], RGB already normalised as
 * (x - mean) / 255; outputs 'embedding' [batch, 128], 'patches8'
 * [batch, 128, 8, 8] (after the 128 stage), 'patches4' [batch, 256, 4, 4]
 * (after the 256 stage, before the last down block).
 */
import { composeAffine, perChannel } from './folding.ts';
import { OnnxGraphBuilder, type Value } from './onnxBuilder.ts';
import { add, avgPool, conv2d, dense, maxPool, padChannels, padSpatial, relu, spatialMean, type TfPadding } from './tfOps.ts';
import { asFloat32, requireWeight, type WeightTensor } from './weights.ts';

export const DLIB_INPUT_SIZE = 150;
export const DLIB_OUTPUTS = { embedding: 'embedding', patches8: 'patches8', patches4: 'patches4' } as const;

type Weights = ReadonlyMap<string, WeightTensor>;

/** face-api convLayer: conv + bias, then the scale layer (x * weights + biases), then optionally ReLU; all but the ReLU fold into one Conv. */
function convLayer(b: OnnxGraphBuilder, x: Value, w: Weights, prefix: string, strides: [number, number], padding: TfPadding, withRelu: boolean): Value {
  const filters = requireWeight(w, `${prefix}/conv/filters`);
  const outC = filters.shape[3];
  const bias = perChannel(asFloat32(requireWeight(w, `${prefix}/conv/bias`, [outC])), outC, `${prefix}/conv/bias`);
  const scale = perChannel(asFloat32(requireWeight(w, `${prefix}/scale/weights`, [outC])), outC, `${prefix}/scale/weights`);
  const shift = perChannel(asFloat32(requireWeight(w, `${prefix}/scale/biases`, [outC])), outC, `${prefix}/scale/biases`);
  const affine = composeAffine({ scale: new Float64Array(outC).fill(1), shift: bias }, { scale, shift });
  const y = conv2d(b, x, asFloat32(filters), filters.shape, { strides, padding, affine }, prefix);
  return withRelu ? relu(b, y, `${prefix}/relu`) : y;
}

/** face-api `residual`: two 3x3 SAME convs (ReLU only after the first), identity shortcut, ReLU. */
function residual(b: OnnxGraphBuilder, x: Value, w: Weights, prefix: string): Value {
  const h = convLayer(b, x, w, `${prefix}/conv1`, [1, 1], 'SAME', true);
  const y = convLayer(b, h, w, `${prefix}/conv2`, [1, 1], 'SAME', false);
  return relu(b, add(b, y, x, `${prefix}/add`), `${prefix}/relu`);
}

/**
 * face-api `residualDown`: conv 3x3/2 VALID then conv 3x3 SAME; shortcut =
 * avgpool 2x2/2 VALID of the input with zero channels appended when the
 * width doubles. On odd sizes the VALID conv gives one row and column fewer
 * than the pool; face-api then appends a zero row at the bottom and a zero
 * column at the right of the conv output.
 */
function residualDown(b: OnnxGraphBuilder, x: Value, w: Weights, prefix: string): Value {
  const h = convLayer(b, x, w, `${prefix}/conv1`, [2, 2], 'VALID', true);
  let y = convLayer(b, h, w, `${prefix}/conv2`, [1, 1], 'SAME', false);
  let shortcut = avgPool(b, x, [2, 2], [2, 2], 'VALID', `${prefix}/shortcut_pool`);
  if (shortcut.shape[1] !== y.shape[1]) {
    if (y.shape[1] !== 2 * shortcut.shape[1]) throw new Error(`${prefix}: shortcut has ${shortcut.shape[1]} channels, the block ${y.shape[1]}`);
    shortcut = padChannels(b, shortcut, shortcut.shape[1], `${prefix}/shortcut_zeros`);
  }
  const dh = shortcut.shape[2] - y.shape[2];
  const dw = shortcut.shape[3] - y.shape[3];
  if (dh !== 0 || dw !== 0) {
    if (dh !== 1 || dw !== 1) throw new Error(`${prefix}: conv output [${y.shape}] vs shortcut [${shortcut.shape}]`);
    y = padSpatial(b, y, [0, 1, 0, 1], `${prefix}/pad_bottom_right`);
  }
  return relu(b, add(b, y, shortcut, `${prefix}/add`), `${prefix}/relu`);
}

/** Builds the ONNX bytes from decoded face-api weights. */
export function buildDlibResnetGraph(w: Weights): Uint8Array {
  const b = new OnnxGraphBuilder('dlib_resnet_face_descriptor');
  const input = b.input('input', [-1, 3, DLIB_INPUT_SIZE, DLIB_INPUT_SIZE]);
  let x = convLayer(b, input, w, 'conv32_down', [2, 2], 'VALID', true);
  x = maxPool(b, x, [3, 3], [2, 2], 'VALID', 'pool');
  for (const p of ['conv32_1', 'conv32_2', 'conv32_3']) x = residual(b, x, w, p);
  x = residualDown(b, x, w, 'conv64_down');
  for (const p of ['conv64_1', 'conv64_2', 'conv64_3']) x = residual(b, x, w, p);
  x = residualDown(b, x, w, 'conv128_down');
  for (const p of ['conv128_1', 'conv128_2']) x = residual(b, x, w, p);
  const patches8 = x;
  x = residualDown(b, x, w, 'conv256_down');
  for (const p of ['conv256_1', 'conv256_2']) x = residual(b, x, w, p);
  const patches4 = x;
  x = residualDown(b, x, w, 'conv256_down_out');
  const pooled = spatialMean(b, x, false, 'global_mean');
  const fc = requireWeight(w, 'fc', [256, 128]);
  const embedding = dense(b, pooled, asFloat32(fc), fc.shape, undefined, 'fc');

  for (const [v, shape] of [
    [patches8, [-1, 128, 8, 8]],
    [patches4, [-1, 256, 4, 4]],
  ] as const) {
    if (v.shape.join(',') !== shape.join(',')) throw new Error(`dlib ResNet: patch map is [${v.shape}], expected [${shape}]`);
  }
  b.output(embedding, DLIB_OUTPUTS.embedding);
  b.output(patches8, DLIB_OUTPUTS.patches8);
  b.output(patches4, DLIB_OUTPUTS.patches4);
  return b.build();
}

/**
 * TF.js op semantics emitted as ONNX nodes on NCHW values. Every function
 * takes TF-layout weights (HWIO filters, per-channel vectors) and does the
 * layout change itself, so callers think in TF terms and never in ONNX
 * index order. Shapes are tracked here because the builder infers none and
 * TF "SAME" padding depends on the input size.
 */
import type { ChannelAffine } from './folding.ts';
import { foldAffineIntoConv, identityAffine } from './folding.ts';
import { convOutputSize, depthwiseToOnnx, hwioToOihw, onnxPads, resolvePadding, type Pads4 } from './layout.ts';
import type { OnnxGraphBuilder, Value } from './onnxBuilder.ts';

export type TfPadding = 'SAME' | 'VALID' | Pads4;

export interface ConvOptions {
  readonly strides: readonly [number, number];
  readonly padding: TfPadding;
  readonly dilations?: readonly [number, number];
  /** Per-output-channel affine applied after the conv (bias, scale layer, batch norm), folded into the weights. */
  readonly affine?: ChannelAffine;
}

function spatial(x: Value, op: string): [number, number, number, number] {
  if (x.shape.length !== 4) throw new Error(`${op}: expected a 4-D NCHW value, got [${x.shape}] (${x.name})`);
  return x.shape as [number, number, number, number];
}

function emitConv(b: OnnxGraphBuilder, x: Value, hint: string, w: { data: Float32Array; dims: number[] }, group: number, kernel: [number, number], opts: ConvOptions): Value {
  const [n, , h, wIn] = spatial(x, hint);
  const dilations = opts.dilations ?? [1, 1];
  const pads = resolvePadding(opts.padding, h, wIn, kernel, opts.strides, dilations);
  const outC = w.dims[0];
  const { weights, bias } = foldAffineIntoConv(w.data, outC, opts.affine ?? identityAffine(outC));
  const wName = b.floatConstant(`${hint}/weights`, w.dims, weights);
  const bName = b.floatConstant(`${hint}/bias`, [outC], bias);
  const outH = convOutputSize(h, kernel[0], opts.strides[0], pads[0], pads[1], dilations[0]);
  const outW = convOutputSize(wIn, kernel[1], opts.strides[1], pads[2], pads[3], dilations[1]);
  return b.node('Conv', [x.name, wName, bName], [n, outC, outH, outW], hint, {
    kernel_shape: kernel,
    strides: [...opts.strides],
    dilations: [...dilations],
    pads: onnxPads(pads),
    group,
  });
}

/** tf.conv2d with an HWIO filter. */
export function conv2d(b: OnnxGraphBuilder, x: Value, filter: Float32Array, filterShape: readonly number[], opts: ConvOptions, hint: string): Value {
  if (filterShape[2] !== x.shape[1]) throw new Error(`${hint}: filter expects ${filterShape[2]} input channels, the value has ${x.shape[1]}`);
  const w = hwioToOihw(filter, filterShape);
  return emitConv(b, x, hint, w, 1, [filterShape[0], filterShape[1]], opts);
}

/** tf.depthwiseConv2d with an [H, W, C, M] filter, as a grouped conv. */
export function depthwiseConv2d(b: OnnxGraphBuilder, x: Value, filter: Float32Array, filterShape: readonly number[], opts: ConvOptions, hint: string): Value {
  if (filterShape[2] !== x.shape[1]) throw new Error(`${hint}: depthwise filter expects ${filterShape[2]} channels, the value has ${x.shape[1]}`);
  const w = depthwiseToOnnx(filter, filterShape);
  return emitConv(b, x, hint, w, w.group, [filterShape[0], filterShape[1]], opts);
}

function pool(b: OnnxGraphBuilder, op: 'MaxPool' | 'AveragePool', x: Value, kernel: [number, number], strides: [number, number], padding: TfPadding, hint: string): Value {
  const [n, c, h, w] = spatial(x, hint);
  const pads = resolvePadding(padding, h, w, kernel, strides);
  const outH = convOutputSize(h, kernel[0], strides[0], pads[0], pads[1]);
  const outW = convOutputSize(w, kernel[1], strides[1], pads[2], pads[3]);
  // count_include_pad = 0 (the default) matches TF, which averages over the real pixels only.
  return b.node(op, [x.name], [n, c, outH, outW], hint, { kernel_shape: kernel, strides, pads: onnxPads(pads) });
}

export function maxPool(b: OnnxGraphBuilder, x: Value, kernel: [number, number], strides: [number, number], padding: TfPadding, hint: string): Value {
  return pool(b, 'MaxPool', x, kernel, strides, padding, hint);
}

export function avgPool(b: OnnxGraphBuilder, x: Value, kernel: [number, number], strides: [number, number], padding: TfPadding, hint: string): Value {
  return pool(b, 'AveragePool', x, kernel, strides, padding, hint);
}

export function relu(b: OnnxGraphBuilder, x: Value, hint: string): Value {
  return b.node('Relu', [x.name], x.shape, hint);
}

/** min(max(x, lo), hi): Relu6 and the Relu -> Minimum -> Maximum chains of Keras exports. */
export function clip(b: OnnxGraphBuilder, x: Value, lo: number, hi: number, hint: string): Value {
  const loName = b.floatConstant(`${hint}/min`, [], new Float32Array([lo]));
  const hiName = b.floatConstant(`${hint}/max`, [], new Float32Array([hi]));
  return b.node('Clip', [x.name, loName, hiName], x.shape, hint);
}

/** tf.prelu with per-channel alpha ([C] in TF), as ONNX PRelu with slope [C, 1, 1]. */
export function prelu(b: OnnxGraphBuilder, x: Value, alpha: Float32Array, hint: string): Value {
  const c = x.shape[1];
  if (alpha.length !== c && alpha.length !== 1) throw new Error(`${hint}: ${alpha.length} PReLU slopes for ${c} channels`);
  const slope = b.floatConstant(`${hint}/slope`, alpha.length === 1 ? [1] : [c, 1, 1], alpha);
  return b.node('PRelu', [x.name, slope], x.shape, hint);
}

/** Zero padding of the spatial axes (TF paddings [[0,0],[top,bottom],[left,right],[0,0]]). */
export function padSpatial(b: OnnxGraphBuilder, x: Value, [top, bottom, left, right]: Pads4, hint: string): Value {
  const [n, c, h, w] = spatial(x, hint);
  const pads = b.int64Constant(`${hint}/pads`, [0, 0, top, left, 0, 0, bottom, right]);
  return b.node('Pad', [x.name, pads], [n, c, h + top + bottom, w + left + right], hint, { mode: 'constant' });
}

/** Appends `extra` zero channels (face-api's residual shortcut when the width doubles). */
export function padChannels(b: OnnxGraphBuilder, x: Value, extra: number, hint: string): Value {
  const [n, c, h, w] = spatial(x, hint);
  const pads = b.int64Constant(`${hint}/pads`, [0, 0, 0, 0, 0, extra, 0, 0]);
  return b.node('Pad', [x.name, pads], [n, c + extra, h, w], hint, { mode: 'constant' });
}

export function add(b: OnnxGraphBuilder, x: Value, y: Value, hint: string): Value {
  if (x.shape.join(',') !== y.shape.join(',')) throw new Error(`${hint}: adding [${x.shape}] and [${y.shape}]`);
  return b.node('Add', [x.name, y.name], x.shape, hint);
}

/** Mean over H and W (TF: mean over axes [1, 2] of NHWC). */
export function spatialMean(b: OnnxGraphBuilder, x: Value, keepDims: boolean, hint: string): Value {
  const [n, c] = spatial(x, hint);
  return b.node('ReduceMean', [x.name], keepDims ? [n, c, 1, 1] : [n, c], hint, { axes: [2, 3], keepdims: keepDims ? 1 : 0 });
}

/** x [N, K] times a TF weight [K, M] (+ bias [M]). */
export function dense(b: OnnxGraphBuilder, x: Value, weight: Float32Array, shape: readonly number[], bias: Float32Array | undefined, hint: string): Value {
  const [k, m] = shape;
  if (x.shape.length !== 2 || x.shape[1] !== k) throw new Error(`${hint}: [${x.shape}] times [${shape}]`);
  const wName = b.floatConstant(`${hint}/weights`, [k, m], weight);
  if (!bias) return b.node('MatMul', [x.name, wName], [x.shape[0], m], hint);
  const bName = b.floatConstant(`${hint}/bias`, [m], bias);
  return b.node('Gemm', [x.name, wName, bName], [x.shape[0], m], hint);
}

/**
 * The generic graph-model converter on small synthetic TF.js graph models,
 * run both by tfjs-converter (CPU) and by onnxruntime-web: every op mapping
 * FaceRes needs plus the others the converter claims (Pad, pooling, Prelu,
 * Reshape/flatten in NHWC order, _FusedConv2D, _FusedMatMul, batch norm),
 * with weights stored as float32, float16 and uint8.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { convertGraphModel } from '../../../scripts/models/tfjs/graphModelConverter.ts';
import { decodeWeights } from '../../../scripts/models/tfjs/weights.ts';
import { maxAbs, maxAbsDiff, nchwToNhwc, nhwcToNchw, randomFloats } from './helpers/compare.ts';
import { onnxOpCounts } from './helpers/onnxOps.ts';
import { runOnnx } from './helpers/onnxRun.ts';
import { attr, convAttrs, SyntheticGraph } from './helpers/syntheticGraph.ts';
import { loadGraphModelFromMemory } from './helpers/tfjsGraphModel.ts';

const TOL = 1e-5;

interface Check {
  readonly tfName: string;
  /** ONNX dims; 4-D outputs are compared after NCHW -> NHWC. */
  readonly dims: number[];
}

/** Runs the synthetic model through both and returns max |diff| per output, checking that outputs are not trivially zero. */
async function compareBoth(
  g: SyntheticGraph,
  input: { name: string; h: number; w: number; c: number },
  outputs: Check[],
  n = 2,
): Promise<{ diffs: Record<string, number>; ops: Record<string, number> }> {
  const { model, bytes } = g.files();
  const x = randomFloats(n * input.h * input.w * input.c, 1234);
  const tfModel = await loadGraphModelFromMemory(model, bytes);
  const xt = tf.tensor4d(x, [n, input.h, input.w, input.c]);
  const refs = tfModel.execute(
    xt,
    outputs.map((o) => o.tfName),
  ) as tf.Tensor[];
  const converted = convertGraphModel({
    name: 'synthetic',
    graph: model,
    weights: decodeWeights(model.weightsManifest, () => bytes),
    input: { tfName: input.name, onnxName: 'input', height: input.h, width: input.w, channels: input.c },
    outputs: outputs.map((o, i) => ({ tfName: o.tfName, onnxName: `out${i}` })),
  });
  const ours = await runOnnx(converted.bytes, { input: { data: nhwcToNchw(x, [n, input.h, input.w, input.c]), dims: [n, input.c, input.h, input.w] } });
  const diffs: Record<string, number> = {};
  outputs.forEach((o, i) => {
    const got = ours[`out${i}`];
    expect([...got.dims]).toEqual(o.dims.map((d) => (d < 0 ? n : d)));
    const ref = refs[i].dataSync() as Float32Array;
    expect(maxAbs(ref)).toBeGreaterThan(1e-3);
    const mine = got.dims.length === 4 ? nchwToNhwc(got.data, got.dims) : got.data;
    diffs[o.tfName] = maxAbsDiff(mine, ref);
  });
  refs.forEach((t) => t.dispose());
  xt.dispose();
  tfModel.dispose();
  return { diffs, ops: onnxOpCounts(converted.bytes) };
}

describe('graph-model converter vs tfjs-converter', () => {
  it('MobileNet block (FaceRes pattern): conv SAME/2 on an odd size, depthwise, Mul/Add folded, Relu/Minimum/Maximum as Clip, Mean', async () => {
    const g = new SyntheticGraph();
    const C = 8;
    g.placeholder('input_1', [-1, 9, 9, 3]);
    g.const('conv1/k', [3, 3, 3, C], randomFloats(3 * 3 * 3 * C, 1), 'float16');
    g.const('conv1/b', [C], randomFloats(C, 2), 'float16');
    g.op('conv1', 'Conv2D', ['input_1', 'conv1/k'], convAttrs(2, 'SAME'));
    g.op('conv1/add', 'Add', ['conv1', 'conv1/b']);
    g.const('six', [], [6]);
    g.const('zero', [], [0]);
    g.op('relu1', 'Relu', ['conv1/add']);
    g.op('relu1/min', 'Minimum', ['relu1', 'six']);
    g.op('relu1/clip', 'Maximum', ['relu1/min', 'zero']);
    g.const('dw/k', [3, 3, C, 1], randomFloats(9 * C, 3), 'float16');
    g.const(
      'dw/mul',
      [C],
      randomFloats(C, 4).map((v) => 1 + v),
      'float16',
    );
    g.const('dw/sub', [C], randomFloats(C, 5), 'float16');
    g.op('dw', 'DepthwiseConv2dNative', ['relu1/clip', 'dw/k'], convAttrs(2, 'SAME'));
    g.op('dw/bn_mul', 'Mul', ['dw', 'dw/mul']);
    g.op('dw/bn_add', 'Add', ['dw/bn_mul', 'dw/sub']);
    g.op('dw/relu', 'Relu', ['dw/bn_add']);
    g.op('dw/min', 'Minimum', ['dw/relu', 'six']);
    g.op('dw/clip', 'Maximum', ['dw/min', 'zero']);
    g.intConst('axes', [2], [1, 2]);
    g.op('gap', 'Mean', ['dw/clip', 'axes'], { keep_dims: attr.bool(false), Tidx: { type: 'DT_INT32' } });
    const { diffs, ops } = await compareBoth(g, { name: 'input_1', h: 9, w: 9, c: 3 }, [
      { tfName: 'relu1/clip', dims: [-1, C, 5, 5] },
      { tfName: 'dw/clip', dims: [-1, C, 3, 3] },
      { tfName: 'gap', dims: [-1, C] },
    ]);
    for (const v of Object.values(diffs)) expect(v).toBeLessThan(TOL);
    // Bias and batch-norm Mul/Add went into the convs; each Relu/Minimum/Maximum chain is one Clip.
    expect(ops).toMatchObject({ Conv: 2, Clip: 2, ReduceMean: 1 });
    for (const op of ['Add', 'Mul', 'Min', 'Max', 'Relu']) expect(ops[op]).toBeUndefined();
  });

  it('batch norm (FusedBatchNormV3) folded into a conv, depthwise with channel multiplier 2, uint8 weights', async () => {
    const g = new SyntheticGraph();
    g.placeholder('x', [-1, 8, 8, 4]);
    g.const('k', [3, 3, 4, 6], randomFloats(3 * 3 * 4 * 6, 10), 'uint8');
    g.const(
      'gamma',
      [6],
      randomFloats(6, 11).map((v) => 1 + 0.5 * v),
    );
    g.const('beta', [6], randomFloats(6, 12));
    g.const('mean', [6], randomFloats(6, 13));
    g.const(
      'var',
      [6],
      randomFloats(6, 14).map((v) => 0.5 + Math.abs(v)),
    );
    g.op('conv', 'Conv2D', ['x', 'k'], convAttrs(1, 'SAME'));
    g.op('bn', 'FusedBatchNormV3', ['conv', 'gamma', 'beta', 'mean', 'var'], { epsilon: attr.float(0.001), data_format: attr.str('NHWC'), is_training: attr.bool(false) });
    g.const('dwk', [3, 3, 6, 2], randomFloats(3 * 3 * 6 * 2, 15), 'uint8');
    g.op('dw', 'DepthwiseConv2dNative', ['bn', 'dwk'], convAttrs(2, 'SAME'));
    const { diffs, ops } = await compareBoth(g, { name: 'x', h: 8, w: 8, c: 4 }, [
      { tfName: 'bn', dims: [-1, 6, 8, 8] },
      { tfName: 'dw', dims: [-1, 12, 4, 4] },
    ]);
    for (const v of Object.values(diffs)) expect(v).toBeLessThan(TOL);
    expect(ops.Conv).toBe(2);
    expect(ops.Mul).toBeUndefined();
  });

  it('_FusedConv2D (BiasAdd+Relu, Prelu), Pad, AvgPool/MaxPool SAME, Reshape flatten in NHWC order, _FusedMatMul, Sub, Mean over one axis', async () => {
    const g = new SyntheticGraph();
    g.placeholder('x', [-1, 7, 7, 3]);
    g.intConst('pads', [4, 2], [0, 0, 1, 0, 0, 1, 0, 0]);
    g.op('pad', 'Pad', ['x', 'pads'], { Tpaddings: { type: 'DT_INT32' } });
    g.const('k1', [3, 3, 3, 5], randomFloats(3 * 3 * 3 * 5, 20));
    g.const('b1', [5], randomFloats(5, 21));
    g.op('fc1', '_FusedConv2D', ['pad', 'k1', 'b1'], { ...convAttrs(2, 'VALID'), fused_ops: attr.strs(['BiasAdd', 'Relu']), num_args: attr.int(1) });
    g.op('avg', 'AvgPool', ['fc1'], { ksize: attr.ints([1, 3, 3, 1]), strides: attr.ints([1, 2, 2, 1]), padding: attr.str('SAME'), data_format: attr.str('NHWC') });
    g.op('max', 'MaxPool', ['fc1'], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 1, 1, 1]), padding: attr.str('SAME'), data_format: attr.str('NHWC') });
    g.const('k2', [1, 1, 5, 4], randomFloats(20, 22));
    g.const('b2', [4], randomFloats(4, 23));
    g.const(
      'alpha',
      [4],
      randomFloats(4, 24).map((v) => 0.25 + 0.1 * v),
    );
    g.op('fc2', '_FusedConv2D', ['avg', 'k2', 'b2', 'alpha'], { ...convAttrs(1, 'SAME'), fused_ops: attr.strs(['BiasAdd', 'Prelu']), num_args: attr.int(2) });
    g.intConst('shape', [2], [-1, 2 * 2 * 4]);
    g.op('flat', 'Reshape', ['fc2', 'shape'], { Tshape: { type: 'DT_INT32' } });
    g.const('wm', [16, 6], randomFloats(96, 25), 'float16');
    g.const('bm', [6], randomFloats(6, 26));
    g.op('dense', '_FusedMatMul', ['flat', 'wm', 'bm'], { fused_ops: attr.strs(['BiasAdd']), num_args: attr.int(1), transpose_a: attr.bool(false), transpose_b: attr.bool(false) });
    g.const('c', [6], randomFloats(6, 27));
    g.op('logits', 'Sub', ['dense', 'c']);
    g.intConst('axis1', [1], [1]);
    g.op('rowmean', 'Mean', ['fc2', 'axis1'], { keep_dims: attr.bool(false), Tidx: { type: 'DT_INT32' } });
    const { diffs } = await compareBoth(g, { name: 'x', h: 7, w: 7, c: 3 }, [
      { tfName: 'fc1', dims: [-1, 5, 3, 3] },
      { tfName: 'max', dims: [-1, 5, 3, 3] },
      { tfName: 'fc2', dims: [-1, 4, 2, 2] },
      { tfName: 'logits', dims: [-1, 6] },
      { tfName: 'rowmean', dims: [-1, 2, 4] },
    ]);
    for (const v of Object.values(diffs)) expect(v).toBeLessThan(TOL);
  });

  it('prunes what the outputs do not need, and refuses unsupported ops by name', () => {
    const g = new SyntheticGraph();
    g.placeholder('x', [-1, 4, 4, 2]);
    g.op('r', 'Relu', ['x']);
    g.op('weird', 'Erf', ['x']);
    const { model, bytes } = g.files();
    const base = { name: 't', graph: model, weights: decodeWeights(model.weightsManifest, () => bytes), input: { tfName: 'x', onnxName: 'input', height: 4, width: 4, channels: 2 } };
    const kept = convertGraphModel({ ...base, outputs: [{ tfName: 'r', onnxName: 'y' }] });
    expect(kept.keptOps).toEqual({ Placeholder: 1, Relu: 1 });
    expect(() => convertGraphModel({ ...base, outputs: [{ tfName: 'weird', onnxName: 'y' }] })).toThrow(/Erf \(node weird\) is not supported/);
  });
});

/**
 * Generic TF.js graph model -> ONNX, for the ops that face recognition
 * graphs use. Activations stay NCHW inside the ONNX graph while TF thinks
 * NHWC, so every op translates axes and constants (layout.ts); convolutions
 * absorb the per-channel affine steps that follow them (Mul / Add / BiasAdd /
 * Sub / RealDiv by constants, FusedBatchNorm), and Relu -> Minimum ->
 * Maximum chains become one Clip. Anything outside the supported set stops
 * the conversion with the node named: a silently wrong op is worse.
 */
import { batchNormAffine, composeAffine, identityAffine, perChannel, type ChannelAffine } from './folding.ts';
import { nhwcAxisToNchw, nhwcConstantToNchw, type Pads4 } from './layout.ts';
import { OnnxGraphBuilder, type Value } from './onnxBuilder.ts';
import { attrBool, attrFloat, attrInts, attrString, attrStrings, consumersOf, dataInputs, pruneAndOrder, type TfGraphModelJson, type TfNodeDef } from './tfGraph.ts';
import { avgPool, clip, conv2d, dense, depthwiseConv2d, maxPool, prelu, relu, type TfPadding } from './tfOps.ts';
import type { WeightTensor } from './weights.ts';

export interface GraphModelConversion {
  readonly name: string;
  readonly graph: TfGraphModelJson;
  readonly weights: ReadonlyMap<string, WeightTensor>;
  /** The Placeholder to feed; height, width, channels of one NHWC image. The ONNX input is [batch, C, H, W]. */
  readonly input: { readonly tfName: string; readonly onnxName: string; readonly height: number; readonly width: number; readonly channels: number };
  /** TF tensors to expose, under ONNX output names. Nodes no output needs are pruned. */
  readonly outputs: readonly { readonly tfName: string; readonly onnxName: string }[];
}

export interface ConvertedGraph {
  readonly bytes: Uint8Array;
  /** ONNX shape of each output (-1 = batch; 4-D maps are NCHW). */
  readonly outputShapes: Readonly<Record<string, readonly number[]>>;
  /** TF ops kept after pruning, by op name: what the conversion covered. */
  readonly keptOps: Readonly<Record<string, number>>;
}

/** A converted TF tensor: a constant (kept in TF layout until an op needs it), a 4-D NCHW activation, or any other activation (same layout in TF and ONNX). */
type Converted = { kind: 'const'; tensor: WeightTensor } | { kind: 'nchw'; value: Value } | { kind: 'plain'; value: Value };

const AFFINE_OPS = new Set(['Mul', 'Add', 'AddV2', 'BiasAdd', 'Sub', 'RealDiv', 'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3']);
const BINARY_ONNX_OP: Record<string, string> = {
  Add: 'Add',
  AddV2: 'Add',
  BiasAdd: 'Add',
  Sub: 'Sub',
  Mul: 'Mul',
  RealDiv: 'Div',
  Maximum: 'Max',
  Minimum: 'Min',
};

function broadcastShapes(a: readonly number[], b: readonly number[], where: string): number[] {
  const n = Math.max(a.length, b.length);
  const pa = [...new Array(n - a.length).fill(1), ...a];
  const pb = [...new Array(n - b.length).fill(1), ...b];
  return pa.map((x, i) => {
    const y = pb[i];
    if (x === y || y === 1) return x;
    if (x === 1) return y;
    throw new Error(`${where}: shapes [${a}] and [${b}] do not broadcast`);
  });
}

class GraphModelConverter {
  private readonly b: OnnxGraphBuilder;
  private readonly converted = new Map<string, Converted>();
  private readonly byName: Map<string, TfNodeDef>;
  private readonly consumers: Map<string, string[]>;
  private readonly requested: Set<string>;
  /** Nodes folded into an earlier node's ONNX op. */
  private readonly absorbed = new Set<string>();
  private readonly nodes: TfNodeDef[];

  constructor(private readonly c: GraphModelConversion) {
    this.b = new OnnxGraphBuilder(c.name);
    this.nodes = pruneAndOrder(
      c.graph.modelTopology.node,
      c.outputs.map((o) => o.tfName),
    );
    this.byName = new Map(this.nodes.map((n) => [n.name, n]));
    this.consumers = consumersOf(this.nodes);
    this.requested = new Set(c.outputs.map((o) => o.tfName));
  }

  run(): ConvertedGraph {
    for (const node of this.nodes) {
      if (this.absorbed.has(node.name)) continue;
      this.converted.set(node.name, this.convert(node));
    }
    const outputShapes: Record<string, readonly number[]> = {};
    for (const o of this.c.outputs) {
      const v = this.get(o.tfName);
      if (v.kind === 'const') throw new Error(`Output ${o.tfName} is a constant`);
      outputShapes[o.onnxName] = this.b.output(v.value, o.onnxName).shape;
    }
    const keptOps: Record<string, number> = {};
    for (const n of this.nodes) keptOps[n.op] = (keptOps[n.op] ?? 0) + 1;
    return { bytes: this.b.build(), outputShapes, keptOps };
  }

  private get(name: string): Converted {
    const v = this.converted.get(name);
    if (!v) throw new Error(`TF tensor ${name} used before it was converted`);
    return v;
  }

  private activation(name: string, node: TfNodeDef): { kind: 'nchw' | 'plain'; value: Value } {
    const v = this.get(name);
    if (v.kind === 'const') throw new Error(`TF node ${node.name} (${node.op}): input ${name} is a constant; constant folding is not supported`);
    return v;
  }

  private constant(name: string, node: TfNodeDef): WeightTensor {
    const v = this.get(name);
    if (v.kind !== 'const') throw new Error(`TF node ${node.name} (${node.op}): input ${name} must be a constant`);
    return v.tensor;
  }

  private constFloats(name: string, node: TfNodeDef): Float32Array {
    const t = this.constant(name, node);
    return t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
  }

  private constInts(name: string, node: TfNodeDef): number[] {
    return Array.from(this.constant(name, node).data, (v) => Math.round(v));
  }

  private only(node: TfNodeDef): { kind: 'nchw' | 'plain'; value: Value } {
    return this.activation(dataInputs(node)[0], node);
  }

  private convert(node: TfNodeDef): Converted {
    switch (node.op) {
      case 'Placeholder':
        return this.placeholder(node);
      case 'Const': {
        const tensor = this.c.weights.get(node.name);
        if (!tensor) throw new Error(`TF constant ${node.name} has no weights in the manifest`);
        return { kind: 'const', tensor };
      }
      case 'Identity':
        return this.get(dataInputs(node)[0]);
      case 'Conv2D':
      case 'DepthwiseConv2dNative':
      case '_FusedConv2D':
      case 'FusedDepthwiseConv2dNative':
        return this.convolution(node);
      case 'Relu':
        return this.reluChain(node);
      case 'Relu6': {
        const x = this.only(node);
        return { kind: x.kind, value: clip(this.b, x.value, 0, 6, node.name) };
      }
      case 'LeakyRelu': {
        const x = this.only(node);
        return { kind: x.kind, value: this.b.node('LeakyRelu', [x.value.name], x.value.shape, node.name, { alpha: { float: attrFloat(node, 'alpha', 0.2) } }) };
      }
      case 'Prelu': {
        const [xName, aName] = dataInputs(node);
        const x = this.activation(xName, node);
        if (x.kind !== 'nchw') throw new Error(`TF node ${node.name}: Prelu supported on 4-D maps only`);
        return { kind: 'nchw', value: prelu(this.b, x.value, this.constFloats(aName, node), node.name) };
      }
      case 'Sigmoid':
      case 'Tanh': {
        const x = this.only(node);
        return { kind: x.kind, value: this.b.node(node.op, [x.value.name], x.value.shape, node.name) };
      }
      case 'Softmax': {
        const x = this.only(node);
        if (x.kind !== 'plain') throw new Error(`TF node ${node.name}: Softmax over a 4-D map is not supported`);
        return { kind: 'plain', value: this.b.node('Softmax', [x.value.name], x.value.shape, node.name, { axis: -1 }) };
      }
      case 'FusedBatchNorm':
      case 'FusedBatchNormV2':
      case 'FusedBatchNormV3':
        return this.standaloneAffine(node);
      case 'Add':
      case 'AddV2':
      case 'BiasAdd':
      case 'Sub':
      case 'Mul':
      case 'RealDiv':
      case 'Maximum':
      case 'Minimum':
        return this.binary(node);
      case 'Mean':
        return this.mean(node);
      case 'MatMul':
      case '_FusedMatMul':
        return this.matMul(node);
      case 'Pad':
        return this.pad(node);
      case 'Reshape':
        return this.reshape(node);
      case 'AvgPool':
      case 'MaxPool':
        return this.pool(node);
      default:
        throw new Error(`TF op ${node.op} (node ${node.name}) is not supported by the TF.js -> ONNX converter`);
    }
  }

  private placeholder(node: TfNodeDef): Converted {
    const { tfName, onnxName, height, width, channels } = this.c.input;
    if (node.name !== tfName) throw new Error(`Graph has an unfed input ${node.name} (only ${tfName} is fed)`);
    return { kind: 'nchw', value: this.b.input(onnxName, [-1, channels, height, width]) };
  }

  private padding(node: TfNodeDef): TfPadding {
    const p = attrString(node, 'padding');
    if (p === 'SAME' || p === 'VALID') return p;
    if (p === 'EXPLICIT') {
      const e = attrInts(node, 'explicit_paddings');
      return [e[2], e[3], e[4], e[5]] as Pads4;
    }
    throw new Error(`TF node ${node.name}: padding "${p}" not supported`);
  }

  private checkNhwc(node: TfNodeDef): void {
    const f = attrString(node, 'data_format', 'NHWC');
    if (f !== 'NHWC') throw new Error(`TF node ${node.name}: data_format ${f} not supported`);
  }

  /** Looking ahead from a conv or relu meets constants that topological order has not reached yet; convert them early. */
  private convertConstInputs(node: TfNodeDef): void {
    for (const dep of dataInputs(node)) {
      const d = this.byName.get(dep);
      if (d?.op === 'Const' && !this.converted.has(dep)) this.converted.set(dep, this.convert(d));
    }
  }

  /**
   * The affine map a node applies when it reads `from` and its other inputs
   * are per-channel (or scalar) constants; null when it is not such a step.
   */
  private affineStep(node: TfNodeDef, from: string, channels: number): ChannelAffine | null {
    if (!AFFINE_OPS.has(node.op)) return null;
    const ins = dataInputs(node);
    const constArg = (name: string): Float64Array | null => {
      const v = this.converted.get(name);
      if (v?.kind !== 'const' || v.tensor.dtype !== 'float32') return null;
      const { shape } = v.tensor;
      // Only constants that vary along channels at most: [], [1], [C], [1, 1, 1, C].
      if (shape.slice(0, -1).some((d) => d !== 1) || (shape.length > 0 && shape[shape.length - 1] !== channels && shape[shape.length - 1] !== 1)) return null;
      return perChannel(v.tensor.data, channels, name);
    };
    const ones = new Float64Array(channels).fill(1);
    const zeros = new Float64Array(channels);
    if (node.op.startsWith('FusedBatchNorm')) {
      if (ins[0] !== from || attrBool(node, 'is_training', false)) return null;
      const [g, beta, mean, variance] = ins.slice(1, 5).map(constArg);
      if (!g || !beta || !mean || !variance) return null;
      return batchNormAffine(g, beta, mean, variance, attrFloat(node, 'epsilon', 0.001));
    }
    if (ins.length !== 2 || ins[0] === ins[1]) return null;
    const otherIndex = ins[0] === from ? 1 : ins[1] === from ? 0 : -1;
    if (otherIndex < 0) return null;
    const k = constArg(ins[otherIndex]);
    if (!k) return null;
    switch (node.op) {
      case 'Mul':
        return { scale: k, shift: zeros };
      case 'Add':
      case 'AddV2':
      case 'BiasAdd':
        return { scale: ones, shift: k };
      case 'Sub':
        return otherIndex === 1 ? { scale: ones, shift: k.map((v) => -v) } : null;
      case 'RealDiv':
        return otherIndex === 1 ? { scale: k.map((v) => 1 / v), shift: zeros } : null;
      default:
        return null;
    }
  }

  /** The node that reads `name` when it is the only one (a chain may fold only such a step into its start); otherwise undefined. */
  private soleConsumer(name: string): TfNodeDef | undefined {
    const next = this.consumers.get(name) ?? [];
    if (next.length !== 1) return undefined;
    const node = this.byName.get(next[0]);
    // consumers and byName are built from the same pruned node list.
    if (!node) throw new Error(`TF node ${next[0]} reads ${name} but is missing from the pruned graph`);
    return node;
  }

  /** Follows single-consumer affine steps after `start`, marking them absorbed. */
  private absorbAffineChain(start: string, channels: number): { affine: ChannelAffine; last: string } {
    let affine = identityAffine(channels);
    let last = start;
    for (;;) {
      if (this.requested.has(last)) break;
      const node = this.soleConsumer(last);
      if (!node) break;
      this.convertConstInputs(node);
      const step = this.affineStep(node, last, channels);
      if (!step) break;
      affine = composeAffine(affine, step);
      this.absorbed.add(node.name);
      last = node.name;
    }
    return { affine, last };
  }

  private convolution(node: TfNodeDef): Converted {
    this.checkNhwc(node);
    const [xName, fName, ...args] = dataInputs(node);
    const x = this.activation(xName, node);
    if (x.kind !== 'nchw') throw new Error(`TF node ${node.name}: convolution input is not a 4-D map`);
    const filter = this.constant(fName, node);
    const depthwise = node.op.includes('Depthwise');
    const outC = depthwise ? filter.shape[2] * filter.shape[3] : filter.shape[3];
    const strides = attrInts(node, 'strides', [1, 1, 1, 1]);
    const dilations = attrInts(node, 'dilations', [1, 1, 1, 1]);
    // TF.js executes fused ops [BiasAdd?, activation?] (names compared case-insensitively, as tfjs-converter does); it refuses FusedBatchNorm here, so do we.
    const fused = node.op.startsWith('_Fused') || node.op.startsWith('Fused') ? attrStrings(node, 'fused_ops').map((s) => s.toLowerCase()) : [];
    let affine = identityAffine(outC);
    let argAt = 0;
    const activations: string[] = [];
    for (const op of fused) {
      if (op === 'biasadd') affine = composeAffine(affine, { scale: new Float64Array(outC).fill(1), shift: Float64Array.from(this.constFloats(args[argAt++], node)) });
      else if (op === 'fusedbatchnorm') throw new Error(`TF node ${node.name}: FusedBatchNorm inside a fused conv is not supported (TF.js refuses it too)`);
      else activations.push(op);
    }
    if (activations.length > 1) throw new Error(`TF node ${node.name}: fused ops [${fused}] not supported`);
    let last = node.name;
    if (activations.length === 0) {
      const chain = this.absorbAffineChain(node.name, outC);
      affine = composeAffine(affine, chain.affine);
      last = chain.last;
    }
    const opts = {
      strides: [strides[1], strides[2]] as [number, number],
      dilations: [dilations[1], dilations[2]] as [number, number],
      padding: this.padding(node),
      affine,
    };
    const data = this.constFloats(fName, node);
    let y = depthwise ? depthwiseConv2d(this.b, x.value, data, filter.shape, opts, node.name) : conv2d(this.b, x.value, data, filter.shape, opts, node.name);
    const act = activations[0];
    if (act === 'relu') y = relu(this.b, y, `${node.name}/relu`);
    else if (act === 'relu6') y = clip(this.b, y, 0, 6, `${node.name}/relu6`);
    else if (act === 'prelu') y = prelu(this.b, y, this.constFloats(args[argAt], node), `${node.name}/prelu`);
    else if (act === 'leakyrelu') y = this.b.node('LeakyRelu', [y.name], y.shape, `${node.name}/leakyrelu`, { alpha: { float: attrFloat(node, 'leakyrelu_alpha', 0.2) } });
    else if (act !== undefined) throw new Error(`TF node ${node.name}: fused activation ${act} not supported`);
    const out: Converted = { kind: 'nchw', value: y };
    if (last !== node.name) this.converted.set(last, out);
    return out;
  }

  /** Relu followed by Minimum / Maximum with scalar constants (Keras' relu(max_value=6)) -> one Clip. */
  private reluChain(node: TfNodeDef): Converted {
    const x = this.only(node);
    let lo = 0;
    let hi = Number.POSITIVE_INFINITY;
    let last = node.name;
    for (;;) {
      if (this.requested.has(last)) break;
      const n = this.soleConsumer(last);
      if (!n) break;
      if (n.op !== 'Minimum' && n.op !== 'Maximum') break;
      this.convertConstInputs(n);
      const ins = dataInputs(n);
      const other = ins[0] === last ? ins[1] : ins[0];
      const c = this.converted.get(other);
      if (c?.kind !== 'const' || c.tensor.data.length !== 1) break;
      const k = c.tensor.data[0];
      // Clamps compose: min(clamp(x, lo, hi), k) = clamp(x, min(lo, k), min(hi, k)); likewise for max.
      if (n.op === 'Minimum') [lo, hi] = [Math.min(lo, k), Math.min(hi, k)];
      else [lo, hi] = [Math.max(lo, k), Math.max(hi, k)];
      this.absorbed.add(n.name);
      last = n.name;
    }
    const value = lo === 0 && hi === Number.POSITIVE_INFINITY ? relu(this.b, x.value, node.name) : clip(this.b, x.value, lo, hi, last);
    const out: Converted = { kind: x.kind, value };
    if (last !== node.name) this.converted.set(last, out);
    return out;
  }

  private constantFor(target: 'nchw' | 'plain', t: WeightTensor, hint: string): Value {
    const data = t.data instanceof Float32Array ? t.data : Float32Array.from(t.data);
    const { data: d, dims } = target === 'nchw' ? nhwcConstantToNchw(data, t.shape) : { data, dims: [...t.shape] };
    return { name: this.b.floatConstant(hint, dims, d), shape: dims };
  }

  private binary(node: TfNodeDef): Converted {
    const ins = dataInputs(node);
    if (ins.length !== 2) throw new Error(`TF node ${node.name} (${node.op}): expected 2 inputs`);
    const [a, c] = ins.map((n) => this.get(n));
    if (a.kind === 'const' && c.kind === 'const') throw new Error(`TF node ${node.name} (${node.op}): both inputs constant; constant folding is not supported`);
    const kind = a.kind === 'nchw' || c.kind === 'nchw' ? 'nchw' : 'plain';
    if (a.kind !== 'const' && c.kind !== 'const' && a.kind !== c.kind) throw new Error(`TF node ${node.name}: mixing a 4-D map with a ${a.kind === 'plain' ? 'plain' : 'map'} value`);
    const operand = (v: Converted, i: number): Value => (v.kind === 'const' ? this.constantFor(kind, v.tensor, `${node.name}/arg${i}`) : v.value);
    const [va, vc] = [operand(a, 0), operand(c, 1)];
    const shape = broadcastShapes(
      va.shape.map((d) => (d < 0 ? 1 : d)),
      vc.shape.map((d) => (d < 0 ? 1 : d)),
      node.name,
    );
    // Restore the dynamic batch where an activation carries it.
    const batchDynamic = [va, vc].some((v) => v.shape.length === shape.length && v.shape[0] < 0);
    if (batchDynamic) shape[0] = -1;
    return { kind, value: this.b.node(BINARY_ONNX_OP[node.op], [va.name, vc.name], shape, node.name) };
  }

  private standaloneAffine(node: TfNodeDef): Converted {
    const x = this.activation(dataInputs(node)[0], node);
    const channels = x.kind === 'nchw' ? x.value.shape[1] : x.value.shape[x.value.shape.length - 1];
    const step = this.affineStep(node, dataInputs(node)[0], channels);
    if (!step) throw new Error(`TF node ${node.name} (${node.op}): only inference batch norm with constant statistics is supported`);
    const dims = x.kind === 'nchw' ? [channels, 1, 1] : [channels];
    const s = this.b.floatConstant(`${node.name}/scale`, dims, Float32Array.from(step.scale));
    const t = this.b.floatConstant(`${node.name}/shift`, dims, Float32Array.from(step.shift));
    const m = this.b.node('Mul', [x.value.name, s], x.value.shape, `${node.name}/mul`);
    return { kind: x.kind, value: this.b.node('Add', [m.name, t], x.value.shape, node.name) };
  }

  private mean(node: TfNodeDef): Converted {
    const [xName, axesName] = dataInputs(node);
    const x = this.activation(xName, node);
    const keep = attrBool(node, 'keep_dims', false);
    const rank = x.value.shape.length;
    const tfAxes = [...new Set(this.constInts(axesName, node).map((a) => (a < 0 ? a + rank : a)))].sort();
    const axes = x.kind === 'nchw' ? tfAxes.map(nhwcAxisToNchw).sort() : tfAxes;
    const shape = x.value.shape.flatMap((d, i) => (axes.includes(i) ? (keep ? [1] : []) : [d]));
    const reduced = this.b.node('ReduceMean', [x.value.name], shape, node.name, { axes, keepdims: keep ? 1 : 0 });
    if (x.kind === 'plain' || keep) return { kind: x.kind, value: reduced };
    // Dropping axes of an NCHW map leaves them in NCHW order; TF's result has them in NHWC order.
    const kept = [0, 1, 2, 3].filter((i) => !tfAxes.includes(i)).map(nhwcAxisToNchw);
    const rankOut = kept.length;
    const perm = kept.map((onnxAxis) => [...kept].sort((p, q) => p - q).indexOf(onnxAxis));
    if (perm.every((p, i) => p === i)) return { kind: rankOut === 4 ? 'nchw' : 'plain', value: reduced };
    const tShape = perm.map((p) => shape[p]);
    return { kind: 'plain', value: this.b.node('Transpose', [reduced.name], tShape, `${node.name}/to_tf_order`, { perm }) };
  }

  private matMul(node: TfNodeDef): Converted {
    const [aName, wName, ...args] = dataInputs(node);
    const a = this.activation(aName, node);
    if (a.kind !== 'plain' || a.value.shape.length !== 2) throw new Error(`TF node ${node.name}: MatMul input must be a 2-D value`);
    if (attrBool(node, 'transpose_a', false)) throw new Error(`TF node ${node.name}: transpose_a not supported`);
    const w = this.constant(wName, node);
    let data = w.data instanceof Float32Array ? w.data : Float32Array.from(w.data);
    let [k, m] = w.shape;
    if (attrBool(node, 'transpose_b', false)) {
      const t = new Float32Array(data.length);
      for (let i = 0; i < k; i++) for (let j = 0; j < m; j++) t[j * k + i] = data[i * m + j];
      data = t;
      [k, m] = [m, k];
    }
    const fused = node.op === '_FusedMatMul' ? attrStrings(node, 'fused_ops').map((s) => s.toLowerCase()) : [];
    let bias: Float32Array | undefined;
    let act: string | undefined;
    for (const op of fused) {
      if (op === 'biasadd') bias = this.constFloats(args[0], node);
      else if (act === undefined) act = op;
      else throw new Error(`TF node ${node.name}: fused ops [${fused}] not supported`);
    }
    let y = dense(this.b, a.value, data, [k, m], bias, node.name);
    if (act === 'relu') y = relu(this.b, y, `${node.name}/relu`);
    else if (act === 'relu6') y = clip(this.b, y, 0, 6, `${node.name}/relu6`);
    else if (act !== undefined) throw new Error(`TF node ${node.name}: fused activation ${act} not supported`);
    return { kind: 'plain', value: y };
  }

  private pad(node: TfNodeDef): Converted {
    const [xName, pName] = dataInputs(node);
    const x = this.activation(xName, node);
    const p = this.constInts(pName, node); // [[before, after] per TF axis]
    const rank = x.value.shape.length;
    const order = x.kind === 'nchw' ? [0, 3, 1, 2] : [...Array(rank).keys()]; // ONNX axis i is TF axis order[i]
    const pads = [...order.map((t) => p[2 * t]), ...order.map((t) => p[2 * t + 1])];
    const shape = x.value.shape.map((d, i) => (d < 0 ? d : d + pads[i] + pads[i + rank]));
    const padsName = this.b.int64Constant(`${node.name}/pads`, pads);
    return { kind: x.kind, value: this.b.node('Pad', [x.value.name, padsName], shape, node.name, { mode: 'constant' }) };
  }

  private reshape(node: TfNodeDef): Converted {
    const [xName, sName] = dataInputs(node);
    let x = this.activation(xName, node).value;
    if (this.get(xName).kind === 'nchw') {
      // TF flattens in NHWC order; put the elements in that order first.
      const [n, c, h, w] = x.shape;
      x = this.b.node('Transpose', [x.name], [n, h, w, c], `${node.name}/to_nhwc`, { perm: [0, 2, 3, 1] });
    }
    const target = this.constInts(sName, node);
    const perImage = x.shape.slice(1).reduce((a, d) => a * d, 1);
    // A leading 1 or -1 is the batch: ONNX 0 copies it, so the graph keeps a dynamic batch.
    const batchFirst = x.shape[0] < 0 && (target[0] === 1 || target[0] === -1);
    const rest = batchFirst ? target.slice(1) : target;
    const known = rest.filter((d) => d !== -1).reduce((a, d) => a * d, 1);
    const outRest = rest.map((d) => (d === -1 ? perImage / known : d));
    const shape = batchFirst ? [-1, ...outRest] : outRest;
    const shapeName = this.b.int64Constant(`${node.name}/shape`, batchFirst ? [0, ...rest] : target);
    const y = this.b.node('Reshape', [x.name, shapeName], shape, node.name);
    if (shape.length !== 4) return { kind: 'plain', value: y };
    const [n, h, w, c] = shape;
    return { kind: 'nchw', value: this.b.node('Transpose', [y.name], [n, c, h, w], `${node.name}/to_nchw`, { perm: [0, 3, 1, 2] }) };
  }

  private pool(node: TfNodeDef): Converted {
    this.checkNhwc(node);
    const x = this.only(node);
    if (x.kind !== 'nchw') throw new Error(`TF node ${node.name}: pooling input is not a 4-D map`);
    const k = attrInts(node, 'ksize');
    const s = attrInts(node, 'strides');
    const emit = node.op === 'MaxPool' ? maxPool : avgPool;
    return { kind: 'nchw', value: emit(this.b, x.value, [k[1], k[2]], [s[1], s[2]], this.padding(node), node.name) };
  }
}

export function convertGraphModel(c: GraphModelConversion): ConvertedGraph {
  return new GraphModelConverter(c).run();
}

/** Small, explicit edits of ONNX graphs (decode, change, encode) with onnx-proto. */
import onnxProto from 'onnx-proto';

export const { onnx } = onnxProto;
export type Model = onnxProto.onnx.ModelProto;

export function decodeModel(bytes: Uint8Array): Model {
  return onnx.ModelProto.decode(bytes);
}

export function encodeModel(model: Model): Uint8Array {
  return onnx.ModelProto.encode(model).finish();
}

function graphOf(model: Model): onnxProto.onnx.IGraphProto {
  if (!model.graph) throw new Error('The ONNX model has no graph');
  return model.graph;
}

function initializerOf(model: Model, name: string): onnxProto.onnx.ITensorProto {
  const init = (graphOf(model).initializer ?? []).find((t) => t.name === name);
  if (!init) throw new Error(`No initializer named "${name}"`);
  return init;
}

function valueInfo(model: Model, name: string): onnxProto.onnx.IValueInfoProto | undefined {
  const g = graphOf(model);
  return [...(g.input ?? []), ...(g.output ?? []), ...(g.valueInfo ?? [])].find((v) => v.name === name);
}

/** Marks dimension 0 of every graph input and output as the symbolic "batch". */
export function makeBatchDynamic(model: Model): void {
  const g = graphOf(model);
  for (const v of [...(g.input ?? []), ...(g.output ?? [])]) {
    const dims = v.type?.tensorType?.shape?.dim;
    if (!dims || dims.length === 0) throw new Error(`Graph value ${v.name} has no shape to make dynamic`);
    dims[0] = onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' });
  }
  // Intermediate shape annotations would pin the batch to 1 again.
  g.valueInfo = [];
}

/** Exposes an intermediate tensor as an extra graph output with the given (batch-dynamic) shape. */
export function addOutput(model: Model, name: string, shape: readonly number[]): void {
  const g = graphOf(model);
  if (!(g.node ?? []).some((n) => n.output?.includes(name))) throw new Error(`No node produces tensor "${name}"`);
  const outputs = (g.output ??= []);
  if (valueInfo(model, name) && outputs.some((o) => o.name === name)) return;
  const dim = shape.map((d, i) => (i === 0 ? onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' }) : onnx.TensorShapeProto.Dimension.create({ dimValue: d })));
  outputs.push(
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({
        tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim }) }),
      }),
    }),
  );
}

/** The largest end a Slice may name for "to the end of the axis" on every backend (see clampOpenSliceEnds). */
export const OPEN_SLICE_END = 2 ** 31 - 1;

/**
 * Rewrites "to the end" in opset-9 Slice nodes (an `ends` attribute of
 * INT64_MAX, as PyTorch exports `x[:, :, 2:]`) as INT32_MAX. Both mean the
 * same to ONNX (ends are clamped to the axis), but onnxruntime-web 1.30's
 * WebGPU Slice mishandles INT64_MAX: on the faceplugin detector the next Mul
 * fails ("Failed to generate kernel's output") with graph optimisation on,
 * and gives boxes 0.11 off WASM's with it off. Returns how many ends changed.
 */
export function clampOpenSliceEnds(model: Model): number {
  let changed = 0;
  for (const node of graphOf(model).node ?? []) {
    if (node.opType !== 'Slice') continue;
    for (const a of node.attribute ?? []) {
      if (a.name !== 'ends' || !a.ints) continue;
      a.ints = a.ints.map((v) => {
        if (Number(v) <= OPEN_SLICE_END) return v;
        changed++;
        return OPEN_SLICE_END;
      });
    }
  }
  return changed;
}

/** Replaces an int64 initializer's values (used for Reshape shape constants). */
export function setInt64Initializer(model: Model, name: string, values: readonly number[]): void {
  const init = initializerOf(model, name);
  if (init.dataType !== onnx.TensorProto.DataType.INT64) throw new Error(`Initializer "${name}" is not int64`);
  const raw = new DataView(new ArrayBuffer(values.length * 8));
  values.forEach((v, i) => raw.setBigInt64(i * 8, BigInt(v), true));
  init.dims = [values.length];
  init.int64Data = [];
  init.rawData = new Uint8Array(raw.buffer);
}

export function readInt64Initializer(model: Model, name: string): number[] {
  const init = initializerOf(model, name);
  if (init.rawData && init.rawData.length) {
    const dv = new DataView(init.rawData.buffer, init.rawData.byteOffset, init.rawData.byteLength);
    return Array.from({ length: init.rawData.length / 8 }, (_, i) => Number(dv.getBigInt64(i * 8, true)));
  }
  return (init.int64Data ?? []).map((x) => Number(x));
}

/**
 * A second copy of the graph from tensor `from` to graph output `to`, fed with
 * `from` times a fixed 0/1 mask over the rows of its H x W map (rows listed in
 * `rows` kept, the others zeroed). The copy's output, named `name`, becomes a
 * graph output of shape [batch, ...toShape]. Every copied node shares the
 * original's initializers, so for a head that is linear in `from` the new
 * output is exactly the head applied to the kept positions alone.
 */
export function addRowMaskedBranch(model: Model, from: string, to: string, map: { readonly h: number; readonly w: number }, rows: readonly number[], name: string, toShape: readonly number[]): void {
  const g = graphOf(model);
  const nodes = g.node ?? [];
  if (!nodes.some((n) => n.output?.includes(from))) throw new Error(`No node produces tensor "${from}"`);
  const maskName = `${name}/row_mask`;
  const mask = new Float32Array(map.h * map.w);
  for (const y of rows) {
    if (!Number.isInteger(y) || y < 0 || y >= map.h) throw new Error(`row ${y} is outside the ${map.h}-row map`);
    mask.fill(1, y * map.w, (y + 1) * map.w);
  }
  (g.initializer ??= []).push(onnx.TensorProto.create({ name: maskName, dataType: onnx.TensorProto.DataType.FLOAT, dims: [1, 1, map.h, map.w], rawData: new Uint8Array(mask.buffer) }));
  const renamed = new Map<string, string>([[from, `${name}/masked_input`]]);
  const added: onnxProto.onnx.INodeProto[] = [onnx.NodeProto.create({ name: `${name}/mask`, opType: 'Mul', input: [from, maskName], output: [renamed.get(from) as string] })];
  for (const n of nodes) {
    if (!(n.input ?? []).some((i) => renamed.has(i))) continue;
    const output = (n.output ?? []).map((o) => {
      const r = o === to ? name : `${name}/${o}`;
      renamed.set(o, r);
      return r;
    });
    added.push(onnx.NodeProto.create({ ...n, name: `${name}/${n.name ?? n.opType}`, input: (n.input ?? []).map((i) => renamed.get(i) ?? i), output }));
  }
  if (!renamed.has(to)) throw new Error(`Tensor "${to}" does not depend on "${from}"`);
  g.node = [...nodes, ...added];
  const dim = [onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' }), ...toShape.map((d) => onnx.TensorShapeProto.Dimension.create({ dimValue: d }))];
  (g.output ??= []).push(
    onnx.ValueInfoProto.create({
      name,
      type: onnx.TypeProto.create({ tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim }) }) }),
    }),
  );
}

/**
 * Rewrites every PRelu(x, slope) as Relu(x) - slope * Relu(-x), the same
 * value bit for bit (one product, one exact negation, one subtraction of a
 * zero). onnxruntime-web 1.30's WebGPU backend has no PRelu kernel: it ran
 * MobileFaceNet's 33 PRelus on the CPU, copying every activation map to the
 * CPU and back (100 ms a face on an H200, against 8 ms for FaceRes, which has
 * none). Relu, Neg, Mul and Sub all run on the GPU. Returns how many changed.
 */
export function replacePrelu(model: Model): number {
  const g = graphOf(model);
  const out: onnxProto.onnx.INodeProto[] = [];
  let changed = 0;
  for (const n of g.node ?? []) {
    if (n.opType !== 'PRelu') {
      out.push(n);
      continue;
    }
    const [x, slope] = n.input ?? [];
    const [y] = n.output ?? [];
    const base = n.name || `prelu_${changed}`;
    const t = (s: string) => `${base}/${s}`;
    out.push(
      onnx.NodeProto.create({ name: t('pos'), opType: 'Relu', input: [x], output: [t('pos')] }),
      onnx.NodeProto.create({ name: t('neg_x'), opType: 'Neg', input: [x], output: [t('neg_x')] }),
      onnx.NodeProto.create({ name: t('neg'), opType: 'Relu', input: [t('neg_x')], output: [t('neg')] }),
      onnx.NodeProto.create({ name: t('scaled'), opType: 'Mul', input: [slope, t('neg')], output: [t('scaled')] }),
      onnx.NodeProto.create({ name: base, opType: 'Sub', input: [t('pos'), t('scaled')], output: [y] }),
    );
    changed++;
  }
  g.node = out;
  return changed;
}

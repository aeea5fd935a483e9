/**
 * A small ONNX graph builder on top of onnx-proto: named values with known
 * shapes, float32 / int64 initializers, nodes with typed attributes, and
 * encoding to bytes. Opset 13 (ReduceMean still takes its axes as an
 * attribute there; onnxruntime-web runs it on both wasm and WebGPU).
 */
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET = 13;
/** IR version 7 is the one that goes with opset 13. */
const IR_VERSION = 7;

/** A tensor in the ONNX graph. 4-D activations are NCHW; -1 marks the dynamic batch. */
export interface Value {
  readonly name: string;
  readonly shape: readonly number[];
}

export type AttributeValue = number | readonly number[] | string | { readonly floats: readonly number[] } | { readonly float: number };

function attribute(name: string, value: AttributeValue): onnxProto.onnx.AttributeProto {
  const A = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: A.STRING, s: new TextEncoder().encode(value) });
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`Attribute ${name}: ${value} is not an integer; pass { float } for floats`);
    return onnx.AttributeProto.create({ name, type: A.INT, i: value });
  }
  if ('floats' in value) return onnx.AttributeProto.create({ name, type: A.FLOATS, floats: [...value.floats] });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: A.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: A.INTS, ints: [...value] });
}

function valueInfo(name: string, shape: readonly number[]): onnxProto.onnx.ValueInfoProto {
  const dim = shape.map((d) => (d < 0 ? onnx.TensorShapeProto.Dimension.create({ dimParam: 'batch' }) : onnx.TensorShapeProto.Dimension.create({ dimValue: d })));
  return onnx.ValueInfoProto.create({
    name,
    type: onnx.TypeProto.create({
      tensorType: onnx.TypeProto.Tensor.create({ elemType: onnx.TensorProto.DataType.FLOAT, shape: onnx.TensorShapeProto.create({ dim }) }),
    }),
  });
}

export class OnnxGraphBuilder {
  private readonly nodes: onnxProto.onnx.NodeProto[] = [];
  private readonly initializers: onnxProto.onnx.TensorProto[] = [];
  private readonly inputs: onnxProto.onnx.ValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.ValueInfoProto[] = [];
  private readonly used = new Set<string>();

  constructor(private readonly graphName: string) {}

  /** A name not used yet, derived from a readable hint (TF node names are kept where possible). */
  uniqueName(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}__${i}`;
    this.used.add(name);
    return name;
  }

  input(name: string, shape: readonly number[]): Value {
    if (this.used.has(name)) throw new Error(`Graph input name "${name}" is taken`);
    this.used.add(name);
    this.inputs.push(valueInfo(name, shape));
    return { name, shape };
  }

  /** Declares a graph output under `name` (through an Identity when the value is named otherwise). */
  output(value: Value, name: string): Value {
    let out = value;
    if (value.name !== name) {
      if (this.used.has(name)) throw new Error(`Graph output name "${name}" is taken`);
      this.used.add(name);
      this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', name: `${name}_identity`, input: [value.name], output: [name] }));
      out = { name, shape: value.shape };
    }
    this.outputs.push(valueInfo(out.name, out.shape));
    return out;
  }

  floatConstant(hint: string, dims: readonly number[], data: Float32Array): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (size !== data.length) throw new Error(`Constant ${hint}: ${data.length} values for dims [${dims}]`);
    const name = this.uniqueName(hint);
    const copy = new Float32Array(data);
    this.initializers.push(onnx.TensorProto.create({ name, dims: [...dims], dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(copy.buffer) }));
    return name;
  }

  int64Constant(hint: string, values: readonly number[]): string {
    const name = this.uniqueName(hint);
    const raw = new DataView(new ArrayBuffer(values.length * 8));
    values.forEach((v, i) => raw.setBigInt64(i * 8, BigInt(v), true));
    this.initializers.push(onnx.TensorProto.create({ name, dims: [values.length], dataType: onnx.TensorProto.DataType.INT64, rawData: new Uint8Array(raw.buffer) }));
    return name;
  }

  /** Adds a single-output node; the caller states the output shape (the builder does no shape inference). */
  node(opType: string, inputs: readonly string[], shape: readonly number[], hint: string, attrs: Record<string, AttributeValue> = {}): Value {
    const name = this.uniqueName(hint);
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        name: `${name}/${opType}`,
        input: [...inputs],
        output: [name],
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return { name, shape };
  }

  build(): Uint8Array {
    const graph = onnx.GraphProto.create({
      name: this.graphName,
      node: this.nodes,
      initializer: this.initializers,
      input: this.inputs,
      output: this.outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: IR_VERSION,
      opsetImport: [onnx.OperatorSetIdProto.create({ domain: '', version: OPSET })],
      producerName: 'deepface-emd-web scripts/models/tfjs',
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

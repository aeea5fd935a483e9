/**
 * Writes small TF.js graph models (model.json topology + weight bytes) in
 * memory, so each converter op mapping can be run by tfjs-converter and by
 * our ONNX graph on the same file. Weights can be stored as float32,
 * float16 or uint8 (scale/min), the three forms real TF.js models use.
 */
import type { WeightSpec } from '../../../../scripts/models/tfjs/weights.ts';
import type { TfAttrValue, TfGraphModelJson, TfNodeDef } from '../../../../scripts/models/tfjs/tfGraph.ts';

export type Storage = 'float32' | 'float16' | 'uint8';

const b64 = (s: string) => btoa(s);

export const attr = {
  str: (s: string): TfAttrValue => ({ s: b64(s) }),
  ints: (i: number[]): TfAttrValue => ({ list: { i: i.map(String) } }),
  strs: (s: string[]): TfAttrValue => ({ list: { s: s.map(b64) } }),
  int: (i: number): TfAttrValue => ({ i: String(i) }),
  float: (f: number): TfAttrValue => ({ f }),
  bool: (b: boolean): TfAttrValue => ({ b }),
  dtype: (): TfAttrValue => ({ type: 'DT_FLOAT' }),
};

/** Round-to-nearest-even float32 -> float16 bits (for writing test weights only). */
function floatToHalf(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >> shift;
    const rem = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rem > half || (rem === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa rolls into the exponent, as it should.
  if (rem > 0x1000 || (rem === 0x1000 && h & 1)) h++;
  return sign | h;
}

export class SyntheticGraph {
  readonly nodes: TfNodeDef[] = [];
  private readonly specs: WeightSpec[] = [];
  private readonly chunks: Uint8Array[] = [];

  placeholder(name: string, shape: number[]): string {
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: attr.dtype(), shape: { shape: { dim: shape.map((s) => ({ size: String(s) })) } } as TfAttrValue } });
    return name;
  }

  const(name: string, shape: number[], values: ArrayLike<number>, storage: Storage = 'float32'): string {
    const n = shape.reduce((a, b) => a * b, 1);
    if (values.length !== n) throw new Error(`${name}: ${values.length} values for [${shape}]`);
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.dtype(), value: { tensor: { dtype: 'DT_FLOAT', tensorShape: {} } } as TfAttrValue } });
    if (storage === 'float32') {
      this.chunks.push(new Uint8Array(Float32Array.from(values).buffer));
      this.specs.push({ name, shape, dtype: 'float32' });
    } else if (storage === 'float16') {
      this.chunks.push(new Uint8Array(Uint16Array.from(Array.from(values, floatToHalf)).buffer));
      this.specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'float16' } });
    } else {
      const arr = Array.from(values);
      const min = Math.min(...arr);
      const scale = (Math.max(...arr) - min) / 255 || 1;
      this.chunks.push(Uint8Array.from(arr, (v) => Math.round((v - min) / scale)));
      this.specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'uint8', scale, min } });
    }
    return name;
  }

  intConst(name: string, shape: number[], values: number[]): string {
    this.nodes.push({ name, op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: {} } } as TfAttrValue } });
    this.chunks.push(new Uint8Array(Int32Array.from(values).buffer));
    this.specs.push({ name, shape, dtype: 'int32' });
    return name;
  }

  op(name: string, op: string, input: string[], attrs: Record<string, TfAttrValue> = {}): string {
    this.nodes.push({ name, op, input, attr: { T: attr.dtype(), ...attrs } });
    return name;
  }

  files(): { model: TfGraphModelJson & { format: string }; bytes: Uint8Array } {
    const bytes = new Uint8Array(this.chunks.reduce((a, c) => a + c.byteLength, 0));
    let at = 0;
    for (const c of this.chunks) {
      bytes.set(c, at);
      at += c.byteLength;
    }
    // tfjs-converter reads the GraphDef version fields; a real export has them.
    const modelTopology = { node: this.nodes, library: {}, versions: { producer: 1 } };
    return { model: { format: 'graph-model', modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: this.specs }] }, bytes };
  }
}

export const convAttrs = (stride: number, padding: 'SAME' | 'VALID'): Record<string, TfAttrValue> => ({
  strides: attr.ints([1, stride, stride, 1]),
  padding: attr.str(padding),
  data_format: attr.str('NHWC'),
  dilations: attr.ints([1, 1, 1, 1]),
});

/**
 * Reads TF.js weight files: a weights manifest (the `weightsManifest` of a
 * graph model, or a face-api `*-weights_manifest.json`) plus the
 * concatenated binary shards, into named float32 / int32 tensors.
 *
 * Quantised weights are expanded the way TF.js itself does it
 * (tfjs-core io/io_utils decodeWeights): uint8/uint16 as `q * scale + min`,
 * float16 as half floats. Anything else stops the build: a weight read with
 * the wrong rule would silently change every embedding.
 */
import { decodeFloat16 } from './float16.ts';

export interface WeightQuantization {
  readonly dtype: 'uint8' | 'uint16' | 'float16';
  readonly scale?: number;
  readonly min?: number;
  readonly original_dtype?: string;
}

export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32' | string;
  readonly quantization?: WeightQuantization;
}

export interface WeightGroup {
  readonly paths: readonly string[];
  readonly weights: readonly WeightSpec[];
}

/** One weight tensor in TF's own layout (NHWC activations, HWIO filters). */
export interface WeightTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: 'float32' | 'int32';
  readonly data: Float32Array | Int32Array;
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Decodes one weight whose stored bytes start at `bytes[0]`; returns the tensor and the bytes it used. */
export function decodeWeight(spec: WeightSpec, bytes: Uint8Array): { tensor: WeightTensor; byteLength: number } {
  const n = elementCount(spec.shape);
  const storedDtype = spec.quantization?.dtype ?? spec.dtype;
  const width = BYTES_PER_ELEMENT[storedDtype];
  if (width === undefined) throw new Error(`Weight ${spec.name}: unsupported stored dtype "${storedDtype}"`);
  const byteLength = n * width;
  if (byteLength > bytes.byteLength) throw new Error(`Weight ${spec.name}: needs ${byteLength} bytes, only ${bytes.byteLength} left in the shards`);
  // Copy so the typed-array views are aligned whatever the offset in the shard.
  const own = bytes.slice(0, byteLength);
  const outDtype: 'float32' | 'int32' = spec.dtype === 'int32' ? 'int32' : 'float32';
  if (spec.dtype !== 'float32' && spec.dtype !== 'int32') throw new Error(`Weight ${spec.name}: unsupported dtype "${spec.dtype}"`);
  let data: Float32Array | Int32Array;
  const q = spec.quantization;
  if (!q) {
    data = outDtype === 'int32' ? new Int32Array(own.buffer) : new Float32Array(own.buffer);
  } else if (q.dtype === 'uint8' || q.dtype === 'uint16') {
    if (typeof q.scale !== 'number' || typeof q.min !== 'number') throw new Error(`Weight ${spec.name}: ${q.dtype} quantisation without scale/min`);
    const ints = q.dtype === 'uint8' ? own : new Uint16Array(own.buffer);
    const { scale, min } = q;
    data = outDtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
    // TF.js rounds dequantised int32 values; float32 ones are stored as computed.
    const round = outDtype === 'int32' ? Math.round : (v: number) => v;
    for (let i = 0; i < n; i++) data[i] = round(ints[i] * scale + min);
  } else if (q.dtype === 'float16') {
    if (outDtype !== 'float32') throw new Error(`Weight ${spec.name}: float16 storage of an int32 tensor`);
    data = decodeFloat16(own);
  } else {
    throw new Error(`Weight ${spec.name}: unsupported quantisation "${(q as { dtype: string }).dtype}"`);
  }
  return { tensor: { name: spec.name, shape: [...spec.shape], dtype: outDtype, data }, byteLength };
}

/**
 * Decodes all weights of a manifest. `shards` are the files named in each
 * group's `paths`, in order; weights of a group are stored back to back
 * across its shards.
 */
export function decodeWeights(groups: readonly WeightGroup[], readShard: (path: string) => Uint8Array): Map<string, WeightTensor> {
  const out = new Map<string, WeightTensor>();
  for (const group of groups) {
    const parts = group.paths.map(readShard);
    const all = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
    let at = 0;
    for (const p of parts) {
      all.set(p, at);
      at += p.byteLength;
    }
    let offset = 0;
    for (const spec of group.weights) {
      const { tensor, byteLength } = decodeWeight(spec, all.subarray(offset));
      out.set(spec.name, tensor);
      offset += byteLength;
    }
    if (offset !== all.byteLength) throw new Error(`Weights of ${group.paths.join(', ')}: ${all.byteLength - offset} bytes left over; the manifest does not match the shards`);
  }
  return out;
}

export function requireWeight(weights: ReadonlyMap<string, WeightTensor>, name: string, shape?: readonly number[]): WeightTensor {
  const w = weights.get(name);
  if (!w) throw new Error(`Weight "${name}" is missing from the TF.js weights`);
  if (shape && w.shape.join(',') !== shape.join(',')) throw new Error(`Weight "${name}" has shape [${w.shape}], expected [${shape}]`);
  return w;
}

export function asFloat32(w: WeightTensor): Float32Array {
  if (!(w.data instanceof Float32Array)) throw new Error(`Weight "${w.name}" is ${w.dtype}, expected float32`);
  return w.data;
}

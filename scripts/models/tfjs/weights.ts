/**
 * Reads TF.js weight files: a weights manifest (the `weightsManifest` of a
 * graph model, or a face-api `*-weights_manifest.json`) plus the
 * concatenated binary shards, into named float32 / int32 tensors.
 *
 * The bytes are decoded by TF.js itself (`tf.io.decodeWeights`), so uint8 /
 * uint16 / float16 quantisation is expanded exactly as the runtime these
 * models were published for expands it. What stays ours is checking the
 * manifest against the shards first (a short or long shard, or a dtype the
 * converter cannot carry, stops the build with the weight's name): TF.js
 * would decode a mismatched manifest into shifted weights without a word,
 * and a weight read wrongly silently changes every embedding.
 */
import * as tf from '@tensorflow/tfjs-core';
// decodeWeights returns tensors, and making a tensor needs a backend.
import '@tensorflow/tfjs-backend-cpu';

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

const BYTES_PER_STORED_ELEMENT: Record<string, number> = { float32: 4, int32: 4, uint8: 1, uint16: 2, float16: 2 };

/** The manifest entry as TF.js types it, once the dtypes are known to be ones the converter handles. */
function checkedEntry(spec: WeightSpec): tf.io.WeightsManifestEntry {
  const { name, dtype, quantization } = spec;
  if (dtype !== 'float32' && dtype !== 'int32') throw new Error(`Weight ${name}: unsupported dtype "${dtype}"`);
  if (quantization && BYTES_PER_STORED_ELEMENT[quantization.dtype] === undefined) throw new Error(`Weight ${name}: unsupported quantisation "${quantization.dtype}"`);
  return { name, shape: [...spec.shape], dtype, ...(quantization ? { quantization: { ...quantization } } : {}) };
}

function storedByteLength(spec: WeightSpec): number {
  const width = BYTES_PER_STORED_ELEMENT[spec.quantization?.dtype ?? spec.dtype];
  return spec.shape.reduce((a, b) => a * b, 1) * width;
}

function toWeightTensor(name: string, t: tf.Tensor): WeightTensor {
  const data = t.dataSync();
  t.dispose();
  if (t.dtype === 'float32' && data instanceof Float32Array) return { name, shape: [...t.shape], dtype: 'float32', data };
  if (t.dtype === 'int32' && data instanceof Int32Array) return { name, shape: [...t.shape], dtype: 'int32', data };
  throw new Error(`Weight ${name}: TF.js decoded it as ${t.dtype}, expected float32 or int32`);
}

/**
 * Decodes all weights of a manifest. `readShard` returns the file named in
 * each group's `paths`, in order; weights of a group are stored back to back
 * across its shards.
 */
export function decodeWeights(groups: readonly WeightGroup[], readShard: (path: string) => Uint8Array): Map<string, WeightTensor> {
  // Production mode only silences tfjs-backend-cpu's advice to install tfjs-node, which this one-off decode does not need.
  tf.enableProdMode();
  const out = new Map<string, WeightTensor>();
  for (const group of groups) {
    const shards = group.paths.map((path) => readShard(path).slice().buffer);
    const available = shards.reduce((a, b) => a + b.byteLength, 0);
    const entries = group.weights.map(checkedEntry);
    let offset = 0;
    for (const spec of group.weights) {
      const needed = storedByteLength(spec);
      if (offset + needed > available) throw new Error(`Weight ${spec.name}: needs ${needed} bytes, only ${available - offset} left in the shards`);
      offset += needed;
    }
    if (offset !== available) throw new Error(`Weights of ${group.paths.join(', ')}: ${available - offset} bytes left over; the manifest does not match the shards`);
    const decoded = tf.io.decodeWeights(shards, entries);
    for (const spec of group.weights) out.set(spec.name, toWeightTensor(spec.name, decoded[spec.name]));
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

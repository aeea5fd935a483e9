/**
 * Folding per-channel affine steps (a conv's bias, a "scale layer", a
 * batch norm) into the convolution itself, so the ONNX graph runs one Conv
 * where TF.js ran Conv + Add + Mul + Add. Arithmetic is done in float64 and
 * rounded once, to stay within float32 rounding of the unfolded original.
 */

/** y = x * scale[c] + shift[c], per output channel. */
export interface ChannelAffine {
  readonly scale: Float64Array;
  readonly shift: Float64Array;
}

export function identityAffine(channels: number): ChannelAffine {
  return { scale: new Float64Array(channels).fill(1), shift: new Float64Array(channels) };
}

/** Broadcasts a per-channel or scalar constant to `channels` values. */
export function perChannel(values: ArrayLike<number>, channels: number, what: string): Float64Array {
  if (values.length === channels) return Float64Array.from(values);
  if (values.length === 1) return new Float64Array(channels).fill(values[0]);
  throw new Error(`${what}: ${values.length} values, expected 1 or ${channels}`);
}

/** Applies `then` after `first`: (x * s1 + t1) * s2 + t2. */
export function composeAffine(first: ChannelAffine, then: ChannelAffine): ChannelAffine {
  const n = first.scale.length;
  const scale = new Float64Array(n);
  const shift = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    scale[c] = first.scale[c] * then.scale[c];
    shift[c] = first.shift[c] * then.scale[c] + then.shift[c];
  }
  return { scale, shift };
}

/** Inference batch norm as an affine map: scale = gamma / sqrt(var + eps), shift = beta - mean * scale. */
export function batchNormAffine(gamma: ArrayLike<number>, beta: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, epsilon: number): ChannelAffine {
  const n = mean.length;
  const scale = new Float64Array(n);
  const shift = new Float64Array(n);
  for (let c = 0; c < n; c++) {
    scale[c] = gamma[c] / Math.sqrt(variance[c] + epsilon);
    shift[c] = beta[c] - mean[c] * scale[c];
  }
  return { scale, shift };
}

/**
 * Folds an affine map on the output channels into ONNX conv weights
 * [O, I/group, kH, kW]: W'[o] = W[o] * scale[o], bias'[o] = shift[o]
 * (the affine already carries any earlier bias, see composeAffine).
 */
export function foldAffineIntoConv(weightsOihw: Float32Array, outChannels: number, affine: ChannelAffine): { weights: Float32Array; bias: Float32Array } {
  const per = weightsOihw.length / outChannels;
  if (!Number.isInteger(per) || affine.scale.length !== outChannels) throw new Error(`Cannot fold ${affine.scale.length} channels into a conv with ${outChannels} outputs`);
  const weights = new Float32Array(weightsOihw.length);
  for (let o = 0; o < outChannels; o++) {
    const s = affine.scale[o];
    for (let k = o * per; k < (o + 1) * per; k++) weights[k] = weightsOihw[k] * s;
  }
  return { weights, bias: Float32Array.from(affine.shift) };
}

/**
 * TF (NHWC activations, HWIO filters, implicit SAME padding) -> ONNX (NCHW,
 * OIHW, explicit pads): the index arithmetic, kept apart so each rule has
 * its own unit test.
 */

/** Explicit spatial padding in TF's order of thinking: [top, bottom, left, right]. */
export type Pads4 = readonly [number, number, number, number];

/**
 * TF "SAME" padding along one axis. The total is split with the extra pixel
 * AFTER (bottom/right), which is why stride 2 on an even size pads 0 before
 * and 1 after: a symmetric ONNX pad would shift the sampling grid by one.
 */
export function samePadding(inSize: number, kernel: number, stride: number, dilation = 1): [number, number] {
  const effective = (kernel - 1) * dilation + 1;
  const out = Math.ceil(inSize / stride);
  const total = Math.max((out - 1) * stride + effective - inSize, 0);
  const before = Math.floor(total / 2);
  return [before, total - before];
}

export function convOutputSize(inSize: number, kernel: number, stride: number, padBefore: number, padAfter: number, dilation = 1): number {
  const effective = (kernel - 1) * dilation + 1;
  return Math.floor((inSize + padBefore + padAfter - effective) / stride) + 1;
}

/** Resolves TF padding to explicit [top, bottom, left, right] for an input of h x w. */
export function resolvePadding(
  padding: 'SAME' | 'VALID' | Pads4,
  h: number,
  w: number,
  kernel: readonly [number, number],
  strides: readonly [number, number],
  dilations: readonly [number, number] = [1, 1],
): Pads4 {
  if (padding === 'VALID') return [0, 0, 0, 0];
  if (padding === 'SAME') {
    const [t, b] = samePadding(h, kernel[0], strides[0], dilations[0]);
    const [l, r] = samePadding(w, kernel[1], strides[1], dilations[1]);
    return [t, b, l, r];
  }
  return padding;
}

/** ONNX Conv / pooling `pads` attribute: [top, left, bottom, right]. */
export function onnxPads([top, bottom, left, right]: Pads4): number[] {
  return [top, left, bottom, right];
}

/** Conv2D filter [H, W, I, O] -> ONNX [O, I, H, W]. */
export function hwioToOihw(data: Float32Array, shape: readonly number[]): { data: Float32Array; dims: number[] } {
  const [H, W, I, O] = shape;
  if (shape.length !== 4 || H * W * I * O !== data.length) throw new Error(`Conv filter shape [${shape}] does not match ${data.length} values`);
  const out = new Float32Array(data.length);
  for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) out[((o * I + i) * H + h) * W + w] = data[((h * W + w) * I + i) * O + o];
  return { data: out, dims: [O, I, H, W] };
}

/**
 * Depthwise filter [H, W, C, M] -> ONNX grouped conv [C*M, 1, H, W] with
 * group = C. TF numbers output channel (c, m) as c*M + m, which is also the
 * order of ONNX's groups (group c owns outputs c*M .. c*M+M-1).
 */
export function depthwiseToOnnx(data: Float32Array, shape: readonly number[]): { data: Float32Array; dims: number[]; group: number } {
  const [H, W, C, M] = shape;
  if (shape.length !== 4 || H * W * C * M !== data.length) throw new Error(`Depthwise filter shape [${shape}] does not match ${data.length} values`);
  const out = new Float32Array(data.length);
  for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) for (let m = 0; m < M; m++) out[((c * M + m) * H + h) * W + w] = data[((h * W + w) * C + c) * M + m];
  return { data: out, dims: [C * M, 1, H, W], group: C };
}

/** TF axis of a 4-D NHWC tensor -> the same axis in NCHW. */
export function nhwcAxisToNchw(axis: number): number {
  const a = axis < 0 ? axis + 4 : axis;
  const map = [0, 2, 3, 1];
  if (a < 0 || a > 3) throw new Error(`Axis ${axis} is not an axis of a 4-D tensor`);
  return map[a];
}

/**
 * A constant that broadcasts against an NHWC activation, rewritten to
 * broadcast the same way against the NCHW one: right-align its shape to
 * rank 4 (numpy rules), then move the channel axis. So [C] -> [1, C, 1, 1]
 * and [1, 1, 1, C] -> [1, C, 1, 1]; scalars stay scalars.
 */
export function nhwcConstantToNchw(data: Float32Array, shape: readonly number[]): { data: Float32Array; dims: number[] } {
  if (shape.length === 0) return { data, dims: [] };
  if (shape.length > 4) throw new Error(`Constant of rank ${shape.length} cannot broadcast against a 4-D activation`);
  const [N, H, W, C] = [...new Array(4 - shape.length).fill(1), ...shape] as number[];
  const out = new Float32Array(data.length);
  for (let n = 0; n < N; n++) for (let h = 0; h < H; h++) for (let w = 0; w < W; w++) for (let c = 0; c < C; c++) out[((n * C + c) * H + h) * W + w] = data[((n * H + h) * W + w) * C + c];
  return { data: out, dims: [N, C, H, W] };
}

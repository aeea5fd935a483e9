/** Runs an ONNX model with onnxruntime-web (wasm, single thread) in Node. */
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;

export async function runOnnx(bytes: Uint8Array, feeds: Record<string, { data: Float32Array; dims: readonly number[] }>): Promise<Record<string, { data: Float32Array; dims: readonly number[] }>> {
  const session = await ort.InferenceSession.create(bytes);
  try {
    const inputs: Record<string, ort.Tensor> = {};
    for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor('float32', v.data, [...v.dims]);
    const result = await session.run(inputs);
    const out: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
    for (const name of session.outputNames) out[name] = { data: result[name].data as Float32Array, dims: result[name].dims };
    return out;
  } finally {
    await session.release();
  }
}

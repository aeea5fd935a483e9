/**
 * One-op ONNX graphs for the converter's unit tests: build a graph around a
 * TF-semantics emitter (scripts/models/tfjs/tfOps.ts), feed it an NHWC
 * tensor (transposed to NCHW on the way in), and read the result back in
 * NHWC so it can be compared with the same op run by TF.js.
 */
import { OnnxGraphBuilder, type Value } from '../../../../scripts/models/tfjs/onnxBuilder.ts';
import { nchwToNhwc, nhwcToNchw } from './compare.ts';
import { runOnnx } from './onnxRun.ts';

export async function runEmitter(
  nhwc: Float32Array,
  [n, h, w, c]: readonly [number, number, number, number],
  emit: (b: OnnxGraphBuilder, x: Value) => Value,
): Promise<{ data: Float32Array; shape: number[] }> {
  const b = new OnnxGraphBuilder('op_test');
  const x = b.input('x', [-1, c, h, w]);
  const y = emit(b, x);
  b.output(y, 'y');
  const out = await runOnnx(b.build(), { x: { data: nhwcToNchw(nhwc, [n, h, w, c]), dims: [n, c, h, w] } });
  const dims = [...out.y.dims];
  if (dims.length !== 4) return { data: out.y.data, shape: dims };
  const [on, oc, oh, ow] = dims;
  // The emitter's own shape bookkeeping must agree with what onnxruntime computed.
  if (y.shape.slice(1).join(',') !== [oc, oh, ow].join(',')) throw new Error(`Emitter said [${y.shape}], onnxruntime gave [${dims}]`);
  return { data: nchwToNhwc(out.y.data, dims), shape: [on, oh, ow, oc] };
}

/** Counts the op types of an ONNX graph (to check what the converter fused). */
import onnxProto from 'onnx-proto';

export function onnxOpCounts(bytes: Uint8Array): Record<string, number> {
  const model = onnxProto.onnx.ModelProto.decode(bytes);
  const counts: Record<string, number> = {};
  for (const n of model.graph?.node ?? []) counts[n.opType ?? '?'] = (counts[n.opType ?? '?'] ?? 0) + 1;
  return counts;
}

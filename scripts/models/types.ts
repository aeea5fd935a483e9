import type { ModelEntry } from '../../src/models/manifest.ts';

/** What one model builder returns: the ONNX bytes and the manifest entry without its output checksum. */
export interface BuiltModel {
  readonly entry: Omit<ModelEntry, 'sha256' | 'bytes' | 'webgpu'>;
  readonly bytes: Uint8Array;
  /** The same model rewritten for onnxruntime-web's WebGPU kernels, written beside it as `<file without .onnx>.webgpu.onnx`. */
  readonly webgpuBytes?: Uint8Array;
}

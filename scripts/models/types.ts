import type { ModelEntry } from '../../src/models/manifest.ts';

/** What one model builder returns: the ONNX bytes and the manifest entry without its output checksum. */
export interface BuiltModel {
  readonly entry: Omit<ModelEntry, 'sha256' | 'bytes'>;
  readonly bytes: Uint8Array;
}

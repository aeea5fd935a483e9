/**
 * What `auto` means for both accelerated paths, the networks (onnxruntime-web)
 * and the EMD re-ranking: the fastest one. A software WebGPU adapter
 * (SwiftShader) emulates the GPU on the CPU and runs the networks about 50x
 * and the Sinkhorn kernels about 100x slower than the WASM and JavaScript
 * paths, so auto declines it; naming WebGPU explicitly still gets it (the GPU
 * tests run that way).
 */

/** What the rule needs to know of an adapter. */
export interface AdapterKind {
  readonly isFallbackAdapter: boolean;
  /** The adapter in words, for the note. */
  readonly description: string;
}

/**
 * null when `auto` may run on this adapter; else the note saying why `auto`
 * runs on `cpuPath` instead ('WASM', 'the CPU'), for the status line.
 */
export function autoDeclinesAdapter(adapter: AdapterKind, cpuPath: string): string | null {
  if (!adapter.isFallbackAdapter) return null;
  return `auto: ${adapter.description} is a software fallback adapter, so ${cpuPath} is faster; choose WebGPU to force it`;
}

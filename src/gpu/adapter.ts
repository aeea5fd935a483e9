/**
 * The one place that asks the browser for a WebGPU adapter and puts it into
 * words. The model loader only needs to know whether there is an adapter and
 * whether it is software; the EMD kernels need the adapter itself to create a
 * device. Both ask with the same options, so both get the same adapter and the
 * status line and the EMD note describe it alike.
 */
import { AppError } from '../core/errors.ts';

/** Whether WebGPU is there, for the UI and for choosing backends; `description` is the adapter, or why there is none. */
export interface WebGpuAdapterInfo {
  readonly available: boolean;
  /** True for a software adapter such as SwiftShader (correct, but slower than the CPU paths). */
  readonly isFallbackAdapter: boolean;
  readonly description: string;
}

// The kernels want the fastest adapter on a laptop with two GPUs.
const ADAPTER_OPTIONS: GPURequestAdapterOptions = { powerPreference: 'high-performance' };

/** The WebGPU adapter, or an AppError `no-webgpu` saying why there is none. */
export async function requestWebGpuAdapter(): Promise<GPUAdapter> {
  // Typed as always present, but absent where the browser has WebGPU switched off (and in Node).
  const gpu: GPU | undefined = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new AppError('no-webgpu', 'this browser has no WebGPU (navigator.gpu is missing)', 'Use a current Chrome or Edge, or let the CPU run the re-ranking.');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter(ADAPTER_OPTIONS);
  } catch (cause) {
    throw new AppError('no-webgpu', `requesting a WebGPU adapter failed: ${String(cause)}`, 'The CPU runs the re-ranking instead.', { cause });
  }
  if (!adapter) throw new AppError('no-webgpu', 'no WebGPU adapter is available', 'The CPU runs the re-ranking instead (enable WebGPU or hardware acceleration to use the GPU).');
  return adapter;
}

/** Vendor / architecture / driver description, the parts the browser reveals; the device id is left out as meaningless to a person. */
export function describeAdapter(adapter: GPUAdapter): string {
  const { vendor, architecture, description } = adapter.info;
  const parts = [vendor, architecture, description].filter((part, i, all) => part && all.indexOf(part) === i);
  return parts.join(' / ') || 'unnamed WebGPU adapter';
}

export function isFallbackAdapter(adapter: GPUAdapter): boolean {
  // Older browsers lack the field: they report no software adapter as such.
  return adapter.info.isFallbackAdapter === true;
}

/** Asks for an adapter without creating a device; never throws (no WebGPU is an answer, not an error). */
export async function probeWebGpu(): Promise<WebGpuAdapterInfo> {
  try {
    const adapter = await requestWebGpuAdapter();
    return { available: true, isFallbackAdapter: isFallbackAdapter(adapter), description: describeAdapter(adapter) };
  } catch (e) {
    return { available: false, isFallbackAdapter: false, description: e instanceof Error ? e.message : String(e) };
  }
}

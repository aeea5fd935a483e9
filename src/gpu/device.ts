/**
 * WebGPU device acquisition for the engine's kernels. The limits the kernels
 * need are requested explicitly: a device otherwise gets the defaults (16 KiB
 * of workgroup storage, 128 MiB storage bindings), not what the adapter
 * offers (SwiftShader: 32 KiB), and pipelines needing more fail to create.
 */
import { AppError } from '../core/errors.ts';

export interface GpuContext {
  readonly device: GPUDevice;
  /** Vendor / architecture / description, for the UI. */
  readonly description: string;
  /** True for software adapters such as SwiftShader (correct but slow). */
  readonly isFallbackAdapter: boolean;
}

export async function acquireGpuDevice(): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) throw new AppError('no-webgpu', 'this browser has no WebGPU (navigator.gpu is missing)', 'Use a current Chrome or Edge, or let the CPU run the re-ranking.');
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (cause) {
    throw new AppError('no-webgpu', `requesting a WebGPU adapter failed: ${String(cause)}`, 'The CPU runs the re-ranking instead.', { cause });
  }
  if (!adapter) throw new AppError('no-webgpu', 'no WebGPU adapter is available', 'The CPU runs the re-ranking instead (enable WebGPU or hardware acceleration to use the GPU).');
  const a = adapter.limits;
  const requiredLimits: Record<string, number> = {
    maxComputeWorkgroupStorageSize: a.maxComputeWorkgroupStorageSize,
    maxStorageBufferBindingSize: a.maxStorageBufferBindingSize,
    maxBufferSize: a.maxBufferSize,
  };
  let device: GPUDevice;
  try {
    device = await adapter.requestDevice({ requiredLimits, label: 'deepface-emd engine' });
  } catch (cause) {
    throw new AppError('no-webgpu', `creating a WebGPU device failed: ${String(cause)}`, 'The CPU runs the re-ranking instead.', { cause });
  }
  const info = adapter.info;
  const description = [info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'unknown adapter';
  return { device, description, isFallbackAdapter: info.isFallbackAdapter ?? false };
}

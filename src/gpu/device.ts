/**
 * WebGPU device acquisition for the engine's kernels. The limits the kernels
 * need are requested explicitly: a device otherwise gets the defaults (16 KiB
 * of workgroup storage, 128 MiB storage bindings), not what the adapter
 * offers (SwiftShader: 32 KiB), and pipelines needing more fail to create.
 */
import { AppError } from '../core/errors.ts';
import { describeAdapter, isFallbackAdapter, requestWebGpuAdapter } from './adapter.ts';

export interface GpuContext {
  readonly device: GPUDevice;
  /** The adapter in words (describeAdapter), for the UI. */
  readonly description: string;
  /** True for software adapters such as SwiftShader (correct but slow). */
  readonly isFallbackAdapter: boolean;
}

export async function acquireGpuDevice(): Promise<GpuContext> {
  const adapter = await requestWebGpuAdapter();
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
  return { device, description: describeAdapter(adapter), isFallbackAdapter: isFallbackAdapter(adapter) };
}

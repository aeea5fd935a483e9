import type { WebGpuInfo } from '../src/app/engineApi.ts';

/** Asks for an adapter without creating a device; a missing navigator.gpu or null adapter means no WebGPU. */
export async function probeWebGpu(): Promise<WebGpuInfo> {
  const gpu = (self.navigator as Navigator & { gpu?: GPU }).gpu;
  if (!gpu) return { available: false, isFallbackAdapter: false, description: 'navigator.gpu is absent (WebGPU not enabled in this browser)' };
  const adapter = await gpu.requestAdapter();
  if (!adapter) return { available: false, isFallbackAdapter: false, description: 'no WebGPU adapter' };
  const info = adapter.info;
  const isFallbackAdapter = Boolean((info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter);
  const description = [info.vendor, info.architecture, info.device, info.description].filter(Boolean).join(' ') || 'WebGPU adapter';
  return { available: true, isFallbackAdapter, description };
}

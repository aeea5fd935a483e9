/** Creates a compute pipeline and turns any shader or pipeline error into an AppError the engine can fall back on. */
import { AppError } from '../core/errors.ts';

export async function createComputePipeline(device: GPUDevice, label: string, code: string, constants?: Record<string, number>): Promise<GPUComputePipeline> {
  device.pushErrorScope('validation');
  const module = device.createShaderModule({ label, code });
  const scopeError = await device.popErrorScope();
  if (scopeError) throw new AppError('gpu-pipeline-failed', `the ${label} shader failed to compile: ${scopeError.message}`, 'The CPU runs the re-ranking instead.');
  try {
    return await device.createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint: 'main', constants } });
  } catch (cause) {
    const info = await module.getCompilationInfo().catch(() => null);
    const messages = info?.messages.map((m) => `${m.lineNum}:${m.linePos} ${m.message}`).join('; ');
    throw new AppError(
      'gpu-pipeline-failed',
      `the ${label} pipeline could not be created: ${cause instanceof Error ? cause.message : String(cause)}${messages ? ` (${messages})` : ''}`,
      'The CPU runs the re-ranking instead.',
      { cause },
    );
  }
}

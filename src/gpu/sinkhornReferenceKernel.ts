/**
 * Kernel: the authors' Sinkhorn loop for every pair of a batch
 * (sinkhornReference.wgsl), stop rule per pair, in the authors' orientation
 * (the gallery-side scaling is updated first and tested by the stop rule, the
 * query side last), as the CPU's `sinkhornEmd` reference mode does. Cosines
 * stay laid out row = query patch, column = gallery patch. It forms K = exp(-d/eps) in
 * float32, whose smallest normal value is exp(-87); with d up to 2 that needs
 * eps >= 0.025, so smaller eps is refused here (the CPU, in float64, runs it).
 */
import { AppError } from '../core/errors.ts';
import { SinkhornKernel } from './sinkhornKernel.ts';
import sinkhornReferenceWgsl from './sinkhornReference.wgsl?raw';

export const GPU_REFERENCE_MIN_EPS = 0.025;

export function createSinkhornReferenceKernel(device: GPUDevice, maxN: number): Promise<SinkhornKernel> {
  return SinkhornKernel.create(device, 'sinkhorn reference', sinkhornReferenceWgsl, maxN);
}

export function validateReferenceEps(eps: number): void {
  if (eps < GPU_REFERENCE_MIN_EPS) {
    throw new AppError(
      'gpu-pipeline-failed',
      `reference Sinkhorn at eps ${eps} underflows in float32 on the GPU (needs eps >= ${GPU_REFERENCE_MIN_EPS})`,
      'The CPU (float64) runs it instead, or use the converged mode.',
    );
  }
}

/**
 * Kernel: Sinkhorn to convergence for every pair of a batch, in the log
 * domain (sinkhornConverged.wgsl), so any eps the engine accepts is safe in
 * float32. float32 potentials limit the reachable marginal error to about
 * 1e-6 at eps 0.05 (a few 1e-5 at eps 0.005); pairs that cannot reach the
 * tolerance run to maxIter, which moves s_emd by far less than 1e-4.
 */
import { SinkhornKernel } from './sinkhornKernel.ts';
import sinkhornConvergedWgsl from './sinkhornConverged.wgsl?raw';

export function createSinkhornConvergedKernel(device: GPUDevice, maxN: number): Promise<SinkhornKernel> {
  return SinkhornKernel.create(device, 'sinkhorn converged', sinkhornConvergedWgsl, maxN);
}

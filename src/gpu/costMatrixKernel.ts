/**
 * Kernel: all k cosine matrices of a stage-2 batch (costMatrix.wgsl).
 * Workgroup 8 x 8: one thread per output of an 8 x 8 tile; the default 7 x 7
 * grid (49 patches) is then 7 x 7 tiles with little idle work, and 64 threads
 * fill a wave on every vendor (32 or 64 lanes) without exceeding any limit.
 */
import { AppError } from '../core/errors.ts';
import costMatrixWgsl from './costMatrix.wgsl?raw';
import { createComputePipeline } from './computePipeline.ts';

const TILE = 8;

export interface CostMatrixArgs {
  readonly n: number;
  readonly c: number;
  readonly pairs: number;
  /** Unit query patches, n x c floats. */
  readonly query: GPUBuffer;
  /** Unit candidate patches, pairs x n x c floats. */
  readonly candidates: GPUBuffer;
  /** Output: pairs x n x n floats. */
  readonly cosines: GPUBuffer;
}

export class CostMatrixKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
  ) {}

  static async create(device: GPUDevice): Promise<CostMatrixKernel> {
    return new CostMatrixKernel(device, await createComputePipeline(device, 'cost matrices', costMatrixWgsl));
  }

  /** Records the dispatch; returns the uniform buffer to destroy after the submission. */
  encode(encoder: GPUCommandEncoder, args: CostMatrixArgs): GPUBuffer {
    const { n, c, pairs } = args;
    if (c % 4 !== 0) throw new AppError('gpu-pipeline-failed', `the GPU cost kernel needs channels in multiples of 4, got ${c}`, 'The CPU runs the re-ranking instead.');
    if (pairs > this.device.limits.maxComputeWorkgroupsPerDimension)
      throw new AppError('gpu-pipeline-failed', `${pairs} pairs exceed the GPU's ${this.device.limits.maxComputeWorkgroupsPerDimension} workgroups per dimension`, 'Use a smaller k.');
    const params = this.device.createBuffer({ label: 'cost params', size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(params, 0, new Uint32Array([n, c / 4, pairs, 0]));
    const bindGroup = this.device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [params, args.query, args.candidates, args.cosines].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const pass = encoder.beginComputePass({ label: 'cost matrices' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(Math.ceil(n / TILE), Math.ceil(n / TILE), pairs);
    pass.end();
    return params;
  }
}

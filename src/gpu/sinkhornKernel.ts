/**
 * What the two Sinkhorn kernels share: the binding layout, the parameter
 * block and the workgroup-memory budget. Workgroup size 64: thread i owns row
 * i and column i of one pair, so one workgroup holds a whole problem up to
 * 8 x 8 = 64 patches and iterates without leaving the chip; 64 threads fill a
 * wave on every vendor. The n x n matrix is sized by the MAX_N override so a
 * 4 x 4 grid does not reserve a 64 x 64 one.
 */
import { AppError } from '../core/errors.ts';
import { createComputePipeline } from './computePipeline.ts';
import sinkhornCommonWgsl from './sinkhornCommon.wgsl?raw';

export const SINKHORN_WORKGROUP = 64;

export const enum WeightMode {
  Given = 0,
  Sc = 1,
  ScSim = 2,
}

export interface SinkhornDispatch {
  readonly n: number;
  readonly pairs: number;
  /** Index of this dispatch's first pair in the weights and results buffers. */
  readonly pairOffset: number;
  readonly maxIter: number;
  readonly weightMode: WeightMode;
  readonly eps: number;
  readonly tol: number;
  /** pairs x n x n cosines (this dispatch's pairs only). */
  readonly cosines: GPUBuffer;
  /** all pairs x n (ignored unless weightMode is Given; bind any buffer). */
  readonly weightsU: GPUBuffer;
  readonly weightsV: GPUBuffer;
  /** all pairs x vec4 (similarity, iterations, marginal error, 0). */
  readonly results: GPUBuffer;
}

/** Workgroup bytes the kernels declare for a given MAX_N: n^2 matrix, four n-vectors, the reduction scratch, a flag. */
export function sinkhornWorkgroupBytes(maxN: number): number {
  return 4 * (maxN * maxN + 4 * maxN + SINKHORN_WORKGROUP + 1);
}

export class SinkhornKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    readonly maxN: number,
  ) {}

  /** `wgsl` is one kernel's own code; the declarations both kernels share (sinkhornCommon.wgsl) are added here. */
  static async create(device: GPUDevice, label: string, wgsl: string, maxN: number): Promise<SinkhornKernel> {
    if (maxN > SINKHORN_WORKGROUP) throw new AppError('gpu-pipeline-failed', `the GPU Sinkhorn handles up to ${SINKHORN_WORKGROUP} patches (8x8), not ${maxN}`, 'Use a grid of 8x8 or less.');
    const need = sinkhornWorkgroupBytes(maxN);
    const have = device.limits.maxComputeWorkgroupStorageSize;
    if (need > have) throw new AppError('gpu-pipeline-failed', `${maxN} patches need ${need} bytes of workgroup memory; this GPU offers ${have}`, 'The CPU runs the re-ranking instead.');
    return new SinkhornKernel(device, await createComputePipeline(device, label, `${wgsl}\n${sinkhornCommonWgsl}`, { MAX_N: maxN }), maxN);
  }

  /** Records the dispatch; returns the uniform buffer to destroy after the submission. */
  encode(encoder: GPUCommandEncoder, d: SinkhornDispatch): GPUBuffer {
    if (d.n > this.maxN) throw new AppError('internal', `a ${d.n}-patch batch on a pipeline built for ${this.maxN}`, 'This is a bug; report it.');
    if (d.pairs > this.device.limits.maxComputeWorkgroupsPerDimension) throw new AppError('gpu-pipeline-failed', `${d.pairs} pairs exceed the GPU's workgroups per dimension`, 'Use a smaller k.');
    const block = new ArrayBuffer(32);
    new Uint32Array(block, 0, 4).set([d.n, d.pairs, d.maxIter, d.weightMode]);
    new Float32Array(block, 16, 2).set([d.eps, d.tol]);
    new Uint32Array(block, 24, 2).set([d.pairOffset, 0]);
    const params = this.device.createBuffer({ label: 'sinkhorn params', size: 32, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    this.device.queue.writeBuffer(params, 0, block);
    const bindGroup = this.device.createBindGroup({
      layout: this.pipeline.getBindGroupLayout(0),
      entries: [params, d.cosines, d.weightsU, d.weightsV, d.results].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const pass = encoder.beginComputePass({ label: 'sinkhorn' });
    pass.setPipeline(this.pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(d.pairs);
    pass.end();
    return params;
  }
}

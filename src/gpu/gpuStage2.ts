/**
 * Stage 2 on WebGPU: the cost matrices and Sinkhorn of every pair of a batch
 * in one queue submission, one readback at the end. Pipelines are built once
 * per device (and per grid size for Sinkhorn) and reused. Any failure (no
 * adapter, a pipeline error, the device lost mid-batch) rejects with an
 * AppError; the SearchEngine then answers on the CPU and reports why. After a
 * loss the next batch acquires a fresh device.
 */
import { AppError, asAppError } from '../core/errors.ts';
import { CpuStage2Scorer, type Stage2Accelerator, type Stage2Batch, type Stage2BatchResult, validateStage2Batch } from '../engine/stage2Batch.ts';
import { CostMatrixKernel } from './costMatrixKernel.ts';
import { acquireGpuDevice, type GpuContext } from './device.ts';
import { createSinkhornConvergedKernel } from './sinkhornConvergedKernel.ts';
import { type SinkhornKernel, WeightMode } from './sinkhornKernel.ts';
import { createSinkhornReferenceKernel, validateReferenceEps } from './sinkhornReferenceKernel.ts';

const DEFAULT_TOL = 1e-6;

interface DeviceState {
  readonly ctx: GpuContext;
  readonly lost: Promise<GPUDeviceLostInfo>;
  costKernel: Promise<CostMatrixKernel> | null;
  readonly sinkhornKernels: Map<string, Promise<SinkhornKernel>>;
}

export interface GpuStage2TestHooks {
  /** Called right after the batch is submitted (tests destroy the device here to simulate a loss). */
  afterSubmit?: (device: GPUDevice) => void;
}

export class GpuStage2 implements Stage2Accelerator {
  readonly name = 'webgpu' as const;
  readonly testHooks: GpuStage2TestHooks = {};
  private state: DeviceState | null = null;
  private acquiring: Promise<DeviceState> | null = null;
  /** Why the last device went away, for the UI. */
  lastLossReason: string | null = null;
  /** Computes APC's weights on the CPU (SIMD dot products, the same values the CPU scorer uses); the kernels take given weights. */
  private weightsScorer: CpuStage2Scorer | null = null;

  /** null when a device is ready, else why not (no adapter, device creation failed). */
  async ready(): Promise<string | null> {
    try {
      await this.deviceState();
      return null;
    } catch (e) {
      return e instanceof Error ? e.message : String(e);
    }
  }

  /** The adapter in words (after `ready`). */
  get adapterDescription(): string | null {
    return this.state ? `${this.state.ctx.description}${this.state.ctx.isFallbackAdapter ? ' (software fallback adapter)' : ''}` : null;
  }

  get isSoftwareAdapter(): boolean {
    return this.state?.ctx.isFallbackAdapter ?? false;
  }

  get device(): GPUDevice | null {
    return this.state?.ctx.device ?? null;
  }

  async scoreBatch(apcOrGiven: Stage2Batch): Promise<Stage2BatchResult> {
    validateStage2Batch(apcOrGiven);
    const batch = (this.weightsScorer ??= new CpuStage2Scorer()).withGivenWeights(apcOrGiven);
    if (batch.sinkhorn.mode === 'reference') validateReferenceEps(batch.sinkhorn.eps);
    const state = await this.deviceState();
    try {
      return await this.run(state, batch);
    } catch (e) {
      if (this.state !== state) {
        // The device went away while we worked.
        throw new AppError('gpu-device-lost', `the WebGPU device was lost mid-batch (${this.lastLossReason ?? 'unknown reason'})`, 'The CPU answered this query; the next one tries the GPU again.', {
          cause: e,
        });
      }
      throw asAppError(e, 'gpu-pipeline-failed', 'The CPU runs the re-ranking instead.');
    }
  }

  /** Releases the device. */
  destroy(): void {
    this.state?.ctx.device.destroy();
    this.state = null;
  }

  private deviceState(): Promise<DeviceState> {
    if (this.state) return Promise.resolve(this.state);
    this.acquiring ??= acquireGpuDevice()
      .then((ctx) => {
        const state: DeviceState = { ctx, lost: ctx.device.lost, costKernel: null, sinkhornKernels: new Map() };
        void ctx.device.lost.then((info) => {
          this.lastLossReason = `${info.reason}${info.message ? `: ${info.message}` : ''}`;
          if (this.state === state) this.state = null;
        });
        this.state = state;
        return state;
      })
      .finally(() => {
        this.acquiring = null;
      });
    return this.acquiring;
  }

  private sinkhornKernel(state: DeviceState, mode: 'reference' | 'converged', n: number): Promise<SinkhornKernel> {
    const key = `${mode}:${n}`;
    let k = state.sinkhornKernels.get(key);
    if (!k) {
      const device = state.ctx.device;
      k = mode === 'reference' ? createSinkhornReferenceKernel(device, n) : createSinkhornConvergedKernel(device, n);
      // A failed build is not cached, so a later batch may retry it.
      k.catch(() => state.sinkhornKernels.delete(key));
      state.sinkhornKernels.set(key, k);
    }
    return k;
  }

  private async run(state: DeviceState, batch: Stage2Batch): Promise<Stage2BatchResult> {
    const device = state.ctx.device;
    const { n, c, query, candidates } = batch;
    const pairs = candidates.length;
    state.costKernel ??= CostMatrixKernel.create(device).catch((e) => {
      state.costKernel = null;
      throw e;
    });
    const [costKernel, sinkhorn] = await Promise.all([state.costKernel, this.sinkhornKernel(state, batch.sinkhorn.mode, n)]);

    // Chunk the pairs so each candidate block fits one storage binding.
    const limits = device.limits;
    const bindingBytes = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
    const pairBytes = n * c * 4;
    const chunkPairs = Math.max(1, Math.min(pairs, Math.floor(bindingBytes / pairBytes), limits.maxComputeWorkgroupsPerDimension));
    if (pairBytes > bindingBytes) {
      throw new AppError('gpu-pipeline-failed', `one face's patches (${pairBytes} bytes) exceed the GPU's storage binding size`, 'The CPU runs the re-ranking instead.');
    }

    const temporary: GPUBuffer[] = [];
    const storage = (label: string, size: number, extra = 0) => {
      const b = device.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | extra });
      temporary.push(b);
      return b;
    };
    device.pushErrorScope('out-of-memory');
    device.pushErrorScope('validation');
    let scopesOpen = true;
    const popScopes = async () => {
      scopesOpen = false;
      const validation = await device.popErrorScope();
      const oom = await device.popErrorScope();
      return validation ?? oom;
    };
    try {
      const queryBuffer = storage('query', pairBytes);
      device.queue.writeBuffer(queryBuffer, 0, bufferSource(query));
      const given = batch.weights.kind === 'given' ? batch.weights : null;
      const weightsU = storage('weights u', given ? given.u.byteLength : 16);
      const weightsV = storage('weights v', given ? given.v.byteLength : 16);
      if (given) {
        device.queue.writeBuffer(weightsU, 0, bufferSource(given.u));
        device.queue.writeBuffer(weightsV, 0, bufferSource(given.v));
      }
      const results = storage('results', pairs * 16, GPUBufferUsage.COPY_SRC);
      const readback = device.createBuffer({ label: 'results readback', size: pairs * 16, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
      temporary.push(readback);
      const weightMode = gpuWeightMode(batch.weights.kind);
      const encoder = device.createCommandEncoder({ label: 'stage 2 batch' });
      for (let start = 0; start < pairs; start += chunkPairs) {
        const count = Math.min(chunkPairs, pairs - start);
        const candidateBuffer = storage('candidates', count * pairBytes);
        for (let p = 0; p < count; p++) device.queue.writeBuffer(candidateBuffer, p * pairBytes, bufferSource(candidates[start + p]));
        const cosines = storage('cosines', count * n * n * 4);
        temporary.push(costKernel.encode(encoder, { n, c, pairs: count, query: queryBuffer, candidates: candidateBuffer, cosines }));
        temporary.push(
          sinkhorn.encode(encoder, {
            n,
            pairs: count,
            pairOffset: start,
            maxIter: batch.sinkhorn.maxIter,
            weightMode,
            eps: batch.sinkhorn.eps,
            tol: batch.sinkhorn.tol ?? DEFAULT_TOL,
            cosines,
            weightsU,
            weightsV,
            results,
          }),
        );
      }
      encoder.copyBufferToBuffer(results, 0, readback, 0, pairs * 16);
      device.queue.submit([encoder.finish()]);
      this.testHooks.afterSubmit?.(device);
      const scopeError = await popScopes();
      if (scopeError) throw new AppError('gpu-pipeline-failed', `the GPU rejected the batch: ${scopeError.message}`, 'The CPU runs the re-ranking instead.');
      await Promise.race([
        readback.mapAsync(GPUMapMode.READ),
        state.lost.then((info) => {
          throw new AppError('gpu-device-lost', `the WebGPU device was lost (${info.reason})`, 'The CPU answered this query.');
        }),
      ]);
      const raw = new Float32Array(readback.getMappedRange().slice(0));
      readback.unmap();
      const similarity = new Float64Array(pairs);
      const iterations = new Int32Array(pairs);
      const marginalError = new Float64Array(pairs);
      for (let p = 0; p < pairs; p++) {
        similarity[p] = raw[4 * p];
        iterations[p] = Math.round(raw[4 * p + 1]);
        marginalError[p] = raw[4 * p + 2];
      }
      if (!similarity.every(Number.isFinite)) throw new AppError('gpu-pipeline-failed', 'the GPU returned a non-finite similarity', 'The CPU runs the re-ranking instead.');
      return { similarity, iterations, marginalError };
    } finally {
      if (scopesOpen) await popScopes().catch(() => null);
      for (const b of temporary) b.destroy();
    }
  }
}

/** Typed arrays here are never over SharedArrayBuffers; WebGPU's typings want that said. */
function bufferSource(a: ArrayBufferView): ArrayBufferView<ArrayBuffer> {
  return a as ArrayBufferView<ArrayBuffer>;
}

/** The kernels take given weights or derive SC from the costs; APC arrives already computed (scoreBatch). */
function gpuWeightMode(kind: Stage2Batch['weights']['kind']): WeightMode {
  if (kind === 'given') return WeightMode.Given;
  if (kind === 'sc') return WeightMode.Sc;
  if (kind === 'sc-sim') return WeightMode.ScSim;
  throw new AppError('internal', `the GPU scorer got ${kind} weights it cannot compute`, 'Report this as a bug; the CPU runs the re-ranking instead.');
}

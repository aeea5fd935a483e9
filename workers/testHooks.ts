/**
 * Fault injection for the end-to-end tests (e2e/worker-faults.spec.ts,
 * e2e/gpu-loss.spec.ts). The
 * engine wiring passes ExtractFaultSchedule as the test-hooks port only when
 * the page was opened with ?testHooks=1; otherwise refuseTestHooks, so a
 * normal page cannot be made to crash its workers.
 */
import type { ExtractOutcome } from '../src/app/extractTypes.ts';
import type { ExtractFault, ExtractFaultRule, TestHooksPort } from '../src/app/ports.ts';
import { AppError } from '../src/core/errors.ts';

/**
 * Runs in an extraction worker. 'crash' throws an uncaught error (the worker's
 * error event, as a decoder crash gives) and never answers; 'hang' spins as a
 * decoder stuck in a loop would, until the pool terminates the worker.
 */
export function simulateFault(kind: 'crash' | 'hang', fileName: string): Promise<never> {
  if (kind === 'hang') {
    for (;;) {
      // Busy on purpose: only terminate() ends it.
    }
  }
  setTimeout(() => {
    throw new Error(`injected crash while extracting ${fileName} (test hook)`);
  });
  return new Promise<never>(() => {});
}

/**
 * Runs in an extraction worker: destroys onnxruntime-web's WebGPU device, as a driver reset or a GPU unplugged would
 * lose it, so the models' next WebGPU runs fail for real. False when this worker has no WebGPU device.
 */
export async function loseGpuDevice(webgpu: { readonly device: Promise<GPUDevice | undefined> }): Promise<boolean> {
  let device: GPUDevice | undefined;
  try {
    device = await webgpu.device;
  } catch {
    // onnxruntime-web made no device (the models run on WASM): nothing to lose, which the caller is told.
    return false;
  }
  if (!device) return false;
  device.destroy();
  return true;
}

export const refuseTestHooks: TestHooksPort = {
  injectExtractFaults() {
    throw new AppError('invalid-argument', 'test hooks are off', 'Open the page with ?testHooks=1 to inject faults.');
  },
};

type ExtractJob<Api> = (api: Api) => Promise<ExtractOutcome>;

/** Which gallery extract attempts fault; a retried job is a new attempt and faults only while a rule has `times` left. */
export class ExtractFaultSchedule<Api extends { simulateFault(kind: 'crash' | 'hang', fileName: string): Promise<never>; loseGpuDevice(): Promise<boolean> }> implements TestHooksPort {
  private rules: { kind: ExtractFault; times: number; file?: string }[] = [];

  constructor(private readonly setJobTimeout: (ms: number) => void) {}

  injectExtractFaults(rules: readonly ExtractFaultRule[], jobTimeoutMs?: number): void {
    this.rules = rules.map((r) => ({ ...r }));
    if (jobTimeoutMs !== undefined) this.setJobTimeout(jobTimeoutMs);
  }

  /** `job`, or, while a rule matching `path` has attempts left, a job that faults instead. */
  wrap(path: string, job: ExtractJob<Api>): ExtractJob<Api> {
    return (api) => {
      const rule = this.rules.find((r) => r.times > 0 && (r.file === undefined || path.includes(r.file)));
      if (!rule) return job(api);
      rule.times--;
      return rule.kind === 'lose-gpu' ? api.loseGpuDevice().then(() => job(api)) : api.simulateFault(rule.kind, path);
    };
  }
}

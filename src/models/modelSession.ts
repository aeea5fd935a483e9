/**
 * What the face code needs of an onnxruntime session, and a WebGPU session
 * that moves to WASM the first time one of its runs fails.
 *
 * onnxruntime-web's WebGPU backend can create a session and then fail to run
 * it: a kernel that mishandles a shape (the detector's open-ended Slice did,
 * until the model build wrote it another way), a driver error, a GPU device
 * lost while the app runs. Every later photo would then fail the same way.
 * Instead, the photo whose run failed is run again on WASM, every later run
 * goes to WASM too, and the reason is handed on once as a notice for the
 * import report. WASM computes the same outputs (tests/gpu/modelsWebgpu.spec.ts
 * compares them), only more slowly.
 */
import type * as Ort from 'onnxruntime-web';
import { asAppError, type PlainNotice } from '../core/errors.ts';

export interface ModelSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Ort.InferenceSession.FeedsType): Promise<Ort.InferenceSession.ReturnType>;
}

export class WasmFallbackSession implements ModelSession {
  private wasm: Promise<ModelSession> | null = null;
  private onWasm: ModelSession | null = null;
  /** Why the runs moved to WASM; null while they run on WebGPU. */
  fallbackReason: string | null = null;

  constructor(
    private readonly gpu: ModelSession,
    private readonly createWasm: () => Promise<ModelSession>,
    private readonly model: { readonly id: string; readonly file: string },
    private readonly onFallback: (notice: PlainNotice) => void,
  ) {}

  get inputNames(): readonly string[] {
    return this.gpu.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.gpu.outputNames;
  }

  async run(feeds: Ort.InferenceSession.FeedsType): Promise<Ort.InferenceSession.ReturnType> {
    if (this.onWasm) return this.onWasm.run(feeds);
    try {
      return await this.gpu.run(feeds);
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return (await this.wasmSession(why)).run(feeds);
    }
  }

  private async wasmSession(why: string): Promise<ModelSession> {
    this.wasm ??= this.createWasm().then((session) => {
      this.onWasm = session;
      this.fallbackReason = why;
      this.onFallback({
        code: 'webgpu-run-failed',
        message: `the ${this.model.id} model failed on WebGPU (${why}); it runs on WASM from now on`,
        hint: 'Nothing is lost: WASM gives the same results, more slowly. If this happens every time, choose the WASM backend.',
      });
      return session;
    });
    try {
      return await this.wasm;
    } catch (e) {
      // Not cached: a later run may try WASM again.
      this.wasm = null;
      throw asAppError(
        e,
        'model-load-failed',
        `The ${this.model.id} model failed on WebGPU (${why}) and could not be loaded on WASM either: reload the page, or rebuild the models with \`npm run models\`.`,
        `models/${this.model.file}`,
      );
    }
  }
}

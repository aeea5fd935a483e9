/**
 * WasmFallbackSession with stand-in sessions: a run that fails on WebGPU is
 * answered by WASM, every later run goes to WASM, the notice comes once, and
 * a WASM that cannot load is a typed error (tried again on the next run).
 */
import { describe, expect, it } from 'vitest';
import type * as Ort from 'onnxruntime-web';
import { AppError, type PlainNotice } from '../../../src/core/errors.ts';
import { WasmFallbackSession, type ModelSession } from '../../../src/models/modelSession.ts';

/** A session that answers { out: [tag] } and counts its runs, or throws `fails` on every run. */
function stand(tag: number, fails?: string): ModelSession & { runs: number } {
  const s = {
    inputNames: ['input'],
    outputNames: ['out'],
    runs: 0,
    run: () => {
      s.runs++;
      if (fails) return Promise.reject(new Error(fails));
      return Promise.resolve({ out: { data: Float32Array.of(tag) } } as unknown as Ort.InferenceSession.ReturnType);
    },
  };
  return s;
}

const model = { id: 'ultraface-detector', file: 'face-detector.onnx' };
const feeds = {} as Ort.InferenceSession.FeedsType;
const value = async (s: ModelSession) => (await s.run(feeds)).out.data[0];

describe('WasmFallbackSession', () => {
  it('runs on WebGPU while WebGPU works, and never creates the WASM session', async () => {
    let created = 0;
    const notices: PlainNotice[] = [];
    const s = new WasmFallbackSession(
      stand(1),
      () => Promise.resolve(stand(2, String(++created))),
      model,
      (n) => notices.push(n),
    );
    expect([await value(s), await value(s)]).toEqual([1, 1]);
    expect(created).toBe(0);
    expect(notices).toEqual([]);
    expect(s.fallbackReason).toBeNull();
    expect(s.inputNames).toEqual(['input']);
  });

  it('answers the failed run on WASM, sends every later run there, and says so once', async () => {
    const gpu = stand(1, 'Kernel "[Mul] Mul_164" failed');
    const wasm = stand(2);
    let created = 0;
    const notices: PlainNotice[] = [];
    const s = new WasmFallbackSession(
      gpu,
      () => {
        created++;
        return Promise.resolve(wasm);
      },
      model,
      (n) => notices.push(n),
    );
    expect([await value(s), await value(s), await value(s)]).toEqual([2, 2, 2]);
    expect(gpu.runs).toBe(1);
    expect(wasm.runs).toBe(3);
    expect(created).toBe(1);
    expect(notices).toHaveLength(1);
    expect(notices[0].code).toBe('webgpu-run-failed');
    expect(notices[0].message).toContain('ultraface-detector');
    expect(notices[0].message).toContain('Kernel "[Mul] Mul_164" failed');
    expect(notices[0].hint).toMatch(/WASM/);
    expect(s.fallbackReason).toBe('Kernel "[Mul] Mul_164" failed');
  });

  it('a WASM session that cannot be created is a model-load-failed error naming the model file, and the next run tries again', async () => {
    let attempts = 0;
    const s = new WasmFallbackSession(
      stand(1, 'device lost'),
      () => (++attempts === 1 ? Promise.reject(new Error('out of memory')) : Promise.resolve(stand(2))),
      model,
      () => undefined,
    );
    const err = await s.run(feeds).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('model-load-failed');
    expect((err as AppError).file).toBe('models/face-detector.onnx');
    expect((err as AppError).hint).toContain('device lost');
    expect(await value(s)).toBe(2);
    expect(attempts).toBe(2);
  });
});

import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { PAGE_BYTES, reserveKernelMemory } from '../../../src/engine/simd/kernelMemory.ts';

describe('reserveKernelMemory', () => {
  it('grows the fallback buffer by at least half, keeping its bytes', () => {
    const start = new ArrayBuffer(4 * PAGE_BYTES);
    new Uint8Array(start).set([1, 2, 3], 100);
    const grown = reserveKernelMemory(null, start, 4 * PAGE_BYTES + 1, 'the test', 'hint');
    expect(grown.byteLength).toBe(6 * PAGE_BYTES);
    expect(Array.from(new Uint8Array(grown, 100, 3))).toEqual([1, 2, 3]);
    expect(reserveKernelMemory(null, grown, 100 * PAGE_BYTES + 5, 'the test', 'hint').byteLength).toBe(101 * PAGE_BYTES);
    expect(reserveKernelMemory(null, grown, 10, 'the test', 'hint')).toBe(grown);
  });

  it('grows a WebAssembly memory in place', () => {
    const memory = new WebAssembly.Memory({ initial: 2 });
    const placeholder = new ArrayBuffer(0);
    expect(reserveKernelMemory(memory, placeholder, 5 * PAGE_BYTES, 'the test', 'hint')).toBe(placeholder);
    expect(memory.buffer.byteLength).toBe(5 * PAGE_BYTES);
  });

  it('refuses more than 4 GiB with the caller’s name and hint, allocating nothing', () => {
    const start = new ArrayBuffer(PAGE_BYTES);
    let error: unknown;
    try {
      reserveKernelMemory(null, start, 2 ** 32 + 1, 'the int8 gallery', 'Use a smaller gallery.');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).code).toBe('invalid-argument');
    expect((error as AppError).message).toContain('the int8 gallery needs 4.0 GiB, over the 4 GiB limit');
    expect((error as AppError).hint).toBe('Use a smaller gallery.');
  });
});

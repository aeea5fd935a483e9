/**
 * The linear memory both SIMD kernels work in: a WebAssembly memory when the
 * kernel instantiated, else an ArrayBuffer the JS fallback loops read. Shared
 * so the growth policy and its limits are written once.
 */
import { AppError } from '../../core/errors.ts';

export const PAGE_BYTES = 65536;
/** 4 GiB, the wasm32 ceiling. */
const MAX_PAGES = 65536;

/**
 * Makes the memory hold at least `bytes`, growing by at least half so a
 * gallery filled one face at a time copies O(log n) times. The WebAssembly
 * memory grows in place; for the fallback the (possibly new) buffer is returned.
 * `what` names the user, as in "the int8 gallery needs 5.0 GiB".
 */
export function reserveKernelMemory(memory: WebAssembly.Memory | null, buffer: ArrayBuffer, bytes: number, what: string, tooBigHint: string): ArrayBuffer {
  const have = memory ? memory.buffer.byteLength : buffer.byteLength;
  if (bytes <= have) return buffer;
  const wantPages = Math.min(MAX_PAGES, Math.max(Math.ceil(bytes / PAGE_BYTES), Math.ceil((have / PAGE_BYTES) * 1.5)));
  if (bytes > wantPages * PAGE_BYTES) throw new AppError('invalid-argument', `${what} needs ${(bytes / 2 ** 30).toFixed(1)} GiB, over the 4 GiB limit`, tooBigHint);
  try {
    if (memory) {
      memory.grow(wantPages - have / PAGE_BYTES);
      return buffer;
    }
    const grown = new ArrayBuffer(wantPages * PAGE_BYTES);
    new Uint8Array(grown).set(new Uint8Array(buffer));
    return grown;
  } catch (cause) {
    throw new AppError('internal', `could not allocate ${(bytes / 2 ** 20).toFixed(0)} MiB for ${what}`, 'Close other tabs or use a smaller gallery.', { cause });
  }
}

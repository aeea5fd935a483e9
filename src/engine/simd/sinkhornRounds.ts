/**
 * The reference Sinkhorn's rounds in WebAssembly SIMD (sinkhornKernel.wat):
 * the same arithmetic in the same order as the JS loop in sinkhornCpu.ts, so
 * the same scalings bit for bit, in about a third of the time (the kernel's
 * header says why the sums can be vectorised without reordering them).
 * One instance per SinkhornWorkspace; null where WebAssembly SIMD is missing,
 * and the JS loop runs instead.
 */
import { SINKHORN_KERNEL_WASM_BASE64 } from './sinkhornKernel.generated.ts';
import { reserveKernelMemory } from './kernelMemory.ts';
import { kernelModule } from './kernelModule.ts';

interface SinkhornExports {
  readonly memory: WebAssembly.Memory;
  readonly referenceRounds: (
    kern: number,
    kernT: number,
    a: number,
    b: number,
    t: number,
    s: number,
    u: number,
    v: number,
    n: number,
    m: number,
    nS: number,
    mS: number,
    maxIter: number,
    threshold: number,
  ) => number;
}

export class ReferenceRounds {
  private constructor(private readonly exports: SinkhornExports) {}

  static create(): ReferenceRounds | null {
    const module = kernelModule(SINKHORN_KERNEL_WASM_BASE64);
    return module ? new ReferenceRounds(new WebAssembly.Instance(module).exports as unknown as SinkhornExports) : null;
  }

  /**
   * Runs the rounds on the n x m kernel `kern` (row-major, row = query patch) from a = b = 1 and writes the final
   * query scaling into `a` (n) and gallery scaling into `b` (m). Returns the rounds done.
   */
  run(kern: Float64Array, n: number, m: number, uQuery: ArrayLike<number>, vGallery: ArrayLike<number>, maxIter: number, threshold: number, a: Float64Array, b: Float64Array): number {
    const nS = n + (n & 1);
    const mS = m + (m & 1);
    // Float64 indices of each region; every region has an even length, so each starts 16-byte aligned.
    const kernAt = 0;
    const kernTAt = kernAt + n * mS;
    const aAt = kernTAt + m * nS;
    const bAt = aAt + nS;
    const tAt = bAt + mS;
    const sAt = tAt + mS;
    const uAt = sAt + nS;
    const vAt = uAt + nS;
    const end = vAt + mS;
    reserveKernelMemory(this.exports.memory, new ArrayBuffer(0), end * 8, 'the Sinkhorn kernel', 'Use a coarser patch grid.');
    const f = new Float64Array(this.exports.memory.buffer, 0, end);
    f.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < m; j++) {
        const k = kern[i * m + j];
        f[kernAt + i * mS + j] = k;
        f[kernTAt + j * nS + i] = k;
      }
      f[aAt + i] = 1;
      f[uAt + i] = uQuery[i];
    }
    for (let j = 0; j < m; j++) {
      f[bAt + j] = 1;
      f[vAt + j] = vGallery[j];
    }
    const rounds = this.exports.referenceRounds(kernAt * 8, kernTAt * 8, aAt * 8, bAt * 8, tAt * 8, sAt * 8, uAt * 8, vAt * 8, n, m, nS, mS, maxIter, threshold);
    a.set(f.subarray(aAt, aAt + n));
    b.set(f.subarray(bAt, bAt + m));
    return rounds;
  }
}

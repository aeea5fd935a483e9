/**
 * The second pass of decodePatchMapUnit (src/engine/quant/patchCodec.ts) in
 * WebAssembly (decodeUnit in dotKernel.wat, beside stage 2's costsEncoded,
 * which shares its reading of the codes): the same floats bit for bit, several
 * times faster than the JS loop, which stage 2 runs on every candidate it
 * reads. Null where WebAssembly (or its SIMD extension, which every kernel
 * module is checked for) is missing; the JS loop runs instead.
 */
import type { EncodedMapLayout } from '../quant/patchCodec.ts';
import { NORMALISE_FLOOR } from '../vectors.ts';
import { reserveKernelMemory } from './kernelMemory.ts';
import { kernelModule } from './kernelModule.ts';
import { DOT_KERNEL_WASM_BASE64 } from './dotKernel.generated.ts';

interface UnitDecodeExports {
  readonly memory: WebAssembly.Memory;
  readonly decodeUnit: (
    src: number,
    starts: number,
    patches: number,
    c: number,
    bitmapBytes: number,
    unit: number,
    norms: number,
    sums: number,
    values: number,
    channels: number,
    floor: number,
  ) => void;
}

export class UnitDecodeKernel {
  private constructor(private readonly exports: UnitDecodeExports) {}

  static create(): UnitDecodeKernel | null {
    const module = kernelModule(DOT_KERNEL_WASM_BASE64);
    return module ? new UnitDecodeKernel(new WebAssembly.Instance(module).exports as unknown as UnitDecodeExports) : null;
  }

  /**
   * Decodes `bytes` (laid out as `layout` says, already checked) into unit patch rows, patch norms and the per-channel
   * float64 sums of the decoded values. Each output has the map's exact size and is overwritten whole.
   */
  decode(bytes: Uint8Array, layout: EncodedMapLayout, unitPatches: Float32Array, patchNorms: Float32Array, sums: Float64Array): void {
    const { h, w, c, starts, bitmapBytes } = layout;
    const patches = h * w;
    // Byte offsets; the float64 sums first, so they are 8-byte aligned, every other region 4-byte aligned.
    const sumsAt = 0;
    const unitAt = sumsAt + c * 8;
    const normsAt = unitAt + patches * c * 4;
    const valuesAt = normsAt + patches * 4;
    const channelsAt = valuesAt + c * 4;
    const startsAt = channelsAt + c * 4;
    const srcAt = startsAt + patches * 4;
    const end = srcAt + bytes.length;
    reserveKernelMemory(this.exports.memory, new ArrayBuffer(0), end, 'decoding a stored patch map', 'Use a coarser patch grid.');
    const buffer = this.exports.memory.buffer;
    const sumsView = new Float64Array(buffer, sumsAt, c);
    const unitView = new Float32Array(buffer, unitAt, patches * c);
    const normsView = new Float32Array(buffer, normsAt, patches);
    sumsView.fill(0);
    unitView.fill(0);
    normsView.fill(0);
    new Int32Array(buffer, startsAt, patches).set(starts);
    new Uint8Array(buffer, srcAt, bytes.length).set(bytes);
    this.exports.decodeUnit(srcAt, startsAt, patches, c, bitmapBytes, unitAt, normsAt, sumsAt, valuesAt, channelsAt, NORMALISE_FLOOR);
    unitPatches.set(unitView);
    patchNorms.set(normsView);
    sums.set(sumsView);
  }
}

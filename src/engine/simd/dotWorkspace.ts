/**
 * A growable block of float memory with fast dot-product kernels over it.
 * With WebAssembly SIMD (every current browser and Node) the memory is the
 * module instance's own and the kernels are the SIMD code; otherwise a
 * plain ArrayBuffer and the same loops in JS. Each workspace owns one instance,
 * so callers lay out their own regions without sharing an allocator.
 *
 * The kernels' source is dotKernel.wat (WebAssembly text); its binary comes
 * from dotKernel.generated.ts, a module scripts/assembleWat.ts writes with
 * wabt, so loading it stays synchronous and needs no bundler or fetch.
 *
 * Pitfall: growing WebAssembly memory detaches earlier views, so always read
 * `data` again after `reserve`.
 */
import type { EncodedMapLayout } from '../quant/patchCodec.ts';
import { NORMALISE_FLOOR } from '../vectors.ts';
import { DOT_KERNEL_WASM_BASE64 } from './dotKernel.generated.ts';
import { PAGE_BYTES, reserveKernelMemory } from './kernelMemory.ts';
import { kernelModule } from './kernelModule.ts';

type KernelFn = (a: number, na: number, b: number, nb: number, c: number, out: number, ldo: number) => void;

interface SimdExports {
  readonly memory: WebAssembly.Memory;
  readonly dots2x4: KernelFn;
  readonly dots1x8: KernelFn;
  readonly dotsSparse: (at: number, lda: number, na: number, b: number, nb: number, c: number, out: number, ldo: number, list: number) => void;
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
  readonly costsEncoded: (
    src: number,
    starts: number,
    patches: number,
    c: number,
    bitmapBytes: number,
    at: number,
    lda: number,
    na: number,
    out: number,
    ldo: number,
    list: number,
    values: number,
    channels: number,
    sums: number,
    floor: number,
  ) => void;
  readonly poolEncoded: (
    src: number,
    starts: number,
    patches: number,
    c: number,
    bitmapBytes: number,
    cells: number,
    acc: number,
    sums: number,
    values: number,
    channels: number,
    floor: number,
  ) => void;
}

/** Where placeStoredMap put each region, as float indices. */
interface StoredMapPlace {
  readonly aheadAt: number;
  readonly sumsAt: number;
  readonly valuesAt: number;
  readonly channelsAt: number;
  readonly extraAt: number;
  readonly startsAt: number;
  readonly srcAt: number;
}

export class DotWorkspace {
  /** True when this workspace runs the SIMD kernels (else the JS loops). */
  readonly simd: boolean;
  private readonly exports: SimdExports | null;
  private buffer: ArrayBuffer;
  private view: Float32Array;

  constructor(options: { forceJs?: boolean } = {}) {
    const module = options.forceJs ? null : kernelModule(DOT_KERNEL_WASM_BASE64);
    if (module) {
      this.exports = new WebAssembly.Instance(module).exports as unknown as SimdExports;
      this.buffer = this.exports.memory.buffer;
    } else {
      this.exports = null;
      this.buffer = new ArrayBuffer(PAGE_BYTES);
    }
    this.simd = this.exports !== null;
    this.view = new Float32Array(this.buffer);
  }

  /** Capacity in floats. */
  get capacity(): number {
    return this.data.length;
  }

  /** The whole memory as floats; re-read after every `reserve`. */
  get data(): Float32Array {
    const current = this.exports ? this.exports.memory.buffer : this.buffer;
    if (current !== this.view.buffer) this.view = new Float32Array(current);
    return this.view;
  }

  /** Makes room for at least `floats` floats, keeping the contents. */
  reserve(floats: number): void {
    this.buffer = reserveKernelMemory(this.exports?.memory ?? null, this.buffer, floats * 4, 'the engine’s working memory', 'Use a smaller gallery, a smaller k or a coarser grid.');
  }

  /**
   * out[i * ldo + j] = <a_i, b_j> for i < na, j < nb, rows of c floats.
   * All positions are float indices into `data`.
   */
  dots(a: number, na: number, b: number, nb: number, c: number, out: number, ldo: number): void {
    if (na <= 0 || nb <= 0) return;
    if (this.exports && c % 4 === 0) {
      const kernel = na === 1 ? this.exports.dots1x8 : this.exports.dots2x4;
      kernel(a * 4, na, b * 4, nb, c, out * 4, ldo);
      return;
    }
    dotsJs(this.data, a, na, b, nb, c, out, ldo);
  }

  /**
   * out[i * ldo + j] = <a_i, b_j> with a given transposed (`at`: c rows of `lda` floats, lda a multiple of 4 and >= na,
   * finite values past na) and only b's nonzero values visited, each sum a sequential float32 sum over t ascending (not
   * the blocked order of `dots`, so the last bits differ from it). `list` is scratch for 2 * c floats. For b rows that
   * are mostly zeros; the SIMD kernel and the JS loop give the same bits.
   */
  dotsSparse(at: number, lda: number, na: number, b: number, nb: number, c: number, out: number, ldo: number, list: number): void {
    if (na <= 0 || nb <= 0) return;
    if (lda % 4 !== 0 || lda < na) throw new RangeError(`dotsSparse: lda ${lda} must be a multiple of 4 and at least na ${na}`);
    if (this.exports) {
      this.exports.dotsSparse(at * 4, lda, na, b * 4, nb, c, out * 4, ldo, list * 4);
      return;
    }
    dotsSparseJs(this.data, at, lda, na, b, nb, c, out, ldo);
  }

  /**
   * Decodes a stored patch map (src/engine/quant/patchCodec.ts; `layout` from its walk, so already checked) into unit
   * patch rows, patch norms and the per-channel float64 sums of the decoded values (decodeUnit in dotKernel.wat), bit
   * for bit patchCodec's JS loop. Each output has the map's exact size and is overwritten whole. SIMD only.
   */
  decodeUnit(bytes: Uint8Array, layout: EncodedMapLayout, unitPatches: Float32Array, patchNorms: Float32Array, sums: Float64Array): void {
    const exports = this.simdExports('decodeUnit');
    const patches = layout.h * layout.w;
    const unitFloats = patches * layout.c;
    const at = this.placeStoredMap(bytes, layout, 0, unitFloats + patches, 0);
    const unitView = new Float32Array(exports.memory.buffer, at.aheadAt * 4, unitFloats);
    const normsView = new Float32Array(exports.memory.buffer, (at.aheadAt + unitFloats) * 4, patches);
    unitView.fill(0);
    normsView.fill(0);
    exports.decodeUnit(
      at.srcAt * 4,
      at.startsAt * 4,
      patches,
      layout.c,
      layout.bitmapBytes,
      at.aheadAt * 4,
      (at.aheadAt + unitFloats) * 4,
      at.sumsAt * 4,
      at.valuesAt * 4,
      at.channelsAt * 4,
      NORMALISE_FLOOR,
    );
    unitPatches.set(unitView);
    patchNorms.set(normsView);
    sums.set(this.storedMapSums(at, layout.c));
  }

  /**
   * dotsSparse with b given as a stored patch map (`layout` from encodedMapLayout, so already checked) instead of its
   * decoded unit rows: out[i * ldo + j] for i < na and each patch j, bit for bit what dotsSparse gives on the rows
   * decodePatchMapUnit makes of the same bytes, without writing those rows. The per-channel float64 sums of the decoded
   * values go into `sums` (c; unitAverageOfSums turns them into the map's unit average). `scratch`: a float index from
   * which the call may use memory (it reserves what it needs, so re-read `data`). SIMD only: without it, decode the map
   * and call dotsSparse.
   */
  costsEncoded(bytes: Uint8Array, layout: EncodedMapLayout, at: number, lda: number, na: number, out: number, ldo: number, scratch: number, sums: Float64Array): void {
    const exports = this.simdExports('costsEncoded');
    const { h, w, c, bitmapBytes } = layout;
    if (lda % 4 !== 0 || lda < na) throw new RangeError(`costsEncoded: lda ${lda} must be a multiple of 4 and at least na ${na}`);
    if (sums.length !== c) throw new RangeError(`costsEncoded: ${sums.length} sums for ${c} channels`);
    // Ahead of the map: the sparse kernel's list, one (address, value) pair per nonzero of a patch.
    const place = this.placeStoredMap(bytes, layout, scratch, 2 * c, 0);
    exports.costsEncoded(
      place.srcAt * 4,
      place.startsAt * 4,
      h * w,
      c,
      bitmapBytes,
      at * 4,
      lda,
      na,
      out * 4,
      ldo,
      place.aheadAt * 4,
      place.valuesAt * 4,
      place.channelsAt * 4,
      place.sumsAt * 4,
      NORMALISE_FLOOR,
    );
    sums.set(this.storedMapSums(place, c));
  }

  /**
   * The f64 pooling sums of a stored map for a coarser grid (poolEncoded in dotKernel.wat): per cell, the sum over its
   * bins' patches of the raw map rawMapOf rebuilds from the decoded rows, the same bits as adaptiveAvgPool's sums of
   * that map. `cellsOf`: 4 cells per patch (-1 for none); `cells` cells. The per-channel sums of the decoded values go
   * into `sums`. Returns the sums, cells x c, a view into this memory valid until the next reserve. SIMD only.
   */
  poolEncoded(bytes: Uint8Array, layout: EncodedMapLayout, cellsOf: Int32Array, cells: number, scratch: number, sums: Float64Array): Float64Array {
    const exports = this.simdExports('poolEncoded');
    const { h, w, c, bitmapBytes } = layout;
    const patches = h * w;
    if (cellsOf.length !== 4 * patches) throw new RangeError(`poolEncoded: ${cellsOf.length} cell slots for ${patches} patches`);
    if (sums.length !== c) throw new RangeError(`poolEncoded: ${sums.length} sums for ${c} channels`);
    // Ahead of the map: the float64 pooling sums; beside it, the cell table.
    const place = this.placeStoredMap(bytes, layout, scratch, 2 * cells * c, 4 * patches);
    const buffer = exports.memory.buffer;
    const acc = new Float64Array(buffer, place.aheadAt * 4, cells * c);
    acc.fill(0);
    new Int32Array(buffer, place.extraAt * 4, 4 * patches).set(cellsOf);
    exports.poolEncoded(
      place.srcAt * 4,
      place.startsAt * 4,
      patches,
      c,
      bitmapBytes,
      place.extraAt * 4,
      place.aheadAt * 4,
      place.sumsAt * 4,
      place.valuesAt * 4,
      place.channelsAt * 4,
      NORMALISE_FLOOR,
    );
    sums.set(this.storedMapSums(place, c));
    return acc;
  }

  private simdExports(what: string): SimdExports {
    if (!this.exports) throw new RangeError(`${what} needs the SIMD kernels; decode the map with patchCodec's JS loop`);
    return this.exports;
  }

  /**
   * Lays out what the stored-map kernels read, as float indices from `scratch` (reserved here, so re-read `data`):
   * `aheadFloats` for the caller (8-byte aligned, untouched), the channel sums (c float64, zeroed), one patch's values
   * and channels (c each), `extraInts` int32s for the caller, the patch starts and the map's bytes (both written).
   */
  private placeStoredMap(bytes: Uint8Array, layout: EncodedMapLayout, scratch: number, aheadFloats: number, extraInts: number): StoredMapPlace {
    const patches = layout.h * layout.w;
    const { c } = layout;
    const aheadAt = scratch + (scratch & 1);
    const sumsAt = aheadAt + aheadFloats + (aheadFloats & 1);
    const valuesAt = sumsAt + 2 * c;
    const channelsAt = valuesAt + c;
    const extraAt = channelsAt + c;
    const startsAt = extraAt + extraInts;
    const srcAt = startsAt + patches;
    this.reserve(srcAt + Math.ceil(bytes.length / 4));
    const buffer = this.simdExports('placing a stored map').memory.buffer;
    new Float64Array(buffer, sumsAt * 4, c).fill(0);
    new Int32Array(buffer, startsAt * 4, patches).set(layout.starts);
    new Uint8Array(buffer, srcAt * 4, bytes.length).set(bytes);
    return { aheadAt, sumsAt, valuesAt, channelsAt, extraAt, startsAt, srcAt };
  }

  /** The channel sums a stored-map kernel left at `place` (a view, valid until the next reserve). */
  private storedMapSums(place: StoredMapPlace, c: number): Float64Array {
    return new Float64Array(this.simdExports('reading channel sums').memory.buffer, place.sumsAt * 4, c);
  }
}

function dotsSparseJs(f: Float32Array, at: number, lda: number, na: number, b: number, nb: number, c: number, out: number, ldo: number): void {
  const sums = new Float32Array(na);
  for (let j = 0; j < nb; j++) {
    sums.fill(0);
    const bj = b + j * c;
    for (let t = 0; t < c; t++) {
      const x = f[bj + t];
      if (x === 0) continue;
      const row = at + t * lda;
      // Float32Array stores round each product and each sum to float32, as the kernel's f32x4 operations do.
      for (let i = 0; i < na; i++) sums[i] += Math.fround(f[row + i] * x);
    }
    for (let i = 0; i < na; i++) f[out + i * ldo + j] = sums[i];
  }
}

function dotsJs(f: Float32Array, a: number, na: number, b: number, nb: number, c: number, out: number, ldo: number): void {
  for (let i = 0; i < na; i++) {
    const ai = a + i * c;
    for (let j = 0; j < nb; j++) {
      const bj = b + j * c;
      let s0 = 0;
      let s1 = 0;
      let t = 0;
      for (; t + 1 < c; t += 2) {
        s0 += f[ai + t] * f[bj + t];
        s1 += f[ai + t + 1] * f[bj + t + 1];
      }
      if (t < c) s0 += f[ai + t] * f[bj + t];
      f[out + i * ldo + j] = s0 + s1;
    }
  }
}

/**
 * Stage 1 for galleries too large to hold their int8 rows: 4-bit rows in
 * memory (quant/int4Rows.ts, half the bytes) pick a short list, and the int8
 * rows of that list, read from disk through a row reader, give the scores.
 * The same API as Int8CosineIndex, and the same answer where the short list
 * holds the int8 top k: every returned score is the one Int8CosineIndex
 * computes for that row, bit for bit (its exact kernel scores the list).
 *
 * Why a short list and not a proven bound, as Int8CosineIndex's first pass
 * has: a 4-bit row's worst-case error (s4 / 2 * sum |u_j|, ~0.2 in cosine for
 * 1536-D) would keep most of a gallery in the list. Rounding a row to steps
 * of s4 moves the score of a unit query by about sigma = s4 / sqrt(12) when
 * the values' errors are independent (~0.004 in cosine for 1536-D), so the
 * list keeps every row whose approximate score is at most MARGIN_SIGMAS x
 * (its sigma + the largest sigma) below the k-th best approximate score (at
 * most MAX_SHORTLIST rows, the best first). tests/unit/engine/stage1Int4.test.ts
 * and the real lfw-dev features (bench/study/quantisation.ts) check that the
 * answers equal the int8 index's.
 *
 * Memory per row: int4RowBytes(dim) bytes of codes in the kernel's memory
 * and a float32 step. The reader is called for the short list of each query
 * (a few hundred rows) and by row(); the storage reads a 1.5 kB row in ~5 us.
 */
import { AppError } from '../core/errors.ts';
import { int4DotsJs, int4PaddedDim, int4RowBytes, INT4_LEVELS, INT4_OFFSET, INT4_RATIOS, packInt4Row } from './quant/int4Rows.ts';
import { corruptRow, decodeStage1Row, quantiseUnitRow, stage1RowBytes, STAGE1_ROW_HEADER_BYTES } from './quant/int8Rows.ts';
import { INT4_DOT_KERNEL_WASM_BASE64 } from './simd/int4DotKernel.generated.ts';
import { kernelModule } from './simd/kernelModule.ts';
import { PAGE_BYTES, reserveKernelMemory } from './simd/kernelMemory.ts';
import { requireK, type RankedIndex } from './stage1.ts';
import type { Stage1Index } from './stage1Index.ts';
import { Int8CosineIndex, kthLargestProduct } from './stage1Int8.ts';
import { unitEmbedding } from './vectors.ts';

/** Row `index`'s int8 row as the storage keeps it (int8Rows.ts: scale, then codes); the bytes may be lent until the next call. */
export type Stage1RowReader = (index: number) => Uint8Array;

interface Int4Exports {
  readonly memory: WebAssembly.Memory;
  readonly int4Dots: (codes: number, n: number, paddedDim: number, query: number, out: number) => void;
  readonly packInt4Rows: (src: number, n: number, dim: number, stride: number, dst: number, ratios: number, maxes: number) => void;
}

/** Rows the kernel packs per call: stored rows are copied into a staging area this big, reserved with the codes. */
const PACK_BATCH = 256;
const SQRT12 = Math.sqrt(12);

/** Standard deviations of a row's rounding error kept on each side of the k-th approximate score. */
export const MARGIN_SIGMAS = 2.5;
/** The most rows rescored for one query (~10 ms of reads at ~5 us a row). */
export const MAX_SHORTLIST = 2048;

export class Int4ShortlistIndex implements Stage1Index {
  readonly dim: number;
  readonly simd: boolean;
  private readonly paddedDim: number;
  private readonly rowBytes: number;
  private readonly exports: Int4Exports | null;
  private buffer: ArrayBuffer;
  /** The 4-bit step s4 of each row. */
  private steps = new Float32Array(0);
  /** Each row's score spread from rounding (s4 / sqrt(12)), and the largest. */
  private sigmas = new Float32Array(0);
  private maxSigma = 0;
  private rows = 0;
  private capacityRows = 0;
  /** Scores the short list: its int8 rows, loaded per query. */
  private readonly exact: Int8CosineIndex;
  private listBytes = new Uint8Array(0);
  private int8Scratch: Int8Array;

  constructor(
    dim: number,
    private readonly readRow: Stage1RowReader,
    options: { forceJs?: boolean } = {},
  ) {
    if (!Number.isInteger(dim) || dim <= 0) throw new AppError('invalid-argument', `embedding size must be a positive integer, got ${dim}`, 'Check the recognizer output.');
    this.dim = dim;
    this.paddedDim = int4PaddedDim(dim);
    this.rowBytes = int4RowBytes(dim);
    // The packing kernel reads whole blocks of 32 codes: other dims pack in JS.
    const module = options.forceJs || dim % 32 !== 0 ? null : kernelModule(INT4_DOT_KERNEL_WASM_BASE64);
    if (module) {
      this.exports = new WebAssembly.Instance(module).exports as unknown as Int4Exports;
      this.buffer = this.exports.memory.buffer;
    } else {
      this.exports = null;
      this.buffer = new ArrayBuffer(PAGE_BYTES);
    }
    this.simd = this.exports !== null;
    this.exact = new Int8CosineIndex(dim, options);
    this.int8Scratch = new Int8Array(dim);
  }

  get encodedRowBytes(): number {
    return stage1RowBytes(this.dim);
  }

  get size(): number {
    return this.rows;
  }

  /** Bytes held: the packed codes, a float32 step and a float32 sigma per row. */
  get byteLength(): number {
    return this.rows * (this.rowBytes + 8);
  }

  /** Appends embeddings (raw): quantised to int8 exactly as the storage writes them, then packed. */
  add(embeddings: readonly Float32Array[]): void {
    const units = embeddings.map((e, i) => {
      this.requireDim(e, `embedding ${i}`);
      return unitEmbedding(e, `embedding ${i}`);
    });
    this.reserve(this.rows + units.length);
    const packed = this.packed();
    for (const u of units) {
      const scale = quantiseUnitRow(u, this.int8Scratch, 0);
      this.noteRow(scale, packInt4Row(this.int8Scratch, 0, this.dim, packed, this.rows * this.rowBytes));
    }
  }

  /** Appends `count` int8 rows as encodeStage1Row wrote them, packed to 4 bits. Validates the length and every scale first. */
  addEncodedRows(bytes: Uint8Array, count: number): void {
    const rowBytes = stage1RowBytes(this.dim);
    if (!Number.isInteger(count) || count < 0) throw new AppError('invalid-argument', `row count must be a non-negative integer, got ${count}`, 'Pass the number of rows in the bytes.');
    if (bytes.length !== count * rowBytes) throw corruptRow(`${count} stage-1 rows of ${this.dim} values take ${count * rowBytes} bytes, got ${bytes.length}`);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let r = 0; r < count; r++) {
      const scale = view.getFloat32(r * rowBytes, true);
      if (!Number.isFinite(scale) || !(scale > 0)) throw corruptRow(`stage-1 row ${r} has scale ${scale}; a stored row's scale is finite and positive`);
    }
    this.reserve(this.rows + count);
    if (this.exports) {
      const at = this.layout(this.capacityRows);
      const memory = new Uint8Array(this.currentBuffer());
      new Float32Array(memory.buffer, at.ratiosAt, INT4_RATIOS.length).set(INT4_RATIOS);
      const maxes = new Int32Array(memory.buffer, at.maxesAt, PACK_BATCH);
      for (let first = 0; first < count; first += PACK_BATCH) {
        const batch = Math.min(PACK_BATCH, count - first);
        memory.set(bytes.subarray(first * rowBytes, (first + batch) * rowBytes), at.stagingAt);
        this.exports.packInt4Rows(at.stagingAt, batch, this.dim, rowBytes, this.rows * this.rowBytes, at.ratiosAt, at.maxesAt);
        for (let r = 0; r < batch; r++) this.noteRow(view.getFloat32((first + r) * rowBytes, true), maxes[r]);
      }
      return;
    }
    const packed = this.packed();
    const codes = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let r = 0; r < count; r++) {
      const m = packInt4Row(codes, r * rowBytes + STAGE1_ROW_HEADER_BYTES, this.dim, packed, this.rows * this.rowBytes);
      this.noteRow(view.getFloat32(r * rowBytes, true), m);
    }
  }

  /** Records the row just packed: its step s8 * m / 7 and its sigma. */
  private noteRow(scale: number, maxCode: number): void {
    const r = this.rows;
    this.steps[r] = (scale * maxCode) / INT4_LEVELS;
    this.sigmas[r] = this.steps[r] / SQRT12;
    this.maxSigma = Math.max(this.maxSigma, this.sigmas[r]);
    this.rows++;
  }

  removeRows(indices: readonly number[]): void {
    const drop = new Set(indices);
    const packed = this.packed();
    const rb = this.rowBytes;
    let write = 0;
    let maxSigma = 0;
    for (let read = 0; read < this.rows; read++) {
      if (drop.has(read)) continue;
      if (write !== read) {
        packed.copyWithin(write * rb, read * rb, (read + 1) * rb);
        this.steps[write] = this.steps[read];
        this.sigmas[write] = this.sigmas[read];
      }
      maxSigma = Math.max(maxSigma, this.sigmas[write]);
      write++;
    }
    this.rows = write;
    this.maxSigma = maxSigma;
  }

  clear(): void {
    this.rows = 0;
    this.maxSigma = 0;
  }

  /** Row `index` dequantised from its int8 row on disk: the values Int8CosineIndex.row gives. */
  row(index: number): Float32Array {
    this.requireRow(index);
    return decodeStage1Row(this.readInt8Row(index), this.dim);
  }

  topK(query: Float32Array, k: number): RankedIndex[] {
    requireK(k);
    this.requireDim(query, 'query');
    const unit = unitEmbedding(query, 'query');
    const n = this.rows;
    if (n === 0) return [];
    const list = k >= n ? allRows(n) : this.shortList(unit, k);
    const rowBytes = stage1RowBytes(this.dim);
    if (this.listBytes.length < list.length * rowBytes) this.listBytes = new Uint8Array(Math.ceil(Math.max(list.length, 64) * 1.25) * rowBytes);
    for (let t = 0; t < list.length; t++) this.listBytes.set(this.readInt8Row(list[t]), t * rowBytes);
    this.exact.clear();
    this.exact.addEncodedRows(this.listBytes.subarray(0, list.length * rowBytes), list.length);
    // The list is in row order, so the exact index's ties to its lower index are ties to the lower row.
    return this.exact.topK(query, k).map((r) => ({ index: list[r.index], score: r.score }));
  }

  /** Rows whose 4-bit score is within the margin of the k-th best, in row order (1 <= k < n). */
  private shortList(unit: Float32Array, k: number): number[] {
    const n = this.rows;
    const at = this.layout(this.capacityRows);
    this.reserveBytes(at.outAt + n * 4);
    const buffer = this.currentBuffer();
    const q16 = new Int16Array(buffer, at.q16At, this.paddedDim);
    q16.fill(0);
    let maxAbs = 0;
    for (let j = 0; j < this.dim; j++) maxAbs = Math.max(maxAbs, Math.abs(unit[j]));
    const levels = Math.min(32767, Math.floor((2 ** 31 - 1) / (15 * this.paddedDim)));
    const qStep = maxAbs / levels;
    let qSum = 0;
    for (let j = 0; j < this.dim; j++) {
      q16[j] = Math.max(-levels, Math.min(levels, Math.round(unit[j] / qStep)));
      qSum += q16[j];
    }
    const sums = new Int32Array(buffer, at.outAt, n);
    if (this.exports) this.exports.int4Dots(0, n, this.paddedDim, at.q16At, at.outAt);
    else int4DotsJs(this.packed(), n, this.paddedDim, q16, sums);
    // Score in query steps: step_i * sum_j q16_j * (nibble_ij - 8). |sum| <= 15 * paddedDim * levels < 2^31: no wrap.
    const offset = INT4_OFFSET * qSum;
    for (let i = 0; i < n; i++) sums[i] -= offset;
    const { steps, sigmas } = this;
    // In query steps, as the sums: row i stays when sums_i * step_i >= kth - Z * (sigma_i + max sigma) / qStep.
    const kth = kthLargestProduct(sums, steps, n, k);
    const z = MARGIN_SIGMAS / qStep;
    const base = kth - z * this.maxSigma;
    let list: number[] = [];
    for (let i = 0; i < n; i++) if (sums[i] * steps[i] + z * sigmas[i] >= base) list.push(i);
    if (list.length > MAX_SHORTLIST) {
      const cut = kthLargestProduct(sums, steps, n, MAX_SHORTLIST);
      list = list.filter((i) => sums[i] * steps[i] >= cut).slice(0, MAX_SHORTLIST);
    }
    return list;
  }

  private readInt8Row(index: number): Uint8Array {
    const bytes = this.readRow(index);
    if (bytes.length !== stage1RowBytes(this.dim)) throw corruptRow(`stage-1 row ${index} read back as ${bytes.length} bytes, not ${stage1RowBytes(this.dim)}`);
    return bytes;
  }

  /** After the codes: the int16 query, a score per row, then the packing kernel's staging rows, ratio table and maxima. */
  private layout(capacityRows: number): { q16At: number; outAt: number; stagingAt: number; ratiosAt: number; maxesAt: number; end: number } {
    const q16At = align16(capacityRows * this.rowBytes);
    const outAt = align16(q16At + this.paddedDim * 2);
    const stagingAt = align16(outAt + capacityRows * 4);
    const ratiosAt = align16(stagingAt + PACK_BATCH * stage1RowBytes(this.dim));
    const maxesAt = align16(ratiosAt + INT4_RATIOS.length * 4);
    return { q16At, outAt, stagingAt, ratiosAt, maxesAt, end: maxesAt + PACK_BATCH * 4 };
  }

  private currentBuffer(): ArrayBuffer {
    if (this.exports) this.buffer = this.exports.memory.buffer;
    return this.buffer;
  }

  /** The packed rows; re-read after every growth (growing wasm memory detaches old views). */
  private packed(): Uint8Array {
    return new Uint8Array(this.currentBuffer(), 0, this.capacityRows * this.rowBytes);
  }

  reserve(rows: number): void {
    if (rows <= this.capacityRows) return;
    const capacity = Math.max(rows, Math.ceil(this.capacityRows * 1.5), 64);
    this.reserveBytes(this.layout(capacity).end);
    const steps = new Float32Array(capacity);
    steps.set(this.steps.subarray(0, this.rows));
    this.steps = steps;
    const sigmas = new Float32Array(capacity);
    sigmas.set(this.sigmas.subarray(0, this.rows));
    this.sigmas = sigmas;
    this.capacityRows = capacity;
  }

  private reserveBytes(bytes: number): void {
    this.buffer = reserveKernelMemory(this.exports?.memory ?? null, this.buffer, bytes, 'the 4-bit gallery', 'Use a smaller gallery or a recognizer with shorter embeddings.');
  }

  private requireRow(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.rows) throw new AppError('invalid-argument', `row ${index} is not in the index (it has ${this.rows})`, 'Use an index below size.');
  }

  private requireDim(v: Float32Array, what: string): void {
    if (v.length !== this.dim) throw new AppError('invalid-argument', `${what} has ${v.length} values, the gallery ${this.dim}`, 'Use features from the same recognizer as the gallery.');
  }
}

function allRows(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

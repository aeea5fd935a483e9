/**
 * Stage 1 over int8 rows (src/engine/quant/int8Rows.ts): the same API as
 * CosineIndex at a quarter of the memory, so a million 1536-D faces (1.5 GB
 * of codes) fit under the 4 GiB wasm32 ceiling.
 *
 * Scoring: score_i = scale_i * sum_j q_j * code_ij with the unit query kept
 * as float32. Every score is the float32 dot product of the query with the
 * stored codes, so topK is exact for the codes (ties to the lower index);
 * it differs from the float32 CosineIndex only where quantising the gallery
 * (|error| <= scale / 2 per value) reorders rows whose cosines are that close.
 * Measured in Node (x64, 100,000 x 1536): this kernel 22 ms, an int16 query
 * with i32x4.dot_i16x8_s 10.5 ms, float32 CosineIndex 36 ms; 1,000,000 x 1536
 * topK 250 ms. The int16 query was not taken: it is a second, query-side
 * quantisation (top-k no longer that of the codes), and its i32 sums can
 * overflow past ~1100 dimensions at full int16 range.
 *
 * The codes live in the kernel instance's own memory (int8DotKernel.wat),
 * grown geometrically; the scales in a Float32Array. Without WebAssembly SIMD
 * (or with forceJs, or a dim that is not a multiple of 16) a JS loop adds the
 * products in the kernel's exact order, so both paths give identical scores.
 */
import { AppError } from '../core/errors.ts';
import { corruptRow, quantiseUnitRow, stage1RowBytes, STAGE1_ROW_HEADER_BYTES } from './quant/int8Rows.ts';
import { INT8_DOT_KERNEL_WASM_BASE64 } from './simd/int8DotKernel.generated.ts';
import { requireK, TopKHeap, type RankedIndex } from './stage1.ts';
import type { Stage1Index } from './stage1Index.ts';
import { unitEmbedding } from './vectors.ts';

type Int8DotsFn = (codes: number, n: number, dim: number, query: number, out: number) => void;

interface Int8Exports {
  readonly memory: WebAssembly.Memory;
  readonly int8Dots: Int8DotsFn;
}

const PAGE_BYTES = 65536;
const MAX_PAGES = 65536; // 4 GiB, the wasm32 ceiling
/** The SIMD kernel takes 16 codes per step. */
const SIMD_STEP = 16;

let cachedModule: WebAssembly.Module | null | undefined;

function int8Module(): WebAssembly.Module | null {
  if (cachedModule !== undefined) return cachedModule;
  try {
    // atob exists in every place the engine runs (page, worker, Node).
    const binary = atob(INT8_DOT_KERNEL_WASM_BASE64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    cachedModule = typeof WebAssembly !== 'undefined' && WebAssembly.validate(bytes) ? new WebAssembly.Module(bytes) : null;
  } catch {
    cachedModule = null;
  }
  return cachedModule;
}

/** Unit-normalised gallery embeddings as int8 codes plus a scale per row, in insertion order, with top-k search. */
export class Int8CosineIndex implements Stage1Index {
  readonly dim: number;
  /** True when topK runs the SIMD kernel (else the JS loop). */
  readonly simd: boolean;
  private readonly exports: Int8Exports | null;
  private buffer: ArrayBuffer;
  private scales = new Float32Array(0);
  private rows = 0;
  private capacityRows = 0;

  constructor(dim: number, options: { forceJs?: boolean } = {}) {
    if (!Number.isInteger(dim) || dim <= 0) throw new AppError('invalid-argument', `embedding size must be a positive integer, got ${dim}`, 'Check the recognizer output.');
    this.dim = dim;
    const module = options.forceJs || dim % SIMD_STEP !== 0 ? null : int8Module();
    if (module) {
      this.exports = new WebAssembly.Instance(module).exports as unknown as Int8Exports;
      this.buffer = this.exports.memory.buffer;
    } else {
      this.exports = null;
      this.buffer = new ArrayBuffer(PAGE_BYTES);
    }
    this.simd = this.exports !== null;
  }

  get size(): number {
    return this.rows;
  }

  /** Bytes the gallery takes: dim codes and a float32 scale per row (the same as its stored rows). */
  get byteLength(): number {
    return this.rows * stage1RowBytes(this.dim);
  }

  /** Appends embeddings (raw; normalised and quantised here). Validates all before adding any. */
  add(embeddings: readonly Float32Array[]): void {
    const units = embeddings.map((e, i) => {
      this.requireDim(e, `embedding ${i}`);
      return unitEmbedding(e, `embedding ${i}`);
    });
    this.ensureRows(this.rows + units.length);
    const codes = this.codes();
    for (const u of units) {
      this.scales[this.rows] = quantiseUnitRow(u, codes, this.rows * this.dim);
      this.rows++;
    }
  }

  /**
   * Appends `count` rows stored as encodeStage1Row wrote them (scale, then
   * codes), for fast start-up: no float work, one copy per row. Validates the
   * length and every scale before adding any.
   */
  addEncodedRows(bytes: Uint8Array, count: number): void {
    const rowBytes = stage1RowBytes(this.dim);
    if (!Number.isInteger(count) || count < 0) throw new AppError('invalid-argument', `row count must be a non-negative integer, got ${count}`, 'Pass the number of rows in the bytes.');
    if (bytes.length !== count * rowBytes) throw corruptRow(`${count} stage-1 rows of ${this.dim} values take ${count * rowBytes} bytes, got ${bytes.length}`);
    const scales = new Float32Array(count);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    for (let r = 0; r < count; r++) {
      const scale = view.getFloat32(r * rowBytes, true);
      if (!Number.isFinite(scale) || !(scale > 0)) throw corruptRow(`stage-1 row ${r} has scale ${scale}; a stored row's scale is finite and positive`);
      scales[r] = scale;
    }
    this.ensureRows(this.rows + count);
    const codes = new Uint8Array(this.currentBuffer(), 0, this.capacityRows * this.dim);
    for (let r = 0; r < count; r++) {
      const from = r * rowBytes + STAGE1_ROW_HEADER_BYTES;
      codes.set(bytes.subarray(from, from + this.dim), (this.rows + r) * this.dim);
    }
    this.scales.set(scales, this.rows);
    this.rows += count;
  }

  /** Removes rows (any order), keeping the order of the rest so tie-breaking by index stays stable. */
  removeRows(indices: readonly number[]): void {
    const drop = new Set(indices);
    const codes = this.codes();
    const dim = this.dim;
    let write = 0;
    for (let read = 0; read < this.rows; read++) {
      if (drop.has(read)) continue;
      if (write !== read) {
        codes.copyWithin(write * dim, read * dim, (read + 1) * dim);
        this.scales[write] = this.scales[read];
      }
      write++;
    }
    this.rows = write;
  }

  clear(): void {
    this.rows = 0;
  }

  /** A dequantised copy of row `index` (scale * code: unit length within the quantisation error). */
  row(index: number): Float32Array {
    if (!Number.isInteger(index) || index < 0 || index >= this.rows) throw new AppError('invalid-argument', `row ${index} is not in the index (it has ${this.rows})`, 'Use an index below size.');
    const codes = this.codes();
    const scale = this.scales[index];
    const out = new Float32Array(this.dim);
    for (let j = 0; j < this.dim; j++) out[j] = codes[index * this.dim + j] * scale;
    return out;
  }

  topK(query: Float32Array, k: number): RankedIndex[] {
    requireK(k);
    this.requireDim(query, 'query');
    const unit = unitEmbedding(query, 'query');
    const heap = new TopKHeap(Math.min(k, this.rows));
    if (this.rows === 0) return heap.sorted();
    // The query and the scores go after the reserved codes (16-byte aligned), so the kernel reads and writes one memory.
    const queryAt = align16(this.capacityRows * this.dim);
    const scoresAt = queryAt + this.dim * 4;
    this.reserveBytes(scoresAt + this.rows * 4);
    const buffer = this.currentBuffer();
    const scores = new Float32Array(buffer, scoresAt, this.rows);
    if (this.exports) {
      new Float32Array(buffer, queryAt, this.dim).set(unit);
      this.exports.int8Dots(0, this.rows, this.dim, queryAt, scoresAt);
    } else {
      int8DotsJs(new Int8Array(buffer, 0, this.rows * this.dim), this.rows, this.dim, unit, scores);
    }
    const scales = this.scales;
    for (let i = 0; i < this.rows; i++) scores[i] *= scales[i];
    heap.pushRange(scores, 0, this.rows, 0);
    return heap.sorted();
  }

  private currentBuffer(): ArrayBuffer {
    if (this.exports) this.buffer = this.exports.memory.buffer;
    return this.buffer;
  }

  /** The codes region as int8; re-read after every growth (growing wasm memory detaches old views). */
  private codes(): Int8Array {
    return new Int8Array(this.currentBuffer(), 0, this.capacityRows * this.dim);
  }

  private ensureRows(rows: number): void {
    if (rows <= this.capacityRows) return;
    const capacity = Math.max(rows, Math.ceil(this.capacityRows * 1.5), 64);
    // Room for the query and one score per row too, so the first topK after a load does not grow (copy) again.
    this.reserveBytes(align16(capacity * this.dim) + this.dim * 4 + capacity * 4);
    const scales = new Float32Array(capacity);
    scales.set(this.scales.subarray(0, this.rows));
    this.scales = scales;
    this.capacityRows = capacity;
  }

  private reserveBytes(bytes: number): void {
    const have = this.currentBuffer().byteLength;
    if (bytes <= have) return;
    // Grow geometrically so a gallery filled one face at a time copies O(log n) times.
    const wantPages = Math.min(MAX_PAGES, Math.max(Math.ceil(bytes / PAGE_BYTES), Math.ceil((have / PAGE_BYTES) * 1.5)));
    if (bytes > wantPages * PAGE_BYTES) {
      throw new AppError('invalid-argument', `the int8 gallery needs ${(bytes / 2 ** 30).toFixed(1)} GiB, over the 4 GiB limit`, 'Use a smaller gallery or a recognizer with shorter embeddings.');
    }
    try {
      if (this.exports) {
        this.exports.memory.grow(wantPages - have / PAGE_BYTES);
      } else {
        const grown = new ArrayBuffer(wantPages * PAGE_BYTES);
        new Uint8Array(grown).set(new Uint8Array(this.buffer));
        this.buffer = grown;
      }
    } catch (cause) {
      throw new AppError('internal', `could not allocate ${(bytes / 2 ** 20).toFixed(0)} MiB for the gallery`, 'Close other tabs or use a smaller gallery.', { cause });
    }
  }

  private requireDim(v: Float32Array, what: string): void {
    if (v.length !== this.dim) throw new AppError('invalid-argument', `${what} has ${v.length} values, the gallery ${this.dim}`, 'Use features from the same recognizer as the gallery.');
  }
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

const fround = Math.fround;

/**
 * out[i] = sum_j q[j] * codes[i * dim + j] in float32, added in the SIMD
 * kernel's order (int8DotKernel.wat): value j into slot j mod 16, then the
 * slots as ((s0..3 + s4..7) + (s8..11 + s12..15)) lane-wise and the lanes as
 * (l0 + l1) + (l2 + l3). code * q is exact in float64 (7 + 24 bits), so
 * fround of it is the kernel's f32 product.
 */
export function int8DotsJs(codes: Int8Array, n: number, dim: number, q: Float32Array, out: Float32Array): void {
  const s = new Float64Array(16);
  for (let i = 0; i < n; i++) {
    s.fill(0);
    const at = i * dim;
    for (let j = 0; j < dim; j++) {
      const slot = j & 15;
      s[slot] = fround(s[slot] + fround(q[j] * codes[at + j]));
    }
    const w0 = fround(fround(s[0] + s[4]) + fround(s[8] + s[12]));
    const w1 = fround(fround(s[1] + s[5]) + fround(s[9] + s[13]));
    const w2 = fround(fround(s[2] + s[6]) + fround(s[10] + s[14]));
    const w3 = fround(fround(s[3] + s[7]) + fround(s[11] + s[15]));
    out[i] = fround(w0 + w1) + fround(w2 + w3);
  }
}

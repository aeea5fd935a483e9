/**
 * Stage 1 over int8 rows (src/engine/quant/int8Rows.ts): the same API as
 * CosineIndex at a quarter of the memory, so a million 1536-D faces (1.5 GB
 * of codes) fit under the 4 GiB wasm32 ceiling.
 *
 * Scoring: score_i = scale_i * sum_j q_j * code_ij with the unit query kept
 * as float32. Every returned score is the float32 dot product of the query
 * with the stored codes, so topK is exact for the codes (ties to the lower
 * index); it differs from the float32 CosineIndex only where quantising the
 * gallery (|error| <= scale / 2 per value) reorders rows whose cosines are
 * that close.
 *
 * topK runs in two passes so that it streams the codes at int16 speed yet
 * stays exact. Pass 1 scores every row against the query quantised to int16
 * (int16Dots: exact i32 sums, about twice as fast as the float kernel); a
 * rigorous bound B on |approximate - exact| (see approximationBound) then
 * says which rows can still be in the exact top-k: only those whose
 * approximate score is >= (k-th best approximate score) - 2B. Pass 2 rescores
 * just those with the exact kernel (int8Dots) and selects the top k. Why
 * that is exact: k rows have approximate >= a_k, so exact >= a_k - B, so the
 * k-th best exact score is >= a_k - B; a row at or above it has approximate
 * >= a_k - 2B. Rows tied with the k-th are all candidates, and candidates go
 * to the heap in index order, so ties still go to the lower index.
 * Measured in Node 20 (x64, 2 shared cores, bench/stage1Int8.ts: k = 100,
 * clustered unit rows, medians of 20 queries; the machine's load moves these
 * by up to 2x): 100,000 x 1536 27 -> 8.5 ms, 1,000,000 x 1536 248 -> 78-112 ms
 * (pass 1 ~70 ms of it at 1M, the JS selection ~7 ms); pass 2 rescored 1-5
 * rows beyond k. The float32 CosineIndex takes 36 ms at 100,000 x 1536.
 *
 * The codes live in the kernel instance's own memory (int8DotKernel.wat),
 * grown geometrically; the scales in a Float32Array, and each row's sum of
 * |code| (the bound's per-row factor) in a Uint32Array: 8 bytes a row beside
 * the codes. Without WebAssembly SIMD (or with forceJs, or a dim that is not
 * a multiple of 16) JS loops do both passes: the integer sums are exact and
 * the float loop adds the products in the kernel's exact order, so both
 * paths give identical results.
 */
import { AppError } from '../core/errors.ts';
import { corruptRow, quantiseUnitRow, stage1RowBytes, STAGE1_ROW_HEADER_BYTES } from './quant/int8Rows.ts';
import { INT8_DOT_KERNEL_WASM_BASE64 } from './simd/int8DotKernel.generated.ts';
import { kernelModule } from './simd/kernelModule.ts';
import { PAGE_BYTES, reserveKernelMemory } from './simd/kernelMemory.ts';
import { requireK, TopKHeap, type RankedIndex } from './stage1.ts';
import type { Stage1Index } from './stage1Index.ts';
import { unitEmbedding } from './vectors.ts';

type Int8DotsFn = (codes: number, n: number, dim: number, query: number, out: number) => void;

interface Int8Exports {
  readonly memory: WebAssembly.Memory;
  readonly int8Dots: Int8DotsFn;
  readonly int16Dots: Int8DotsFn;
  readonly int8AbsSums: (codes: number, n: number, dim: number, out: number) => void;
}

/** The SIMD kernel takes 16 codes per step. */
const SIMD_STEP = 16;
/** Below this many int16 levels the first pass would rule out too little to pay for itself (only for absurd dims, > 1e6). */
const MIN_QUERY_LEVELS = 64;
/** float32 unit roundoff. */
const U32 = 2 ** -24;

/**
 * The largest |int16 query value| for `dim`: Q = min(32767, floor((2^31 - 1) / (128 * dim))).
 * A stored code is in [-128, 127], so |sum_j q_j * code_j| and every partial
 * sum of it is <= 128 * dim * Q <= 2^31 - 1: the kernel's i32 sums never wrap
 * (and JS's are exact integers too). 1536-D: Q = 10922, 512-D: 32767.
 */
export function int16QueryLevels(dim: number): number {
  return Math.min(32767, Math.floor((2 ** 31 - 1) / (128 * dim)));
}

/**
 * Rounds the unit query to int16 codes q16_j = round(u_j / step), step = max|u| / levels,
 * into `out`; returns step. Each |u_j - step * q16_j| <= step * (0.5 + 2^-30): u_j / step is
 * rounded once in float64 (relative 2^-53 of a value <= levels + 1 < 2^15).
 */
export function quantiseQueryInt16(unit: Float32Array, levels: number, out: Int16Array): number {
  let maxAbs = 0;
  for (let j = 0; j < unit.length; j++) maxAbs = Math.max(maxAbs, Math.abs(unit[j]));
  const step = maxAbs / levels;
  for (let j = 0; j < unit.length; j++) {
    // |u_j| / step can exceed levels only by float64 rounding (far below 0.5), so the clamp never changes a value by more than that.
    out[j] = Math.max(-levels, Math.min(levels, Math.round(unit[j] / step)));
  }
  return step;
}

/**
 * B, in units of the query step, such that |P_i - E_i / step| <= B for every row, where
 * P_i = fl64(scale_i * I_i) is the first pass's score (I_i = sum_j q16_j * code_ij, an exact
 * integer) and E_i the exact score topK returns (fl32(scale_i * K_i), K_i the float32 kernel
 * sum in its fixed order). With u the float32 unit query, m = max|u_j|, W = max_i scale_i * L_i
 * where L_i = sum_j |code_ij|, and R_i = scale_i * sum_j u_j * code_ij (real arithmetic):
 *
 *  - query rounding: |step * scale_i * I_i - R_i| = scale_i * |sum_j code_ij * (step * q16_j - u_j)|
 *    <= scale_i * L_i * step * (0.5 + 2^-30)  (quantiseQueryInt16);
 *  - float32 rounding of the exact score: each product fl32(u_j * code_ij) is rounded once and then
 *    passes through at most ceil(dim / 16) adds in its slot, 2 lane-wise and 2 horizontal adds,
 *    so |K_i - sum_j u_j code_ij| <= gamma(ceil(dim / 16) + 5) * sum_j |u_j code_ij| (Higham's
 *    gamma(n) = n u / (1 - n u), u = 2^-24), and the final fl32(scale_i * K_i) makes it
 *    |E_i - R_i| <= gamma(ceil(dim / 16) + 6) * m * scale_i * L_i;
 *  - float64 rounding: P_i's product, step = m / levels, m / step and the threshold subtraction each
 *    err by <= 2^-52 relative of values <= W * (levels + 1) < W * 2^15, far inside the 2^-20 * W slack.
 *
 * So B = W * (0.5 + 2^-30 + gamma(ceil(dim / 16) + 6) * m / step + 2^-20). For 1536-D, gamma * m / step =
 * 6.1e-6 * 10922 = 0.066, so B ~ 0.57 W steps; with typical rows (W ~ sum|u| ~ 31) that is ~1.5e-4 in cosine.
 */
function approximationBound(dim: number, maxWeight: number, maxAbs: number, step: number): number {
  const n = Math.ceil(dim / SIMD_STEP) + 6;
  const gamma = (n * U32) / (1 - n * U32);
  return maxWeight * (0.5 + 2 ** -30 + (gamma * maxAbs) / step + 2 ** -20);
}

/** Unit-normalised gallery embeddings as int8 codes plus a scale per row, in insertion order, with top-k search. */
export class Int8CosineIndex implements Stage1Index {
  readonly dim: number;
  /** True when topK runs the SIMD kernel (else the JS loop). */
  readonly simd: boolean;
  private readonly exports: Int8Exports | null;
  private buffer: ArrayBuffer;
  private scales = new Float32Array(0);
  /** sum_j |code_ij| per row: with the scale, the row's factor in the first pass's error bound. */
  private absSums = new Uint32Array(0);
  /** max_i scale_i * absSums_i over the rows held (exact in float64: 24-bit scale times < 2^18); the bound's W. */
  private maxWeight = 0;
  private rows = 0;
  private capacityRows = 0;

  constructor(dim: number, options: { forceJs?: boolean } = {}) {
    if (!Number.isInteger(dim) || dim <= 0) throw new AppError('invalid-argument', `embedding size must be a positive integer, got ${dim}`, 'Check the recognizer output.');
    this.dim = dim;
    const module = options.forceJs || dim % SIMD_STEP !== 0 ? null : kernelModule(INT8_DOT_KERNEL_WASM_BASE64);
    if (module) {
      this.exports = new WebAssembly.Instance(module).exports as unknown as Int8Exports;
      this.buffer = this.exports.memory.buffer;
    } else {
      this.exports = null;
      this.buffer = new ArrayBuffer(PAGE_BYTES);
    }
    this.simd = this.exports !== null;
  }

  get encodedRowBytes(): number {
    return stage1RowBytes(this.dim);
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
    const first = this.rows;
    this.reserve(this.rows + units.length);
    const codes = this.codes();
    for (const u of units) {
      this.scales[this.rows] = quantiseUnitRow(u, codes, this.rows * this.dim);
      this.rows++;
    }
    this.noteAbsSums(first, this.rows - first);
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
    this.reserve(this.rows + count);
    const codes = new Uint8Array(this.currentBuffer(), 0, this.capacityRows * this.dim);
    for (let r = 0; r < count; r++) {
      const from = r * rowBytes + STAGE1_ROW_HEADER_BYTES;
      codes.set(bytes.subarray(from, from + this.dim), (this.rows + r) * this.dim);
    }
    this.scales.set(scales, this.rows);
    const first = this.rows;
    this.rows += count;
    this.noteAbsSums(first, count);
  }

  /** Removes rows (any order), keeping the order of the rest so tie-breaking by index stays stable. */
  removeRows(indices: readonly number[]): void {
    const drop = new Set(indices);
    const codes = this.codes();
    const dim = this.dim;
    let write = 0;
    let maxWeight = 0;
    for (let read = 0; read < this.rows; read++) {
      if (drop.has(read)) continue;
      if (write !== read) {
        codes.copyWithin(write * dim, read * dim, (read + 1) * dim);
        this.scales[write] = this.scales[read];
        this.absSums[write] = this.absSums[read];
      }
      // Recomputed so that removing the widest row tightens the bound again.
      maxWeight = Math.max(maxWeight, this.scales[write] * this.absSums[write]);
      write++;
    }
    this.rows = write;
    this.maxWeight = maxWeight;
  }

  clear(): void {
    this.rows = 0;
    this.maxWeight = 0;
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
    const n = this.rows;
    const heap = new TopKHeap(Math.min(k, n));
    if (n === 0) return heap.sorted();
    const dim = this.dim;
    const at = this.layout(this.capacityRows);
    this.reserveBytes(at.outAt + n * 4);
    const buffer = this.currentBuffer();
    new Float32Array(buffer, at.queryAt, dim).set(unit);
    // One region, two views: pass 1 writes i32 sums there, pass 2 overwrites a candidate run's sums with its float scores.
    const scores = new Float32Array(buffer, at.outAt, n);
    const sums = new Int32Array(buffer, at.outAt, n);
    const levels = int16QueryLevels(dim);
    if (k >= n || levels < MIN_QUERY_LEVELS) {
      // Every row is in the answer (or no int16 step is safe): one exact pass.
      this.exactScores(unit, 0, n, at);
      const scales = this.scales;
      for (let i = 0; i < n; i++) scores[i] *= scales[i];
      heap.pushRange(scores, 0, n, 0);
      return heap.sorted();
    }

    const q16 = new Int16Array(buffer, at.q16At, dim);
    const step = quantiseQueryInt16(unit, levels, q16);
    if (this.exports) this.exports.int16Dots(0, n, dim, at.q16At, at.outAt);
    else int16DotsJs(new Int8Array(buffer, 0, n * dim), n, dim, q16, sums);

    let maxAbs = 0;
    for (let j = 0; j < dim; j++) maxAbs = Math.max(maxAbs, Math.abs(unit[j]));
    const scales = this.scales;
    const threshold = kthLargestProduct(sums, scales, n, k) - 2 * approximationBound(dim, this.maxWeight, maxAbs, step);
    // Rescore each run of consecutive candidates with one exact call, in index order (ties to the lower index).
    let runStart = -1;
    for (let i = 0; i <= n; i++) {
      if (i < n && sums[i] * scales[i] >= threshold) {
        if (runStart < 0) runStart = i;
        continue;
      }
      if (runStart < 0) continue;
      this.exactScores(unit, runStart, i - runStart, at);
      for (let r = runStart; r < i; r++) scores[r] *= scales[r];
      heap.pushRange(scores, runStart, i - runStart, runStart);
      runStart = -1;
    }
    return heap.sorted();
  }

  /** Float32 kernel sums (not yet scaled) of rows [first, first + count) into the scores region at their own rows. */
  private exactScores(unit: Float32Array, first: number, count: number, at: Layout): void {
    const dim = this.dim;
    if (this.exports) {
      this.exports.int8Dots(first * dim, count, dim, at.queryAt, at.outAt + first * 4);
    } else {
      const buffer = this.currentBuffer();
      int8DotsJs(new Int8Array(buffer, first * dim, count * dim), count, dim, unit, new Float32Array(buffer, at.outAt + first * 4, count));
    }
  }

  /** Fills absSums for rows [first, first + count) and raises maxWeight. */
  private noteAbsSums(first: number, count: number): void {
    if (count === 0) return;
    const dim = this.dim;
    const sums = this.absSums;
    if (this.exports) {
      // The scores region after the reserved codes is free between queries.
      const outAt = this.layout(this.capacityRows).outAt;
      this.exports.int8AbsSums(first * dim, count, dim, outAt);
      sums.set(new Uint32Array(this.currentBuffer(), outAt, count), first);
    } else {
      const codes = this.codes();
      for (let r = first; r < first + count; r++) {
        let s = 0;
        for (let j = r * dim; j < (r + 1) * dim; j++) s += Math.abs(codes[j]);
        sums[r] = s;
      }
    }
    let maxWeight = this.maxWeight;
    for (let r = first; r < first + count; r++) maxWeight = Math.max(maxWeight, this.scales[r] * sums[r]);
    this.maxWeight = maxWeight;
  }

  /** Where topK puts the float query, the int16 query and the per-row sums/scores: after the reserved codes, each 16-byte aligned. */
  private layout(capacityRows: number): Layout {
    const queryAt = align16(capacityRows * this.dim);
    const q16At = align16(queryAt + this.dim * 4);
    return { queryAt, q16At, outAt: align16(q16At + this.dim * 2) };
  }

  private currentBuffer(): ArrayBuffer {
    if (this.exports) this.buffer = this.exports.memory.buffer;
    return this.buffer;
  }

  /** The codes region as int8; re-read after every growth (growing wasm memory detaches old views). */
  private codes(): Int8Array {
    return new Int8Array(this.currentBuffer(), 0, this.capacityRows * this.dim);
  }

  /** Makes room for `rows` rows in all (growing by at least half, so appends one at a time stay amortised). */
  reserve(rows: number): void {
    if (rows <= this.capacityRows) return;
    const capacity = Math.max(rows, Math.ceil(this.capacityRows * 1.5), 64);
    // Room for the queries and one score per row too, so the first topK after a load does not grow (copy) again.
    this.reserveBytes(this.layout(capacity).outAt + capacity * 4);
    const scales = new Float32Array(capacity);
    scales.set(this.scales.subarray(0, this.rows));
    this.scales = scales;
    const absSums = new Uint32Array(capacity);
    absSums.set(this.absSums.subarray(0, this.rows));
    this.absSums = absSums;
    this.capacityRows = capacity;
  }

  private reserveBytes(bytes: number): void {
    this.buffer = reserveKernelMemory(this.exports?.memory ?? null, this.buffer, bytes, 'the int8 gallery', 'Use a smaller gallery or a recognizer with shorter embeddings.');
  }

  private requireDim(v: Float32Array, what: string): void {
    if (v.length !== this.dim) throw new AppError('invalid-argument', `${what} has ${v.length} values, the gallery ${this.dim}`, 'Use features from the same recognizer as the gallery.');
  }
}

interface Layout {
  readonly queryAt: number;
  readonly q16At: number;
  readonly outAt: number;
}

function align16(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

/**
 * The k-th largest of sums[i] * scales[i] (float64) over i < n, 1 <= k < n, with a
 * min-heap of the k best: after the first k rows most rows fail one comparison.
 */
export function kthLargestProduct(sums: Int32Array, scales: Float32Array, n: number, k: number): number {
  const heap = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    // Sift up.
    const v = sums[i] * scales[i];
    let c = i;
    while (c > 0) {
      const p = (c - 1) >> 1;
      if (heap[p] <= v) break;
      heap[c] = heap[p];
      c = p;
    }
    heap[c] = v;
  }
  for (let i = k; i < n; i++) {
    const v = sums[i] * scales[i];
    if (!(v > heap[0])) continue;
    // Replace the smallest and sift down.
    let c = 0;
    for (;;) {
      const l = 2 * c + 1;
      if (l >= k) break;
      const r = l + 1;
      const m = r < k && heap[r] < heap[l] ? r : l;
      if (heap[m] >= v) break;
      heap[c] = heap[m];
      c = m;
    }
    heap[c] = v;
  }
  return heap[0];
}

/** out[i] = sum_j q16[j] * codes[i * dim + j]: int16Dots in JS. Exact: the sums stay below 2^31 (int16QueryLevels), far inside float64's 2^53. */
function int16DotsJs(codes: Int8Array, n: number, dim: number, q16: Int16Array, out: Int32Array): void {
  for (let i = 0; i < n; i++) {
    const at = i * dim;
    let s = 0;
    for (let j = 0; j < dim; j++) s += q16[j] * codes[at + j];
    out[i] = s;
  }
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

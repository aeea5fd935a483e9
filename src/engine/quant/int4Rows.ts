/**
 * Stage-1 rows at four bits a value, made from the int8 rows the storage
 * keeps (int8Rows.ts): what a million-face gallery holds in memory so that it
 * fits a tab (768 bytes a 1536-D row instead of 1540). They only choose a
 * short list; its scores come from the int8 rows, read from disk
 * (stage1Int4.ts).
 *
 * A row's int8 codes c (|c| <= 128, scale s8) become n = round(7 c / m) + 8
 * with m = max |c|, a nibble in [1, 15], standing for the value
 * s4 * (n - 8) with s4 = s8 * m / 7. Rounding moves each value by at most
 * s4 / 2 (plus float32 rounding of 7 / m), so the score of a unit query moves
 * by at most about s4 / 2 * sum |u_j|, and by about s4 / sqrt(12) when the
 * errors are independent.
 *
 * Layout (int4RowBytes(dim) bytes a row): blocks of 32 values in 16 bytes,
 * value t of a block in the low nibble of byte t and value 16 + t in its high
 * nibble, so the SIMD kernel (int4DotKernel.wat) unpacks a block with one AND
 * and one shift into value order. A dim that is not a multiple of 32 is
 * padded with nibbles of 8 (the value 0).
 */

export const INT4_LEVELS = 7;
export const INT4_OFFSET = 8;
const BLOCK_VALUES = 32;

/** Values a row holds after padding to whole blocks. */
export function int4PaddedDim(dim: number): number {
  return Math.ceil(dim / BLOCK_VALUES) * BLOCK_VALUES;
}

export function int4RowBytes(dim: number): number {
  return int4PaddedDim(dim) / 2;
}

/**
 * ratios[m] = fround(7 / m): the nibble of code c in a row whose max |code| is m is nearest(fround(c * ratios[m])) + 8,
 * ties to even, in the SIMD kernel (int4DotKernel.wat, which reads this table) and in packInt4Row alike.
 */
export const INT4_RATIOS = Float32Array.from({ length: 129 }, (_, m) => (m === 0 ? 0 : INT4_LEVELS / m));

/** Ties to even, as f32x4.nearest. */
function nearestEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Per max |code| m: the nibble of each code (indexed by code + 128). */
const nibbleTables: (Uint8Array | undefined)[] = [];

function nibbleTable(m: number): Uint8Array {
  let t = nibbleTables[m];
  if (!t) {
    t = new Uint8Array(256);
    for (let c = -128; c < 128; c++) t[c + 128] = Math.max(0, Math.min(15, nearestEven(Math.fround(c * INT4_RATIOS[m])) + INT4_OFFSET));
    nibbleTables[m] = t;
  }
  return t;
}

/**
 * Packs `dim` int8 codes from `codes[at...]` into int4RowBytes(dim) bytes of `out` from `outAt`; returns m, the row's
 * max |code|: the 4-bit step is the int8 scale times m / 7. The JS twin of the kernel's packInt4Rows (same bytes).
 */
export function packInt4Row(codes: Int8Array, at: number, dim: number, out: Uint8Array, outAt: number): number {
  let m = 0;
  for (let j = 0; j < dim; j++) {
    const c = codes[at + j];
    const a = c < 0 ? -c : c;
    if (a > m) m = a;
  }
  const nibbles = nibbleTable(m);
  const bytes = int4RowBytes(dim);
  for (let b = 0; b < bytes; b++) {
    const jLo = (b >> 4) * BLOCK_VALUES + (b & 15);
    const lo = jLo < dim ? codes[at + jLo] + 128 : 128;
    const hi = jLo + 16 < dim ? codes[at + jLo + 16] + 128 : 128;
    out[outAt + b] = nibbles[lo] | (nibbles[hi] << 4);
  }
  return m;
}

/** out[i] = sum_j q16[j] * nibble_ij over the padded dim: the kernel's int4Dots in JS (exact integers). */
export function int4DotsJs(packed: Uint8Array, n: number, paddedDim: number, q16: Int16Array, out: Int32Array): void {
  const rowBytes = paddedDim / 2;
  for (let i = 0; i < n; i++) {
    const at = i * rowBytes;
    let s = 0;
    for (let b = 0; b < rowBytes; b++) {
      const byte = packed[at + b];
      const j = (b >> 4) * BLOCK_VALUES + (b & 15);
      s += q16[j] * (byte & 15) + q16[j + 16] * (byte >> 4);
    }
    out[i] = s;
  }
}

/**
 * Emits a WebAssembly SIMD module of blocked dot-product kernels:
 *   out[i * ldo + j] = sum_c a[i * c + c'] * b[j * c + c']
 * for rows of `c` floats (c a multiple of 4) at byte offsets in the module's
 * own memory. Stage 2 is dominated by these dot products (k = 100 pairs of
 * 49 x 49 x 512 is 123 M multiply-adds per query); plain JS reaches about
 * 1.7 GMAC/s here, SIMD with register blocking about 4x that.
 *
 * Each kernel computes an RB x CB block of outputs per inner loop so every
 * loaded vector is reused RB or CB times. Rows past the end are clamped to
 * the last row (the block recomputes and rewrites a valid output), which keeps
 * one code path with no tail loops; the waste is < 7% at 49 rows.
 */
import { ValType, encodeName, encodeSection, encodeVector, op, uleb128 } from './wasmEncoding.ts';

export interface DotKernelShape {
  readonly name: string;
  readonly rowBlock: number;
  readonly colBlock: number;
}

/**
 * 2x4 measured fastest for 49-row grids (8 accumulators + 4 loaded vectors
 * fit in the 16 x64 SIMD registers); 1x8 serves matrix-vector products
 * (stage 1 with one query), where the matrix stream is the bottleneck.
 */
export const DOT_KERNELS: readonly DotKernelShape[] = [
  { name: 'dots2x4', rowBlock: 2, colBlock: 4 },
  { name: 'dots1x8', rowBlock: 1, colBlock: 8 },
];

const PARAM = { a: 0, na: 1, b: 2, nb: 3, c: 4, out: 5, ldo: 6 } as const;
const PARAM_COUNT = 7;

function emitKernelBody(rowBlock: number, colBlock: number): number[] {
  // i32 locals after the params: k (byte offset in a row), rowBytes, i, j, then per block row/col: index and address.
  const k = PARAM_COUNT;
  const rowBytes = k + 1;
  const i = k + 2;
  const j = k + 3;
  let next = k + 4;
  const rowIndex: number[] = [];
  const rowAddr: number[] = [];
  const colIndex: number[] = [];
  const colAddr: number[] = [];
  for (let r = 0; r < rowBlock; r++) rowIndex.push(next++), rowAddr.push(next++);
  for (let s = 0; s < colBlock; s++) colIndex.push(next++), colAddr.push(next++);
  const i32LocalCount = next - PARAM_COUNT;
  const acc = (r: number, s: number) => next + r * colBlock + s;
  const loadedCol = (s: number) => next + rowBlock * colBlock + s;
  const loadedRow = next + rowBlock * colBlock + colBlock;
  const v128LocalCount = rowBlock * colBlock + colBlock + 1;

  const code: number[] = [];
  const emit = (...parts: readonly (readonly number[])[]) => {
    for (const p of parts) code.push(...p);
  };
  // min(x, limit - 1) via select, for the clamped block rows/columns.
  const clampedIndex = (base: number, offset: number, count: number) => {
    const x = [...op.localGet(base), ...op.i32Const(offset), ...op.i32Add];
    const last = [...op.localGet(count), ...op.i32Const(1), ...op.i32Sub];
    return [...x, ...last, ...x, ...last, ...op.i32LtS, ...op.select];
  };

  emit(op.localGet(PARAM.c), op.i32Const(2), op.i32Shl, op.localSet(rowBytes));
  emit(op.i32Const(0), op.localSet(i));
  emit(op.loopVoid);
  for (let r = 0; r < rowBlock; r++) {
    emit(clampedIndex(i, r, PARAM.na), op.localTee(rowIndex[r]), op.localGet(rowBytes), op.i32Mul, op.localGet(PARAM.a), op.i32Add, op.localSet(rowAddr[r]));
  }
  emit(op.i32Const(0), op.localSet(j));
  emit(op.loopVoid);
  for (let s = 0; s < colBlock; s++) {
    emit(clampedIndex(j, s, PARAM.nb), op.localTee(colIndex[s]), op.localGet(rowBytes), op.i32Mul, op.localGet(PARAM.b), op.i32Add, op.localSet(colAddr[s]));
  }
  for (let r = 0; r < rowBlock; r++) for (let s = 0; s < colBlock; s++) emit(op.v128Zero, op.localSet(acc(r, s)));
  emit(op.i32Const(0), op.localSet(k));
  emit(op.loopVoid);
  for (let s = 0; s < colBlock; s++) emit(op.localGet(colAddr[s]), op.localGet(k), op.i32Add, op.v128Load, op.localSet(loadedCol(s)));
  for (let r = 0; r < rowBlock; r++) {
    emit(op.localGet(rowAddr[r]), op.localGet(k), op.i32Add, op.v128Load, op.localSet(loadedRow));
    for (let s = 0; s < colBlock; s++) {
      emit(op.localGet(loadedRow), op.localGet(loadedCol(s)), op.f32x4Mul, op.localGet(acc(r, s)), op.f32x4Add, op.localSet(acc(r, s)));
    }
  }
  emit(op.localGet(k), op.i32Const(16), op.i32Add, op.localTee(k), op.localGet(rowBytes), op.i32LtS, op.brIf(0));
  emit(op.end);
  for (let r = 0; r < rowBlock; r++) {
    for (let s = 0; s < colBlock; s++) {
      const a = acc(r, s);
      emit(op.localGet(rowIndex[r]), op.localGet(PARAM.ldo), op.i32Mul, op.localGet(colIndex[s]), op.i32Add, op.i32Const(2), op.i32Shl, op.localGet(PARAM.out), op.i32Add);
      emit(op.localGet(a), op.f32x4ExtractLane(0), op.localGet(a), op.f32x4ExtractLane(1), op.f32Add);
      emit(op.localGet(a), op.f32x4ExtractLane(2), op.localGet(a), op.f32x4ExtractLane(3), op.f32Add, op.f32Add, op.f32Store);
    }
  }
  emit(op.localGet(j), op.i32Const(colBlock), op.i32Add, op.localTee(j), op.localGet(PARAM.nb), op.i32LtS, op.brIf(0));
  emit(op.end);
  emit(op.localGet(i), op.i32Const(rowBlock), op.i32Add, op.localTee(i), op.localGet(PARAM.na), op.i32LtS, op.brIf(0));
  emit(op.end);

  const locals = encodeVector([
    [...uleb128(i32LocalCount), ValType.I32],
    [...uleb128(v128LocalCount), ValType.V128],
  ]);
  return [...locals, ...code, ...op.end];
}

/** The module's bytes: one function type, the kernels above, and an exported growable memory. */
export function buildDotKernelModule(): Uint8Array<ArrayBuffer> {
  const kernelType = [0x60, ...encodeVector(new Array(PARAM_COUNT).fill([ValType.I32])), 0];
  const bodies = DOT_KERNELS.map((s) => emitKernelBody(s.rowBlock, s.colBlock));
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...encodeSection(1, encodeVector([kernelType])),
    ...encodeSection(3, encodeVector(DOT_KERNELS.map(() => [0]))),
    ...encodeSection(5, encodeVector([[0x00, ...uleb128(1)]])),
    ...encodeSection(7, encodeVector([...DOT_KERNELS.map((s, idx) => [...encodeName(s.name), 0x00, idx]), [...encodeName('memory'), 0x02, 0]])),
    ...encodeSection(10, encodeVector(bodies.map((b) => [...uleb128(b.length), ...b]))),
  ];
  return new Uint8Array(bytes);
}

/**
 * The few pieces of the WebAssembly binary format needed to emit a small
 * module at run time. We emit bytes instead of shipping a .wasm file so the
 * engine stays plain TypeScript that loads the same way in Node tests, a page
 * and a Worker, with no bundler asset handling or async fetch.
 */

export function uleb128(value: number): number[] {
  const out: number[] = [];
  let n = value >>> 0;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

export function sleb128(value: number): number[] {
  const out: number[] = [];
  let n = value | 0;
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    const done = (n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0);
    out.push(done ? byte : byte | 0x80);
    if (done) return out;
  }
}

export const enum ValType {
  I32 = 0x7f,
  V128 = 0x7b,
}

export function encodeName(name: string): number[] {
  return [...uleb128(name.length), ...Array.from(name, (ch) => ch.charCodeAt(0))];
}

export function encodeVector(items: readonly (readonly number[])[]): number[] {
  return [...uleb128(items.length), ...items.flat()];
}

export function encodeSection(id: number, body: readonly number[]): number[] {
  return [id, ...uleb128(body.length), ...body];
}

/** Instruction builders; each returns the encoded bytes. */
export const op = {
  localGet: (i: number) => [0x20, ...uleb128(i)],
  localSet: (i: number) => [0x21, ...uleb128(i)],
  localTee: (i: number) => [0x22, ...uleb128(i)],
  i32Const: (n: number) => [0x41, ...sleb128(n)],
  i32Add: [0x6a],
  i32Sub: [0x6b],
  i32Mul: [0x6c],
  i32LtS: [0x48],
  i32Shl: [0x74],
  select: [0x1b],
  loopVoid: [0x03, 0x40],
  brIf: (depth: number) => [0x0d, ...uleb128(depth)],
  end: [0x0b],
  f32Add: [0x92],
  /** f32.store with 4-byte alignment, offset 0. */
  f32Store: [0x38, 2, 0],
  /** v128.load; the alignment hint is 4 bytes since rows are only float-aligned. */
  v128Load: [0xfd, ...uleb128(0x00), 2, 0],
  v128Zero: [0xfd, ...uleb128(0x0c), ...new Array<number>(16).fill(0)],
  f32x4Add: [0xfd, ...uleb128(0xe4)],
  f32x4Mul: [0xfd, ...uleb128(0xe6)],
  f32x4ExtractLane: (lane: number) => [0xfd, ...uleb128(0x1f), lane],
} as const;

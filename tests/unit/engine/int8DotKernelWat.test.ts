/**
 * The committed int8 kernel binary (src/engine/simd/int8DotKernel.generated.ts)
 * is what wabt makes of int8DotKernel.wat today, and the module has the shape
 * stage1Int8.ts relies on. Its scores are checked against float64 in
 * stage1Int8.test.ts; here, one hand-worked product.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { INT8_DOT_KERNEL_WASM_BASE64 } from '../../../src/engine/simd/int8DotKernel.generated.ts';
import { WAT_SOURCES, assembleWat, generatedModuleText } from '../../../scripts/assembleWat.ts';

const committedBytes = new Uint8Array(Buffer.from(INT8_DOT_KERNEL_WASM_BASE64, 'base64'));

describe('int8DotKernel.wat and its generated module', () => {
  it('the committed bytes are exactly what wabt assembles from the .wat', async () => {
    const source = WAT_SOURCES.find((s) => s.exportName === 'INT8_DOT_KERNEL_WASM_BASE64');
    expect(source).toBeDefined();
    if (!source) return;
    const assembled = await assembleWat(source.wat, readFileSync(source.wat, 'utf8'));
    expect(Buffer.compare(Buffer.from(assembled), Buffer.from(committedBytes)), 'run `npx tsx scripts/assembleWat.ts` and commit both files').toBe(0);
    expect(readFileSync(source.generated, 'utf8')).toBe(await generatedModuleText(source));
  });

  it('exports int8Dots and int16Dots with five i32 parameters, int8AbsSums with four, and a growable memory', () => {
    const module = new WebAssembly.Module(committedBytes);
    expect(
      WebAssembly.Module.exports(module)
        .map((e) => `${e.name}:${e.kind}`)
        .sort(),
    ).toEqual(['int16Dots:function', 'int8AbsSums:function', 'int8Dots:function', 'memory:memory']);
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    const exports = new WebAssembly.Instance(module).exports;
    const arity = (name: string) => {
      const fn = exports[name];
      return typeof fn === 'function' ? fn.length : -1;
    };
    expect([arity('int8Dots'), arity('int16Dots'), arity('int8AbsSums')]).toEqual([5, 5, 4]);
  });

  it('a hand-worked product: two rows of 16 codes (extremes -127 and 127, negative codes) against a float query', () => {
    const exports = new WebAssembly.Instance(new WebAssembly.Module(committedBytes)).exports;
    const memory = exports.memory;
    const int8Dots = exports.int8Dots;
    if (!(memory instanceof WebAssembly.Memory) || typeof int8Dots !== 'function') throw new Error('unexpected exports');
    const codes = new Int8Array(memory.buffer, 0, 32);
    // Row 0: code j = j - 8 (so -8..7); row 1: alternating 127, -127.
    for (let j = 0; j < 16; j++) {
      codes[j] = j - 8;
      codes[16 + j] = j % 2 === 0 ? 127 : -127;
    }
    const q = new Float32Array(memory.buffer, 64, 16);
    q.set(Array.from({ length: 16 }, (_, j) => (j < 8 ? 1 : 0.5)));
    const out = new Float32Array(memory.buffer, 128, 3);
    out[2] = 42;
    int8Dots(0, 2, 16, 64, 128);
    // Row 0: sum_{j<8} (j - 8) + 0.5 * sum_{j>=8} (j - 8) = -36 + 0.5 * 28 = -22.
    // Row 1: each pair (127, -127) cancels: 0.
    expect(Array.from(out)).toEqual([-22, 0, 42]);
  });

  it('int16Dots: exact i32 sums at the edge of its range (codes -128 and 127 against +-Q over 1536 values), and int8AbsSums counts -128 as 128', () => {
    const exports = new WebAssembly.Instance(new WebAssembly.Module(committedBytes)).exports;
    const { memory, int16Dots, int8AbsSums } = exports;
    if (!(memory instanceof WebAssembly.Memory) || typeof int16Dots !== 'function' || typeof int8AbsSums !== 'function') throw new Error('unexpected exports');
    const dim = 1536;
    // stage1Int8.ts's bound: |q| <= floor((2^31 - 1) / (128 * dim)), so 128 * dim * Q fits an i32.
    const levels = Math.floor((2 ** 31 - 1) / (128 * dim));
    memory.grow(1);
    const codes = new Int8Array(memory.buffer, 0, 3 * dim);
    const query = new Int16Array(memory.buffer, 3 * dim, dim);
    for (let j = 0; j < dim; j++) {
      codes[j] = -128; // row 0: the most negative sum
      codes[dim + j] = 127; // row 1: the most positive
      codes[2 * dim + j] = (j % 7) - 3; // row 2: mixed signs
      query[j] = levels;
    }
    const out = new Int32Array(memory.buffer, 3 * dim + 2 * dim, 4);
    out[3] = 42;
    int16Dots(0, 3, dim, 3 * dim, 3 * dim + 2 * dim);
    let mixed = 0;
    for (let j = 0; j < dim; j++) mixed += ((j % 7) - 3) * levels;
    expect(Array.from(out)).toEqual([-128 * dim * levels, 127 * dim * levels, mixed, 42]);
    expect(-128 * dim * levels).toBeGreaterThanOrEqual(-(2 ** 31));

    const sums = new Uint32Array(memory.buffer, 8 * dim, 4);
    sums[3] = 7;
    int8AbsSums(0, 3, dim, 8 * dim);
    let mixedAbs = 0;
    for (let j = 0; j < dim; j++) mixedAbs += Math.abs((j % 7) - 3);
    expect(Array.from(sums)).toEqual([128 * dim, 127 * dim, mixedAbs, 7]);
  });
});

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

  it('exports int8Dots with five i32 parameters and a growable memory', () => {
    const module = new WebAssembly.Module(committedBytes);
    expect(
      WebAssembly.Module.exports(module)
        .map((e) => `${e.name}:${e.kind}`)
        .sort(),
    ).toEqual(['int8Dots:function', 'memory:memory']);
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    const exports = new WebAssembly.Instance(module).exports;
    const fn = exports.int8Dots;
    expect(typeof fn === 'function' ? fn.length : -1).toBe(5);
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
});

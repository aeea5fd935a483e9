/**
 * The committed kernel binary (src/engine/simd/dotKernel.generated.ts) is
 * what wabt makes of dotKernel.wat today, so the two cannot drift apart; and
 * the module has the shape dotWorkspace.ts relies on. The kernels' numbers
 * are checked against float64 dot products in dotWorkspace.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DOT_KERNEL_WASM_BASE64 } from '../../../src/engine/simd/dotKernel.generated.ts';
import { WAT_SOURCES, assembleWat, generatedModuleText } from '../../../scripts/assembleWat.ts';

const committedBytes = new Uint8Array(Buffer.from(DOT_KERNEL_WASM_BASE64, 'base64'));

describe('dotKernel.wat and its generated module', () => {
  it('the committed bytes are exactly what wabt assembles from the .wat', async () => {
    const source = WAT_SOURCES.find((s) => s.exportName === 'DOT_KERNEL_WASM_BASE64');
    expect(source).toBeDefined();
    if (!source) return;
    const assembled = await assembleWat(source.wat, readFileSync(source.wat, 'utf8'));
    expect(Buffer.compare(Buffer.from(assembled), Buffer.from(committedBytes)), 'run `npx tsx scripts/assembleWat.ts` and commit both files').toBe(0);
    expect(readFileSync(source.generated, 'utf8')).toBe(await generatedModuleText(source));
  });

  it('assembling can fail: a type error in the text is reported, not turned into bytes', async () => {
    await expect(assembleWat('bad.wat', '(module (func (result i32) (f32.const 1)))')).rejects.toThrow();
  });

  it('exports the kernels (seven i32 parameters for the dense ones, nine for the sparse one, eleven for decodeUnit and poolEncoded, fifteen for costsEncoded) and a growable memory of one page', () => {
    const module = new WebAssembly.Module(committedBytes);
    expect(
      WebAssembly.Module.exports(module)
        .map((e) => `${e.name}:${e.kind}`)
        .sort(),
    ).toEqual(['costsEncoded:function', 'decodeUnit:function', 'dots1x8:function', 'dots2x4:function', 'dotsSparse:function', 'memory:memory', 'poolEncoded:function']);
    expect(WebAssembly.Module.imports(module)).toEqual([]);
    const exports = new WebAssembly.Instance(module).exports;
    const memory = exports.memory;
    expect(memory).toBeInstanceOf(WebAssembly.Memory);
    if (!(memory instanceof WebAssembly.Memory)) return;
    expect(memory.buffer.byteLength).toBe(65536);
    memory.grow(1);
    expect(memory.buffer.byteLength).toBe(2 * 65536);
    for (const name of ['dots2x4', 'dots1x8']) {
      const fn = exports[name];
      expect(typeof fn === 'function' ? fn.length : -1, name).toBe(7);
    }
    expect(typeof exports.dotsSparse === 'function' ? exports.dotsSparse.length : -1).toBe(9);
    expect(typeof exports.decodeUnit === 'function' ? exports.decodeUnit.length : -1).toBe(11);
    expect(typeof exports.poolEncoded === 'function' ? exports.poolEncoded.length : -1).toBe(11);
    expect(typeof exports.costsEncoded === 'function' ? exports.costsEncoded.length : -1).toBe(15);
  });

  it('a hand-worked 2 x 3 block: dots2x4 clamps the missing rows and dots1x8 agrees', () => {
    const exports = new WebAssembly.Instance(new WebAssembly.Module(committedBytes)).exports;
    const memory = exports.memory;
    const dots2x4 = exports.dots2x4;
    const dots1x8 = exports.dots1x8;
    if (!(memory instanceof WebAssembly.Memory) || typeof dots2x4 !== 'function' || typeof dots1x8 !== 'function') throw new Error('unexpected exports');
    const f = new Float32Array(memory.buffer);
    // a: 2 rows of 4; b: 3 rows of 4 (floats 8..19); out at 32, row stride 5.
    f.set([1, 2, 3, 4, -1, 0, 0.5, 2], 0);
    f.set([1, 1, 1, 1, 0, 0, 0, 1, 2, -2, 2, -2], 8);
    const expected = [
      [10, 4, -4],
      [1.5, 2, -5],
    ];
    dots2x4(0, 2, 8 * 4, 3, 4, 32 * 4, 5);
    expect([Array.from(f.subarray(32, 35)), Array.from(f.subarray(37, 40))]).toEqual(expected);
    // Nothing written past the 3 columns of each output row.
    expect([f[35], f[36], f[40]]).toEqual([0, 0, 0]);
    f.fill(0, 32, 48);
    dots1x8(0, 2, 8 * 4, 3, 4, 32 * 4, 5);
    expect([Array.from(f.subarray(32, 35)), Array.from(f.subarray(37, 40))]).toEqual(expected);
  });
});

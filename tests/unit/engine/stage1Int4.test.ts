/**
 * Int4ShortlistIndex against independent computations: its kernel's sums are
 * plain integer sums over nibbles laid out here from the format's definition,
 * a packed value is within half a 4-bit step of the int8 value (float64), and
 * its top-k (rows and scores, bit for bit) is Int8CosineIndex's on clustered
 * rows, after removals too, with the SIMD kernel and the JS loop alike. The
 * rows come through a reader that counts its calls, as the storage's would.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { int4DotsJs, int4PaddedDim, int4RowBytes, INT4_RATIOS, packInt4Row } from '../../../src/engine/quant/int4Rows.ts';
import { encodeStage1Row } from '../../../src/engine/quant/int8Rows.ts';
import { INT4_DOT_KERNEL_WASM_BASE64 } from '../../../src/engine/simd/int4DotKernel.generated.ts';
import { Int4ShortlistIndex, MAX_SHORTLIST } from '../../../src/engine/stage1Int4.ts';
import { Int8CosineIndex } from '../../../src/engine/stage1Int8.ts';
import { WAT_SOURCES, assembleWat } from '../../../scripts/assembleWat.ts';
import { concat } from '../../support/pngChunks.ts';
import { gaussian } from './references.ts';

function randomRow(rand: () => number, dim: number): Float32Array {
  return Float32Array.from({ length: dim }, () => gaussian(rand));
}

/** ids identities, each `shots` gallery rows and one query, all noisy shots of one centre. */
function clustered(rand: () => number, ids: number, shots: number, dim: number): { gallery: Float32Array[]; queries: Float32Array[] } {
  const gallery: Float32Array[] = [];
  const queries: Float32Array[] = [];
  for (let i = 0; i < ids; i++) {
    const c = randomRow(rand, dim);
    const shot = () => c.map((x) => x + 0.9 * gaussian(rand));
    for (let s = 0; s < shots; s++) gallery.push(shot());
    queries.push(shot());
  }
  return { gallery, queries };
}

/** The stored rows and a reader over them that counts its reads. */
function storedRows(rows: readonly Float32Array[]): { encoded: Uint8Array[]; reads: { count: number }; reader: (i: number) => Uint8Array; positions: number[] } {
  const encoded = rows.map((r) => encodeStage1Row(r));
  const reads = { count: 0 };
  // positions[i] = which stored row index row i is now (removals shift them).
  const positions = rows.map((_, i) => i);
  return {
    encoded,
    reads,
    positions,
    reader: (i) => {
      reads.count++;
      return encoded[positions[i]];
    },
  };
}

describe('4-bit rows', () => {
  it('the committed kernel is what wabt assembles from int4DotKernel.wat', async () => {
    const source = WAT_SOURCES.find((s) => s.exportName === 'INT4_DOT_KERNEL_WASM_BASE64');
    expect(source).toBeDefined();
    if (!source) return;
    const assembled = await assembleWat(source.wat, readFileSync(source.wat, 'utf8'));
    expect(Buffer.from(assembled).toString('base64')).toBe(INT4_DOT_KERNEL_WASM_BASE64);
  });

  it('the kernel and the JS loop give the integer sums of query x nibble, over nibbles laid out from the format (blocks of 32: value t low, 16 + t high)', () => {
    const rand = seededRandom(4);
    for (const dim of [32, 96, 1536]) {
      const n = 37;
      const nibbles = Array.from({ length: n }, () => Array.from({ length: dim }, () => Math.floor(rand() * 16)));
      const levels = Math.min(32767, Math.floor((2 ** 31 - 1) / (15 * dim)));
      const q = Array.from({ length: dim }, (_, j) => (j % 7 === 0 ? (j % 2 ? levels : -levels) : Math.round((rand() * 2 - 1) * levels)));
      const packed = new Uint8Array((n * dim) / 2);
      for (let i = 0; i < n; i++)
        for (let j = 0; j < dim; j++) {
          const block = Math.floor(j / 32);
          const within = j % 32;
          const byte = (i * dim) / 2 + block * 16 + (within % 16);
          packed[byte] |= within < 16 ? nibbles[i][j] : nibbles[i][j] << 4;
        }
      const want = nibbles.map((row) => row.reduce((s, v, j) => s + v * q[j], 0));
      const js = new Int32Array(n);
      int4DotsJs(packed, n, dim, Int16Array.from(q), js);
      expect(Array.from(js)).toEqual(want);

      const module = new WebAssembly.Module(Buffer.from(INT4_DOT_KERNEL_WASM_BASE64, 'base64'));
      const { memory, int4Dots } = new WebAssembly.Instance(module).exports as unknown as { memory: WebAssembly.Memory; int4Dots: (a: number, n: number, d: number, q: number, o: number) => void };
      memory.grow(2);
      const qAt = packed.length + 16 - (packed.length % 16);
      const outAt = qAt + dim * 2;
      new Uint8Array(memory.buffer).set(packed, 0);
      new Int16Array(memory.buffer, qAt, dim).set(q);
      int4Dots(0, n, dim, qAt, outAt);
      expect(Array.from(new Int32Array(memory.buffer, outAt, n))).toEqual(want);
    }
  });

  it('a packed value is within half a 4-bit step (m / 14 in int8 units, m = max |code|) of the int8 value; nibbles stay in [1, 15] and padding is the value 0', () => {
    const rand = seededRandom(9);
    for (const dim of [40, 512, 1536]) {
      for (let r = 0; r < 20; r++) {
        const codes = Int8Array.from({ length: dim }, () => Math.round((rand() * 2 - 1) * 127));
        if (r === 0) codes[5] = -128;
        const out = new Uint8Array(int4RowBytes(dim));
        const m = packInt4Row(codes, 0, dim, out, 0);
        expect(m).toBe(Math.max(...Array.from(codes, Math.abs)));
        for (let j = 0; j < int4PaddedDim(dim); j++) {
          const byte = out[Math.floor(j / 32) * 16 + (j % 16)];
          const nib = j % 32 < 16 ? byte & 15 : byte >> 4;
          if (j >= dim) {
            expect(nib).toBe(8);
            continue;
          }
          expect(nib).toBeGreaterThanOrEqual(1);
          expect(nib).toBeLessThanOrEqual(15);
          expect(Math.abs(((nib - 8) * m) / 7 - codes[j])).toBeLessThanOrEqual(m / 14 + 1e-5 * m);
        }
      }
    }
  });

  it('the kernel packs stored rows into the bytes the JS loop writes (ties to even, -128 codes, all-zero rows), and reports each row’s max', () => {
    const rand = seededRandom(10);
    const dim = 96;
    const stride = 4 + dim;
    const n = 40;
    const src = new Uint8Array(n * stride);
    const codes = new Int8Array(src.buffer);
    for (let i = 0; i < n; i++)
      for (let j = 0; j < dim; j++) {
        // Row 1 has max 14, where 7 c / 14 = c / 2 ties for every odd code; row 2 is all zero.
        codes[i * stride + 4 + j] = i === 1 ? (j % 29) - 14 : i === 2 ? 0 : i === 3 && j === 0 ? -128 : Math.round((rand() * 2 - 1) * 127);
      }
    const want = new Uint8Array((n * dim) / 2);
    const wantMax = Array.from({ length: n }, (_, i) => packInt4Row(codes, i * stride + 4, dim, want, (i * dim) / 2));
    const module = new WebAssembly.Module(Buffer.from(INT4_DOT_KERNEL_WASM_BASE64, 'base64'));
    const { memory, packInt4Rows } = new WebAssembly.Instance(module).exports as unknown as {
      memory: WebAssembly.Memory;
      packInt4Rows: (src: number, n: number, dim: number, stride: number, dst: number, ratios: number, maxes: number) => void;
    };
    const dst = 8192;
    const ratios = 16384;
    const maxes = 17408;
    new Uint8Array(memory.buffer).set(src, 0);
    new Float32Array(memory.buffer, ratios, INT4_RATIOS.length).set(INT4_RATIOS);
    packInt4Rows(0, n, dim, stride, dst, ratios, maxes);
    expect(Buffer.compare(Buffer.from(memory.buffer, dst, want.length), Buffer.from(want))).toBe(0);
    expect(Array.from(new Int32Array(memory.buffer, maxes, n))).toEqual(wantMax);
    expect(wantMax.slice(1, 4)).toEqual([14, 0, 128]);
  });
});

describe('Int4ShortlistIndex', () => {
  const dim = 256;
  const rand = seededRandom(16);
  const { gallery, queries } = clustered(rand, 1500, 3, dim);

  for (const forceJs of [false, true]) {
    it(`top-k, rows and scores, is Int8CosineIndex's bit for bit, reading only the short list (${forceJs ? 'JS loop' : 'SIMD'})`, () => {
      const stored = storedRows(gallery);
      const int4 = new Int4ShortlistIndex(dim, stored.reader, { forceJs });
      const int8 = new Int8CosineIndex(dim);
      int4.addEncodedRows(concat(stored.encoded), gallery.length);
      int8.add(gallery);
      expect(int4.size).toBe(gallery.length);
      expect(int4.byteLength).toBe(gallery.length * (dim / 2 + 8));
      const qs = forceJs ? queries.slice(0, 60) : queries.slice(0, 400);
      for (const k of [1, 10, 100]) {
        stored.reads.count = 0;
        for (const q of qs) expect(int4.topK(q, k)).toEqual(int8.topK(q, k));
        expect(stored.reads.count / qs.length).toBeLessThanOrEqual(MAX_SHORTLIST);
        // A short list, not the gallery.
        expect(stored.reads.count / qs.length).toBeLessThan(gallery.length / 4);
      }
    });
  }

  it('after removals, and with faces added as embeddings, it still answers as the int8 index; row() is the int8 row', () => {
    const stored = storedRows(gallery);
    const int4 = new Int4ShortlistIndex(dim, stored.reader);
    const int8 = new Int8CosineIndex(dim);
    int4.add(gallery);
    int8.add(gallery);
    const drop = Array.from({ length: 300 }, (_, i) => i * 13 + 5);
    int4.removeRows(drop);
    int8.removeRows(drop);
    const dropped = new Set(drop);
    const kept = stored.positions.filter((p) => !dropped.has(p));
    stored.positions.splice(0, stored.positions.length, ...kept);
    expect(int4.size).toBe(gallery.length - drop.length);
    for (const q of queries.slice(0, 200)) expect(int4.topK(q, 20)).toEqual(int8.topK(q, 20));
    for (const i of [0, 7, 1000, int4.size - 1]) expect(int4.row(i)).toEqual(int8.row(i));
    expect(int4.topK(queries[0], int4.size + 5)).toEqual(int8.topK(queries[0], int4.size + 5));
  });

  it('refuses a row that reads back with the wrong length, a damaged stored row and a query of another size', () => {
    const stored = storedRows(gallery.slice(0, 200));
    const int4 = new Int4ShortlistIndex(dim, (i) => (i === 3 ? new Uint8Array(7) : stored.reader(i)));
    int4.addEncodedRows(concat(stored.encoded), 200);
    expect(() => int4.row(3)).toThrow(AppError);
    expect(() => int4.topK(gallery[3], 500)).toThrow(/read back as 7 bytes/);
    const bad = concat(stored.encoded.slice(0, 2));
    new DataView(bad.buffer).setFloat32(0, Number.NaN, true);
    expect(() => int4.addEncodedRows(bad, 2)).toThrow(/scale/);
    expect(int4.size).toBe(200);
    expect(() => int4.topK(new Float32Array(dim + 1), 5)).toThrow(/values/);
  });
});

import { describe, expect, it } from 'vitest';
import { DotWorkspace } from '../../../src/engine/simd/dotWorkspace.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { gaussian } from './references.ts';

describe('dot-product kernels', () => {
  it('SIMD is available in Node (else the speed targets cannot hold)', () => {
    expect(new DotWorkspace().simd).toBe(true);
    expect(new DotWorkspace({ forceJs: true }).simd).toBe(false);
  });

  it('SIMD and JS kernels match float64 dot products for odd block shapes, and growth keeps contents', () => {
    const rand = seededRandom(8);
    for (const forceJs of [false, true]) {
      const ws = new DotWorkspace({ forceJs });
      for (const [na, nb, c] of [
        [1, 1, 4],
        [1, 13, 8],
        [3, 5, 12],
        [49, 49, 512],
        [16, 7, 128],
      ] as const) {
        const a = Float64Array.from({ length: na * c }, () => gaussian(rand));
        const b = Float64Array.from({ length: nb * c }, () => gaussian(rand));
        ws.reserve(1000);
        ws.data.set(a, 0);
        ws.data.set(b, na * c);
        ws.reserve((na + nb) * c + na * nb + 1_000_000); // grows: contents must survive
        const out = (na + nb) * c;
        ws.dots(0, na, na * c, nb, c, out, nb);
        const data = ws.data;
        for (let i = 0; i < na; i++) {
          for (let j = 0; j < nb; j++) {
            let s = 0;
            for (let t = 0; t < c; t++) s += Math.fround(a[i * c + t]) * Math.fround(b[j * c + t]);
            expect(Math.abs(data[out + i * nb + j] - s)).toBeLessThan(1e-4 * Math.sqrt(c));
          }
        }
      }
    }
  });

  it("dotsSparse: each output is the float32 sum over b's nonzeros in channel order, the same bits in SIMD and JS", () => {
    const rand = seededRandom(9);
    // Shapes: lda past na (lanes computed, never stored), blocks of 16 plus a rest of 4, a single output, c not a multiple of 4.
    for (const [na, nb, c, lda] of [
      [1, 1, 3, 4],
      [5, 3, 7, 8],
      [16, 2, 9, 16],
      [49, 49, 1024, 52],
      [20, 4, 33, 28],
    ] as const) {
      const a = Float32Array.from({ length: na * c }, () => gaussian(rand));
      // ~85% zeros, one all-zero row of b, and a -0 that must be skipped like a zero
      const b = Float32Array.from({ length: nb * c }, (_, x) => (x < c && nb > 1 ? 0 : rand() < 0.15 ? gaussian(rand) : 0));
      if (nb > 2) b[2 * c] = -0;
      const at = new Float32Array(c * lda);
      for (let i = 0; i < na; i++) for (let t = 0; t < c; t++) at[t * lda + i] = a[i * c + t];
      // the lanes past na hold junk the kernel may compute with but must never store
      for (let t = 0; t < c; t++) for (let i = na; i < lda; i++) at[t * lda + i] = 1e30;
      const outs: Float32Array[] = [];
      for (const forceJs of [false, true]) {
        const ws = new DotWorkspace({ forceJs });
        const bAt = c * lda;
        const outAt = bAt + nb * c;
        const ldo = nb + 3;
        const listAt = outAt + na * ldo;
        ws.reserve(listAt + 2 * c);
        ws.data.set(at, 0);
        ws.data.set(b, bAt);
        ws.data.fill(-7, outAt, listAt);
        ws.dotsSparse(0, lda, na, bAt, nb, c, outAt, ldo, listAt);
        const out = Float32Array.from(ws.data.subarray(outAt, listAt));
        for (let i = 0; i < na; i++) {
          for (let j = 0; j < nb; j++) {
            // The independent reference: a float32 running sum, product and sum each rounded (Math.fround), t ascending.
            let s = 0;
            for (let t = 0; t < c; t++) if (b[j * c + t] !== 0) s = Math.fround(s + Math.fround(a[i * c + t] * b[j * c + t]));
            expect(out[i * ldo + j], `${forceJs ? 'JS' : 'SIMD'} ${na}x${nb}x${c} (${i}, ${j})`).toBe(s);
          }
          for (let j = nb; j < ldo; j++) expect(out[i * ldo + j], 'outside the outputs').toBe(-7);
        }
        outs.push(out);
      }
      expect(Buffer.compare(Buffer.from(outs[0].buffer), Buffer.from(outs[1].buffer))).toBe(0);
    }
  });

  it('dotsSparse refuses a transposed row shorter than na or not a multiple of 4', () => {
    const ws = new DotWorkspace();
    ws.reserve(1000);
    expect(() => ws.dotsSparse(0, 6, 5, 100, 1, 4, 200, 1, 300)).toThrow(/multiple of 4/);
    expect(() => ws.dotsSparse(0, 4, 5, 100, 1, 4, 200, 1, 300)).toThrow(/at least na/);
  });
});

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
});

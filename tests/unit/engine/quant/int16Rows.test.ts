/**
 * Fine (int16) stage-1 rows against a float64 quantiser (../references.ts) from the
 * format's definition (unit vector, step = max|u| / 32767 as float32, code =
 * round(u / step), stored scale = 1 / |codes| as float32), not from the code
 * under test.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/core/errors.ts';
import { seededRandom } from '../../../../src/core/random.ts';
import { decodeFineRow, encodeFineRow, fineRowBytes } from '../../../../src/engine/quant/int16Rows.ts';
import { decodeStage1Row, encodeStage1Row } from '../../../../src/engine/quant/int8Rows.ts';
import { gaussian, referenceQuantisedRow } from '../references.ts';

const referenceRow = (v: Float32Array) => referenceQuantisedRow(v, 32767);

describe('fine (int16) stage-1 rows', () => {
  it('are a little-endian float32 scale and int16 codes of the unit vector; decoded within half a step of it, 258 times finer than int8', () => {
    const rand = seededRandom(21);
    for (const dim of [1, 7, 512, 1536]) {
      for (let trial = 0; trial < 4; trial++) {
        const v = Float32Array.from({ length: dim }, () => gaussian(rand) * 2);
        const bytes = encodeFineRow(v);
        expect(bytes.length).toBe(fineRowBytes(dim));
        expect(fineRowBytes(dim)).toBe(4 + 2 * dim);
        const ref = referenceRow(v);
        const view = new DataView(bytes.buffer, bytes.byteOffset);
        expect(view.getFloat32(0, true)).toBe(ref.scale);
        const codes = Array.from({ length: dim }, (_, j) => view.getInt16(4 + 2 * j, true));
        expect(codes).toEqual(ref.codes);
        expect(Math.max(...codes.map(Math.abs))).toBe(32767);
        // Decoding reads the row wherever it sits in a record (odd offsets included).
        const shifted = new Uint8Array(bytes.length + 3);
        shifted.set(bytes, 3);
        const decoded = decodeFineRow(shifted, dim, 3);
        expect(Math.hypot(...decoded)).toBeCloseTo(1, 6);
        for (let j = 0; j < dim; j++) {
          expect(decoded[j]).toBe(Math.fround(ref.codes[j] * ref.scale));
          // Half a step, plus what renormalising to unit length moves (relative ~step).
          expect(Math.abs(decoded[j] - ref.unit[j])).toBeLessThanOrEqual(ref.step * 0.5 + Math.abs(ref.unit[j]) * ref.step * 2 + 1e-9);
        }
      }
    }
  });

  it('a cosine from fine rows is within 5e-6 of the float64 cosine on 1536-D vectors, over 100 times closer than from int8 rows', () => {
    const rand = seededRandom(22);
    let worst = 0;
    let worstInt8 = 0;
    for (let t = 0; t < 50; t++) {
      const a = Float32Array.from({ length: 1536 }, () => gaussian(rand));
      const b = Float32Array.from(a, (x) => x + gaussian(rand));
      const ua = referenceRow(a).unit;
      const ub = referenceRow(b).unit;
      const fb = decodeFineRow(encodeFineRow(b), 1536);
      const cb = decodeStage1Row(encodeStage1Row(b), 1536);
      let exact = 0;
      let fine = 0;
      let coarse = 0;
      for (let j = 0; j < 1536; j++) {
        exact += ua[j] * ub[j];
        fine += ua[j] * fb[j];
        coarse += ua[j] * cb[j];
      }
      worst = Math.max(worst, Math.abs(exact - fine));
      worstInt8 = Math.max(worstInt8, Math.abs(exact - coarse));
    }
    expect(worst).toBeLessThan(5e-6);
    expect(worstInt8).toBeGreaterThan(100 * worst);
  });

  it('refuses a row cut short or with a broken scale, naming it as damaged storage', () => {
    const bytes = encodeFineRow(Float32Array.from([1, 2, 3]));
    expect(() => decodeFineRow(bytes.subarray(0, 8), 3)).toThrow(AppError);
    expect(() => decodeFineRow(bytes.subarray(0, 8), 3)).toThrow(/needs 10 bytes/);
    const broken = bytes.slice();
    new DataView(broken.buffer).setFloat32(0, Number.NaN, true);
    expect(() => decodeFineRow(broken, 3)).toThrow(/scale NaN/);
    expect(() => decodeFineRow(bytes, 0)).toThrow(/positive integer/);
  });
});

/**
 * Stage-1 int8 rows against a float64 quantiser (../references.ts) from the
 * format's definition (unit vector, step = max|u| / 127 as float32, code =
 * round(u / step), stored scale = 1 / |codes| as float32), not from the code
 * under test.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../../src/core/errors.ts';
import { seededRandom } from '../../../../src/core/random.ts';
import { decodeStage1Row, encodeStage1Row, STAGE1_ROW_HEADER_BYTES, stage1RowBytes } from '../../../../src/engine/quant/int8Rows.ts';
import { gaussian, referenceQuantisedRow } from '../references.ts';

const referenceRow = (v: Float32Array) => referenceQuantisedRow(v, 127);

function expectAppError(fn: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(AppError);
  if (!(caught instanceof AppError)) return;
  expect(caught.code).toBe(code);
  expect(caught.message).toMatch(pattern);
  expect(caught.hint.length).toBeGreaterThan(10);
}

describe('int8 stage-1 rows', () => {
  it('are a little-endian float32 scale and then the codes of the unit vector: decoded, a unit vector within half a step (plus the renormalisation) of it', () => {
    const rand = seededRandom(11);
    for (const dim of [1, 7, 512, 1536]) {
      for (let trial = 0; trial < 5; trial++) {
        const v = Float32Array.from({ length: dim }, () => gaussian(rand) * 3);
        const bytes = encodeStage1Row(v);
        expect(bytes.length).toBe(stage1RowBytes(dim));
        expect(stage1RowBytes(dim)).toBe(STAGE1_ROW_HEADER_BYTES + dim);
        const ref = referenceRow(v);
        const scale = new DataView(bytes.buffer, bytes.byteOffset).getFloat32(0, true);
        expect(scale).toBe(ref.scale);
        const codes = Array.from(new Int8Array(bytes.buffer, bytes.byteOffset + 4, dim));
        expect(codes).toEqual(ref.codes);
        // The largest value uses the full range; every value is within half a step.
        expect(Math.max(...codes.map(Math.abs))).toBe(127);
        const decoded = decodeStage1Row(bytes, dim);
        expect(Math.hypot(...decoded)).toBeCloseTo(1, 6);
        for (let j = 0; j < dim; j++) {
          expect(decoded[j]).toBe(Math.fround(ref.codes[j] * ref.scale));
          expect(Math.abs(decoded[j] - ref.unit[j])).toBeLessThanOrEqual((ref.step / 2 + 127 * Math.abs(ref.step - ref.scale)) * (1 + 1e-6));
        }
        // Decoding then encoding again (an export imported) gives back the same bytes.
        expect(Array.from(encodeStage1Row(decoded))).toEqual(Array.from(bytes));
      }
    }
  });

  it('decodes a row inside a larger buffer at an offset', () => {
    const a = encodeStage1Row(Float32Array.from([3, -4, 0, 1]));
    const b = encodeStage1Row(Float32Array.from([0, 0, 5, 0]));
    const both = new Uint8Array(a.length + b.length);
    both.set(a);
    both.set(b, a.length);
    expect(Array.from(decodeStage1Row(both, 4, a.length))).toEqual([0, 0, 1, 0]);
  });

  it('refuses zero and non-finite vectors, truncated rows and bad scales with AppErrors', () => {
    expectAppError(() => encodeStage1Row(new Float32Array(8)), 'invalid-vector', /zero vector/);
    expectAppError(() => encodeStage1Row(Float32Array.from([1, Number.NaN])), 'invalid-vector', /non-finite/);
    const row = encodeStage1Row(Float32Array.from([1, 2, 3, 4]));
    expectAppError(() => decodeStage1Row(row.subarray(0, 7), 4), 'invalid-argument', /needs 8 bytes/);
    for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      const copy = row.slice();
      new DataView(copy.buffer).setFloat32(0, bad, true);
      expectAppError(() => decodeStage1Row(copy, 4), 'invalid-argument', /scale/);
    }
  });
});

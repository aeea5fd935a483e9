/**
 * Reading TF.js weights (scripts/models/tfjs/weights.ts, which hands the
 * bytes to tf.io.decodeWeights). Comparing against tf.io.decodeWeights would
 * now compare it with itself, so the references here are independent: tiny
 * manifests whose decoded values are worked out by hand from the TF.js
 * quantisation rules (q * scale + min; IEEE half floats), and, for the two
 * real weight files, a decoder of those rules written in this test. Also the
 * checks that are ours alone: a manifest that does not match its shards.
 */
import { describe, expect, it } from 'vitest';
import { readSource } from '../../../scripts/models/sources.ts';
import { TFJS_SOURCES } from '../../../scripts/models/tfjs/tfjsSources.ts';
import { decodeWeights, type WeightGroup, type WeightSpec, type WeightTensor } from '../../../scripts/models/tfjs/weights.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

const bytesOf = (a: ArrayBufferView) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function decodeOne(specs: WeightSpec[], bytes: Uint8Array): Map<string, WeightTensor> {
  return decodeWeights([{ paths: ['w.bin'], weights: specs }], () => bytes);
}

function weight(weights: ReadonlyMap<string, WeightTensor>, name: string): WeightTensor {
  const w = weights.get(name);
  if (!w) throw new Error(`no weight ${name}`);
  return w;
}

/** Element-wise Object.is, so -0 vs 0 and NaN count. */
function expectSameValues(actual: ArrayLike<number>, expected: readonly number[]): void {
  expect(Array.from(actual).map((v, i) => Object.is(v, expected[i]) || `${i}: ${v} vs ${expected[i]}`)).toEqual(expected.map(() => true));
}

/** IEEE 754 binary16 bits -> value, from the format's definition (the reference for float16 weights). */
function halfValue(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >> 10) & 0x1f;
  const fraction = h & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** The documented TF.js rules, applied one weight at a time with DataView reads: the reference for the real files. */
function referenceDecode(specs: readonly WeightSpec[], bytes: Uint8Array): Map<string, number[]> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, number[]>();
  let at = 0;
  for (const s of specs) {
    const n = s.shape.reduce((a, b) => a * b, 1);
    const q = s.quantization;
    const values: number[] = [];
    for (let i = 0; i < n; i++) {
      if (!q) values.push(s.dtype === 'int32' ? view.getInt32(at + 4 * i, true) : view.getFloat32(at + 4 * i, true));
      else if (q.dtype === 'float16') values.push(halfValue(view.getUint16(at + 2 * i, true)));
      else {
        const stored = q.dtype === 'uint8' ? view.getUint8(at + i) : view.getUint16(at + 2 * i, true);
        const v = stored * (q.scale ?? Number.NaN) + (q.min ?? Number.NaN);
        values.push(s.dtype === 'int32' ? Math.round(v) : Math.fround(v));
      }
    }
    at += n * (q ? (q.dtype === 'uint8' ? 1 : 2) : 4);
    out.set(s.name, values);
  }
  expect(at).toBe(bytes.byteLength);
  return out;
}

function expectMatchesReference(specs: readonly WeightSpec[], bytes: Uint8Array): void {
  const decoded = decodeOne([...specs], bytes);
  const reference = referenceDecode(specs, bytes);
  expect([...decoded.keys()]).toEqual(specs.map((s) => s.name));
  for (const s of specs) {
    const w = weight(decoded, s.name);
    expect(w.shape).toEqual(s.shape);
    expect(w.dtype).toBe(s.dtype);
    const want = reference.get(s.name) ?? [];
    expect(w.data.length).toBe(want.length);
    let mismatches = 0;
    for (let i = 0; i < want.length; i++) if (!Object.is(w.data[i], want[i])) mismatches++;
    expect(mismatches, s.name).toBe(0);
  }
}

describe('decodeWeights', () => {
  it('uint8 quantised (q * scale + min), float32 and int32 weights back to back', () => {
    const f = Float32Array.from([0.1, -2.5, 3e-8, -0, 65504.5]);
    const n = Int32Array.from([3, -7, 2 ** 30]);
    const specs: WeightSpec[] = [
      { name: 'q', shape: [2, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1 } },
      { name: 'f', shape: [5], dtype: 'float32' },
      { name: 'n', shape: [3], dtype: 'int32' },
    ];
    const w = decodeOne(specs, concat([Uint8Array.from([0, 1, 4, 255]), bytesOf(f), bytesOf(n)]));
    expect(weight(w, 'q')).toMatchObject({ shape: [2, 2], dtype: 'float32' });
    expectSameValues(weight(w, 'q').data, [-1, -0.5, 1, 126.5]);
    // Unquantised weights come through bit for bit (including -0).
    expect(Buffer.compare(bytesOf(weight(w, 'f').data), bytesOf(f))).toBe(0);
    expect(weight(w, 'n').dtype).toBe('int32');
    expectSameValues(weight(w, 'n').data, [3, -7, 2 ** 30]);
  });

  it('uint16 quantised at an odd byte offset (after a 3-byte uint8 weight)', () => {
    const u = new Uint16Array([0, 2, 65535, 4]);
    const specs: WeightSpec[] = [
      { name: 'a', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 2, min: 0 } },
      { name: 'u', shape: [4], dtype: 'float32', quantization: { dtype: 'uint16', scale: 0.25, min: 10 } },
    ];
    const w = decodeOne(specs, concat([Uint8Array.from([1, 2, 255]), bytesOf(u)]));
    expectSameValues(weight(w, 'a').data, [2, 4, 510]);
    expectSameValues(weight(w, 'u').data, [10, 10.5, 16393.75, 11]);
  });

  it('int32 stored as uint8 is rounded to the nearest integer', () => {
    const specs: WeightSpec[] = [{ name: 'i', shape: [4], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.3, min: -1 } }];
    // -1, -0.4, 2 and 3.8 before rounding.
    const w = weight(decodeOne(specs, Uint8Array.from([0, 2, 10, 16])), 'i');
    expect(w.dtype).toBe('int32');
    expect(Array.from(w.data)).toEqual([-1, 0, 2, 4]);
  });

  it('float16: normal, subnormal, zero, negative zero, infinities, largest', () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7bff, 0x0400]);
    const specs: WeightSpec[] = [{ name: 'h', shape: [halves.length], dtype: 'float32', quantization: { dtype: 'float16' } }];
    const expected = [1, -2, 0.333251953125, 2 ** -24, 1023 * 2 ** -24, 0, -0, Infinity, -Infinity, 65504, 2 ** -14];
    expectSameValues(weight(decodeOne(specs, bytesOf(halves)), 'h').data, expected);
  });

  it('refuses shards that do not match the manifest, and dtypes the converter cannot carry', () => {
    const group: WeightGroup = { paths: ['w.bin'], weights: [{ name: 'f', shape: [2], dtype: 'float32' }] };
    expect(() => decodeWeights([group], () => new Uint8Array(12))).toThrow(/left over/);
    expect(() => decodeWeights([group], () => new Uint8Array(4))).toThrow(/needs 8 bytes/);
    expect(() => decodeOne([{ name: 's', shape: [1], dtype: 'string' }], new Uint8Array(8))).toThrow(/unsupported dtype "string"/);
  });

  it('a group split over two shards reads as one stream of bytes', () => {
    const f = Float32Array.from([1.5, -3, 7.25]);
    const all = bytesOf(f);
    const group: WeightGroup = { paths: ['a.bin', 'b.bin'], weights: [{ name: 'f', shape: [3], dtype: 'float32' }] };
    const w = decodeWeights([group], (path) => (path === 'a.bin' ? all.slice(0, 5) : all.slice(5)));
    expectSameValues(weight(w, 'f').data, [1.5, -3, 7.25]);
  });

  it("face-api's face_recognition_model (uint8 and float32) matches the rules applied by hand", () => {
    const manifest = JSON.parse(new TextDecoder().decode(readSource(TFJS_SOURCES.dlibManifest))) as WeightGroup[];
    expectMatchesReference(manifest[0].weights, readSource(TFJS_SOURCES.dlibWeights));
  });

  it("Human's faceres (float16) matches the rules applied by hand", () => {
    const model = JSON.parse(new TextDecoder().decode(readSource(TFJS_SOURCES.faceresGraph))) as { weightsManifest: WeightGroup[] };
    expectMatchesReference(model.weightsManifest[0].weights, readSource(TFJS_SOURCES.faceresWeights));
  });
});

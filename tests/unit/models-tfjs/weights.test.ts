/**
 * Dequantisation of TF.js weights vs TF.js's own decoder
 * (tf.io.decodeWeights): uint8 / uint16 with scale and min, float16 (incl.
 * subnormals, infinities, signed zero), plain float32 / int32, and the real
 * weight files of both converted models, value for value.
 */
import { describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { readSource } from '../../../scripts/models/sources.ts';
import { halfToFloat } from '../../../scripts/models/tfjs/float16.ts';
import { TFJS_SOURCES } from '../../../scripts/models/tfjs/tfjsSources.ts';
import { decodeWeights, type WeightGroup, type WeightSpec } from '../../../scripts/models/tfjs/weights.ts';
import { randomFloats } from './helpers/compare.ts';

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((a, p) => a + p.byteLength, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

/** Decodes with both decoders and expects identical values (not merely close). */
function expectSameAsTfjs(specs: WeightSpec[], bytes: Uint8Array): void {
  const ours = decodeWeights([{ paths: ['w.bin'], weights: specs }], () => bytes);
  const theirs = tf.io.decodeWeights(bytes.slice().buffer, specs as tf.io.WeightsManifestEntry[]);
  for (const s of specs) {
    const a = ours.get(s.name)!;
    const b = theirs[s.name];
    expect(a.shape).toEqual(b.shape);
    expect(a.dtype).toBe(b.dtype);
    const theirData = b.dataSync() as Float32Array | Int32Array;
    expect(a.data.length).toBe(theirData.length);
    // Bit for bit (also tells -0 from 0).
    expect(Buffer.compare(new Uint8Array(a.data.buffer, a.data.byteOffset, a.data.byteLength), new Uint8Array(theirData.buffer, theirData.byteOffset, theirData.byteLength))).toBe(0);
    b.dispose();
  }
}

describe('decodeWeights vs tf.io.decodeWeights', () => {
  it('uint8 quantised (q * scale + min), float32 and int32 weights back to back', () => {
    const q = Uint8Array.from({ length: 24 }, (_, i) => (i * 37) % 256);
    const f = new Float32Array(randomFloats(5, 1));
    const n = Int32Array.from([3, -7, 2 ** 30]);
    const specs: WeightSpec[] = [
      { name: 'q', shape: [2, 3, 4], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.0123, min: -1.5 } },
      { name: 'f', shape: [5], dtype: 'float32' },
      { name: 'n', shape: [3], dtype: 'int32' },
    ];
    expectSameAsTfjs(specs, concat([q, new Uint8Array(f.buffer), new Uint8Array(n.buffer)]));
  });

  it('uint16 quantised at an odd byte offset (after a 3-byte uint8 weight)', () => {
    const a = Uint8Array.from([1, 2, 255]);
    const u = new Uint16Array([0, 1, 65535, 300, 12345]);
    const specs: WeightSpec[] = [
      { name: 'a', shape: [3], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: 0 } },
      { name: 'u', shape: [5], dtype: 'float32', quantization: { dtype: 'uint16', scale: 1e-4, min: -3 } },
    ];
    expectSameAsTfjs(specs, concat([a, new Uint8Array(u.buffer)]));
  });

  it('int32 stored as uint8 is rounded like TF.js', () => {
    const specs: WeightSpec[] = [{ name: 'i', shape: [4], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.3, min: -1 } }];
    expectSameAsTfjs(specs, Uint8Array.from([0, 1, 5, 9]));
  });

  it('float16: normal, subnormal, zero, negative zero, infinities, largest', () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x3555, 0x0001, 0x03ff, 0x0000, 0x8000, 0x7c00, 0xfc00, 0x7bff, 0x0400, 0x1234]);
    const specs: WeightSpec[] = [{ name: 'h', shape: [halves.length], dtype: 'float32', quantization: { dtype: 'float16' } }];
    expectSameAsTfjs(specs, new Uint8Array(halves.buffer));
    expect(halfToFloat(0x3c00)).toBe(1);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(Object.is(halfToFloat(0x8000), -0)).toBe(true);
  });

  it('refuses shards that do not match the manifest', () => {
    const group: WeightGroup = { paths: ['w.bin'], weights: [{ name: 'f', shape: [2], dtype: 'float32' }] };
    expect(() => decodeWeights([group], () => new Uint8Array(12))).toThrow(/left over/);
    expect(() => decodeWeights([group], () => new Uint8Array(4))).toThrow(/needs 8 bytes/);
  });

  it("face-api's face_recognition_model decodes exactly as TF.js decodes it", () => {
    const manifest = JSON.parse(new TextDecoder().decode(readSource(TFJS_SOURCES.dlibManifest))) as WeightGroup[];
    expectSameAsTfjs([...manifest[0].weights], readSource(TFJS_SOURCES.dlibWeights));
  });

  it("Human's faceres (float16) decodes exactly as TF.js decodes it", () => {
    const model = JSON.parse(new TextDecoder().decode(readSource(TFJS_SOURCES.faceresGraph))) as { weightsManifest: WeightGroup[] };
    expectSameAsTfjs([...model.weightsManifest[0].weights], readSource(TFJS_SOURCES.faceresWeights));
  });
});

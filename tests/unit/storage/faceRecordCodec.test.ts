/**
 * The detail record's visible-part embeddings (version 2, issue 13): written
 * and read back in both formats, read without decoding the map, absent from
 * version-1 records (written by hand here as the earlier layout), and
 * refused when cut short.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';
import { encodePatchMap } from '../../../src/engine/quant/patchCodec.ts';
import { decodeDetail, decodeFaceDetail, decodeNamedFaceDetail, encodeDetail, readFineStage1, readVisibleEmbedding } from '../../../src/storage/faceRecordCodec.ts';

const rand = seededRandom(3);
const patches = { h: 7, w: 7, c: 16, data: Float32Array.from({ length: 49 * 16 }, () => Math.max(0, rand() - 0.5)) };
const sunglasses = Float32Array.from({ length: 512 }, () => rand() * 4 - 2);
const mask = Float32Array.from({ length: 512 }, () => rand() - 0.5);

function unit(v: Float32Array): Float64Array {
  let n = 0;
  for (const x of v) n += x * x;
  return Float64Array.from(v, (x) => x / Math.sqrt(n));
}

function worst(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let w = 0;
  for (let i = 0; i < a.length; i++) w = Math.max(w, Math.abs(a[i] - b[i]));
  return w;
}

describe('visible-part embeddings in a detail record', () => {
  it('come back as unit vectors: float32 to rounding, compact within one int8 step, read alone or with the map', () => {
    for (const [format, tolerance] of [
      ['float32', 1e-7],
      ['compact', Math.max(...unit(sunglasses).map(Math.abs)) / 127],
    ] as const) {
      const bytes = encodeDetail(format, { patches, landmarks68: null, cropSize: 224, visibleEmbeddings: { sunglasses, mask } });
      const alone = readVisibleEmbedding(format, bytes, 'sunglasses');
      expect(alone?.length).toBe(512);
      expect(worst(alone as Float32Array, unit(sunglasses))).toBeLessThanOrEqual(tolerance);
      expect(worst(readVisibleEmbedding(format, bytes, 'mask') as Float32Array, unit(mask))).toBeLessThanOrEqual(format === 'float32' ? 1e-7 : Math.max(...unit(mask).map(Math.abs)) / 127);
      const detail = decodeFaceDetail(format, bytes);
      expect(detail.visibleEmbeddings?.sunglasses).toEqual(alone);
      // The map behind them is read as before.
      expect(decodeDetail(format, bytes).patches.h).toBe(7);
      expect(detail.cropSize).toBe(224);
    }
  });

  it('a record without them, and a version-1 record of the earlier layout, have none and keep their map', () => {
    const none = encodeDetail('compact', { patches, landmarks68: null, cropSize: 112 });
    expect(readVisibleEmbedding('compact', none, 'sunglasses')).toBeNull();
    const map = encodePatchMap(patches);
    const v1 = new Uint8Array(4 + map.length);
    v1.set([1, 112, 0, 0]);
    v1.set(map, 4);
    expect(readVisibleEmbedding('compact', v1, 'sunglasses')).toBeNull();
    expect(decodeDetail('compact', v1).patches.data).toEqual(decodeDetail('compact', none).patches.data);
  });

  it("stage 2's helper decodes the map alone: the same bits as the full decode, no landmarks or embeddings, the record still checked whole", () => {
    const landmarks68 = Float32Array.from({ length: 136 }, (_, i) => 20 + i);
    for (const format of ['float32', 'compact'] as const) {
      const bytes = encodeDetail(format, { patches, landmarks68, cropSize: 224, visibleEmbeddings: { sunglasses, mask } });
      const full = decodeFaceDetail(format, bytes);
      const mapOnly = decodeNamedFaceDetail(format, bytes);
      expect(full.landmarks68).toHaveLength(68);
      expect(full.visibleEmbeddings?.mask).toHaveLength(512);
      expect(mapOnly.landmarks68).toBeUndefined();
      expect(mapOnly.visibleEmbeddings ?? {}).toEqual({});
      expect(mapOnly.unitPatches).toEqual(full.unitPatches);
      expect(mapOnly.unitAverage).toEqual(full.unitAverage);
      expect(mapOnly.patchNorms).toEqual(full.patchNorms);
      const wrongKind = bytes.slice();
      wrongKind[4 + 136 * 4 + 1] = 9;
      expect(() => decodeNamedFaceDetail(format, wrongKind)).toThrow(/kind 9/);
    }
  });

  it('a record cut inside its embeddings is refused as damaged storage, not misread', () => {
    const bytes = encodeDetail('compact', { patches, landmarks68: null, cropSize: 224, visibleEmbeddings: { sunglasses } });
    expect(() => readVisibleEmbedding('compact', bytes.subarray(0, 4 + 1 + 3 + 100), 'sunglasses')).toThrow(/visible-part embedding/);
    const wrongKind = bytes.slice();
    wrongKind[5] = 9;
    expect(() => decodeFaceDetail('compact', wrongKind)).toThrow(/kind 9/);
  });
});

describe('the fine stage-1 row in a detail record (version 3)', () => {
  const embedding = Float32Array.from({ length: 1536 }, () => rand() * 2 - 1);
  const step16 = Math.max(...unit(embedding).map(Math.abs)) / 32767;

  it('a compact record keeps the stage-1 vector within one int16 step, beside the visible-part embeddings and the map', () => {
    const bytes = encodeDetail('compact', { patches, landmarks68: null, cropSize: 224, visibleEmbeddings: { mask }, stage1Fine: embedding });
    const fine = readFineStage1('compact', bytes);
    expect(fine).toHaveLength(1536);
    expect(worst(fine as Float32Array, unit(embedding))).toBeLessThanOrEqual(step16);
    expect(decodeFaceDetail('compact', bytes).stage1Fine).toEqual(fine);
    expect(decodeDetail('compact', bytes).stage1Fine).toEqual(fine);
    expect(worst(readVisibleEmbedding('compact', bytes, 'mask') as Float32Array, unit(mask))).toBeLessThanOrEqual(Math.max(...unit(mask).map(Math.abs)) / 127);
    // The map is the one a record without the row holds.
    const without = encodeDetail('compact', { patches, landmarks68: null, cropSize: 224, visibleEmbeddings: { mask } });
    expect(bytes.length - without.length).toBe(4 + 2 * 1536);
    expect(decodeDetail('compact', bytes).patches.data).toEqual(decodeDetail('compact', without).patches.data);
    // The helper's map-only decode skips it.
    expect(decodeNamedFaceDetail('compact', bytes).stage1Fine).toBeUndefined();
  });

  it('float32 records, records without it and version-2 records of the earlier layout have none', () => {
    expect(readFineStage1('float32', encodeDetail('float32', { patches, landmarks68: null, cropSize: 224, stage1Fine: embedding }))).toBeNull();
    expect(readFineStage1('compact', encodeDetail('compact', { patches, landmarks68: null, cropSize: 224 }))).toBeNull();
    const map = encodePatchMap(patches);
    const v2 = new Uint8Array(5 + map.length);
    v2.set([2, 224, 0, 0, 0]);
    v2.set(map, 5);
    expect(readFineStage1('compact', v2)).toBeNull();
    expect(decodeDetail('compact', v2).patches.data).toEqual(decodeDetail('compact', encodeDetail('compact', { patches, landmarks68: null, cropSize: 224 })).patches.data);
  });

  it('a record cut inside the row, or a float32 record claiming one, is refused as damaged storage', () => {
    const bytes = encodeDetail('compact', { patches, landmarks68: null, cropSize: 224, stage1Fine: embedding });
    expect(() => readFineStage1('compact', bytes.subarray(0, 4 + 1 + 2 + 1000))).toThrow(/fine stage-1 row of 1536 dimensions/);
    expect(() => readFineStage1('float32', bytes)).toThrow(/float32 face record with a fine stage-1 row/);
  });
});

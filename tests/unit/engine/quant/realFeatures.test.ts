/**
 * The compact formats on real features of ../shared/data/lfw-mini:
 * MobileFaceNet embeddings and 7x7x512 maps from tests/gpu/realFeatures.ts,
 * and FaceRes 7x7x1024 maps (post-ReLU, mostly zeros) from its Recognizer on
 * the centre 224 x 224 of each photo (no alignment: the codec only needs the
 * maps' real statistics).
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PatchMap, RgbaImage } from '../../../../src/core/types.ts';
import { Recognizer } from '../../../../src/face/recognizer.ts';
import { decodePatchMap, encodePatchMap } from '../../../../src/engine/quant/patchCodec.ts';
import { CosineIndex } from '../../../../src/engine/stage1.ts';
import { Int8CosineIndex } from '../../../../src/engine/stage1Int8.ts';
import { Int4ShortlistIndex } from '../../../../src/engine/stage1Int4.ts';
import { encodeStage1Row, stage1RowBytes } from '../../../../src/engine/quant/int8Rows.ts';
import { MemoryFaceDetails } from '../../../../src/engine/faceDetails.ts';
import { SearchEngine } from '../../../../src/engine/searchEngine.ts';
import { DEFAULT_SETTINGS } from '../../../../src/core/types.ts';
import { computeRealFeatures, type RealFeatures } from '../../../gpu/realFeatures.ts';
import { decodeImageNode } from '../../face/helpers/decodeNode.ts';
import { loadSession, modelEntry } from '../../face/helpers/models.ts';
import { coarseQuantise, expectWithinHalfStep, maxCosineError } from './patchCodecTestUtil.ts';

const FACERES_IMAGES = 8;
let mfn: RealFeatures;
let faceresMaps: PatchMap[];

function centre(img: RgbaImage, side: number): RgbaImage {
  const x0 = Math.floor((img.width - side) / 2);
  const y0 = Math.floor((img.height - side) / 2);
  const data = new Uint8ClampedArray(side * side * 4);
  for (let y = 0; y < side; y++) data.set(img.data.subarray(((y0 + y) * img.width + x0) * 4, ((y0 + y) * img.width + x0 + side) * 4), y * side * 4);
  return { width: side, height: side, data };
}

beforeAll(async () => {
  mfn = await computeRealFeatures(1000);
  const entry = modelEntry('faceres');
  const recognizer = new Recognizer(await loadSession(entry), entry);
  const faces = mfn.files.slice(0, FACERES_IMAGES).map((f) => centre(decodeImageNode(readFileSync(f), f), recognizer.inputSize));
  faceresMaps = (await recognizer.embed(faces)).map((f) => f.patches);
});

const mfnMap = (i: number): PatchMap => {
  const size = mfn.h * mfn.w * mfn.c;
  return { h: mfn.h, w: mfn.w, c: mfn.c, data: mfn.patches.slice(i * size, (i + 1) * size) };
};

describe('compact formats on real lfw-mini features', () => {
  it('Int8CosineIndex ranks MobileFaceNet embeddings as CosineIndex does: each photo against the rest, top-1 and top-10', () => {
    const n = mfn.files.length;
    const dim = mfn.embeddings.length / n;
    const rows = Array.from({ length: n }, (_, i) => mfn.embeddings.subarray(i * dim, (i + 1) * dim));
    const int8 = new Int8CosineIndex(dim);
    const f32 = new CosineIndex(dim);
    int8.add(rows);
    f32.add(rows);
    let sameTop1 = 0;
    let overlap = 0;
    for (let i = 0; i < n; i++) {
      const rest = (r: { index: number }[]) => r.filter((x) => x.index !== i).slice(0, 10);
      const a = rest(int8.topK(rows[i], 11));
      const b = rest(f32.topK(rows[i], 11));
      if (a[0].index === b[0].index) sameTop1++;
      const set = new Set(b.map((x) => x.index));
      overlap += a.filter((x) => set.has(x.index)).length;
    }
    expect(n).toBeGreaterThanOrEqual(50);
    expect(sameTop1 / n).toBeGreaterThanOrEqual(0.995);
    expect(overlap / (10 * n)).toBeGreaterThanOrEqual(0.99);
    expect(int8.byteLength * 4).toBeLessThan(f32.byteLength * 1.05);
  });

  it('Int4ShortlistIndex answers as Int8CosineIndex (rows and scores) on MobileFaceNet embeddings, each photo against the rest, top 10, reading a short list', () => {
    const n = mfn.files.length;
    const dim = mfn.embeddings.length / n;
    const rows = Array.from({ length: n }, (_, i) => mfn.embeddings.subarray(i * dim, (i + 1) * dim));
    const stored = rows.map((r) => encodeStage1Row(r));
    let reads = 0;
    const int4 = new Int4ShortlistIndex(dim, (i) => {
      reads++;
      return stored[i];
    });
    const int8 = new Int8CosineIndex(dim);
    int4.add(rows);
    int8.add(rows);
    let same = 0;
    for (let i = 0; i < n; i++) if (JSON.stringify(int4.topK(rows[i], 10)) === JSON.stringify(int8.topK(rows[i], 10))) same++;
    expect(n).toBeGreaterThanOrEqual(50);
    expect(same).toBe(n);
    expect(reads / n).toBeLessThan(n);
  });

  it("a compact engine with the records' 16-bit rows gives the float32 engine's stage-1 top 10 (ids, order, scores within 5e-6), each photo against the rest and itself", async () => {
    const n = mfn.files.length;
    const dim = mfn.embeddings.length / n;
    const ids = mfn.files.map((_, i) => `f${i}`);
    const features = (i: number) => ({ embedding: mfn.embeddings.slice(i * dim, (i + 1) * dim), patches: mfnMap(i), cropSize: 112 });
    const f32 = new SearchEngine({ accelerator: null });
    f32.add(ids.map((id, i) => ({ id, label: mfn.labels[i], features: features(i) })));
    const details = new MemoryFaceDetails({ keepFineStage1: true });
    const rows = new Uint8Array(n * stage1RowBytes(dim));
    ids.forEach((id, i) => {
      details.add(id, features(i));
      rows.set(encodeStage1Row(features(i).embedding), i * stage1RowBytes(dim));
    });
    const compact = new SearchEngine({ accelerator: null, stage1: 'int8', details });
    compact.addRows({ ids, labels: mfn.labels }, [rows], { h: mfn.h, w: mfn.w, c: mfn.c, dim });
    // Stage 1 picks the k from int8 rows, so the k-th place can differ from float32's: compare the first 11 of 20.
    const settings = { ...DEFAULT_SETTINGS, k: 20, adaptiveAlpha: null, backend: 'cpu' as const };
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const want = (await f32.search(features(i), settings)).stage1.slice(0, 11);
      const got = (await compact.search(features(i), settings)).stage1.slice(0, 11);
      expect(got.map((h) => h.id)).toEqual(want.map((h) => h.id));
      got.forEach((h, r) => (worst = Math.max(worst, Math.abs(h.score - want[r].score))));
    }
    expect(n).toBeGreaterThanOrEqual(50);
    expect(worst).toBeLessThan(5e-6);
  });

  it('MobileFaceNet maps: within scale / 2 per value, < 25,800 bytes, unit-patch cosines within 0.01 (4 levels exceed it)', () => {
    const sizes: number[] = [];
    let worstCos = 0;
    for (let i = 0; i < 8; i++) {
      const map = mfnMap(i);
      const bytes = encodePatchMap(map);
      sizes.push(bytes.length);
      const decoded = decodePatchMap(bytes);
      expectWithinHalfStep(map, decoded);
      if (i % 2 === 1) {
        const prev = mfnMap(i - 1);
        worstCos = Math.max(worstCos, maxCosineError(prev, map, decodePatchMap(encodePatchMap(prev)), decoded));
        expect(maxCosineError(prev, map, coarseQuantise(prev, 4), coarseQuantise(map, 4))).toBeGreaterThan(0.01);
      }
    }
    expect(Math.max(...sizes)).toBeLessThan(25_800);
    expect(worstCos).toBeLessThan(0.01);
    console.log(`MobileFaceNet maps: ${Math.min(...sizes)}..${Math.max(...sizes)} bytes (float32: ${mfn.h * mfn.w * mfn.c * 4}); worst unit-patch cosine error ${worstCos.toExponential(2)}`);
  });

  it('FaceRes maps (non-negative, mostly zero): within scale / 2 per value, < 13,000 bytes, cosines within 0.01 (4 levels exceed it)', () => {
    const sizes: number[] = [];
    let zeros = 0;
    let worstCos = 0;
    for (const [i, map] of faceresMaps.entries()) {
      expect([map.h, map.w, map.c]).toEqual([7, 7, 1024]);
      expect(Math.min(...map.data)).toBeGreaterThanOrEqual(0);
      zeros += map.data.filter((x) => x === 0).length / map.data.length;
      const bytes = encodePatchMap(map);
      sizes.push(bytes.length);
      const decoded = decodePatchMap(bytes);
      expectWithinHalfStep(map, decoded);
      if (i % 2 === 1) {
        const prev = faceresMaps[i - 1];
        worstCos = Math.max(worstCos, maxCosineError(prev, map, decodePatchMap(encodePatchMap(prev)), decoded));
        expect(maxCosineError(prev, map, coarseQuantise(prev, 4), coarseQuantise(map, 4))).toBeGreaterThan(0.01);
      }
    }
    expect(Math.max(...sizes)).toBeLessThan(13_000);
    expect(worstCos).toBeLessThan(0.01);
    console.log(
      `FaceRes maps: ${Math.min(...sizes)}..${Math.max(...sizes)} bytes (float32: ${7 * 7 * 1024 * 4}); ${((zeros / faceresMaps.length) * 100).toFixed(1)}% zeros; worst unit-patch cosine error ${worstCos.toExponential(2)}`,
    );
  });
});

/**
 * The WebAssembly decoder of stored patch maps (decodeUnit in src/engine/simd/dotKernel.wat)
 * against two references: the JS loop it replaces (bit for bit, on every kind of
 * patch the codec writes) and the codec's plain decoder followed by the engine's
 * normalisation (faceDetailOf), which shares no code with either.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../../src/core/random.ts';
import type { PatchMap } from '../../../../src/core/types.ts';
import { faceDetailOf } from '../../../../src/engine/faceDetails.ts';
import { decodePatchMap, decodePatchMapUnit, encodePatchMap } from '../../../../src/engine/quant/patchCodec.ts';
import { DotWorkspace } from '../../../../src/engine/simd/dotWorkspace.ts';
import { gaussian } from '../references.ts';

/** Values that are zero with probability `zeros`, else Gaussian; `signed` false takes |x| (post-ReLU). */
function map(rand: () => number, h: number, w: number, c: number, zeros: number, signed: boolean, emptyPatches: readonly number[] = []): PatchMap {
  const data = new Float32Array(h * w * c);
  for (let i = 0; i < data.length; i++) {
    if (rand() < zeros || emptyPatches.includes(Math.floor(i / c))) continue;
    const g = gaussian(rand) * 2;
    data[i] = signed ? g : Math.abs(g);
  }
  return { h, w, c, data };
}

/** Flags of each patch as written (bit 0 sparse, bit 1 signed; 0 and no payload for an all-zero patch). */
function patchFlags(bytes: Uint8Array): Set<number> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [h, w, c] = [view.getUint16(4, true), view.getUint16(6, true), view.getUint16(8, true)];
  const seen = new Set<number>();
  let o = 10;
  for (let p = 0; p < h * w; p++) {
    const flags = bytes[o];
    const scale = view.getFloat32(o + 1, true);
    o += 5;
    seen.add(scale === 0 ? -1 : flags);
    if (scale === 0) continue;
    if (flags & 1) {
      let nz = 0;
      for (let b = 0; b < Math.ceil(c / 8); b++) for (let x = bytes[o + b]; x; x &= x - 1) nz++;
      o += Math.ceil(c / 8) + nz;
    } else o += c;
  }
  return seen;
}

const rand = seededRandom(71);
const maps: PatchMap[] = [
  map(rand, 7, 7, 1024, 0.89, false, [0, 30]), // FaceRes-like: sparse unsigned, two empty patches
  map(rand, 7, 7, 512, 0.02, true), // MobileFaceNet-like: dense signed
  map(rand, 4, 4, 40, 0.85, true, [2]), // sparse signed, c not a multiple of 8
  map(rand, 3, 5, 16, 0.1, false), // dense unsigned
  map(rand, 2, 2, 9, 1, false), // all zero
];

describe('decodeUnit (dotKernel.wat)', () => {
  it('the test maps hold every kind of patch the codec writes', () => {
    const kinds = new Set(maps.flatMap((m) => [...patchFlags(encodePatchMap(m))]));
    // -1 all zero, 0 dense unsigned, 1 sparse unsigned, 2 dense signed, 3 sparse signed
    expect([...kinds].sort()).toEqual([-1, 0, 1, 2, 3]);
  });

  it('runs here (Node has WebAssembly SIMD), so the comparisons below test the kernel', () => {
    expect(new DotWorkspace().simd).toBe(true);
  });

  it('gives the JS loop bit for bit, and decodePatchMap + faceDetailOf, on every map, into fresh and lent arrays', () => {
    let lent = decodePatchMapUnit(encodePatchMap(maps[0]));
    for (const m of maps) {
      const bytes = encodePatchMap(m);
      const js = decodePatchMapUnit(bytes, undefined, 'js');
      const reference = faceDetailOf({ patches: decodePatchMap(bytes), cropSize: 112 });
      for (const wasm of [decodePatchMapUnit(bytes), (lent = decodePatchMapUnit(bytes, lent))]) {
        expect(wasm.unitPatches).toEqual(js.unitPatches);
        expect(wasm.patchNorms).toEqual(js.patchNorms);
        expect(wasm.unitAverage).toEqual(js.unitAverage);
        expect(wasm.unitPatches).toEqual(reference.unitPatches);
        expect(wasm.patchNorms).toEqual(reference.patchNorms);
        expect(wasm.unitAverage).toEqual(reference.unitAverage);
      }
    }
  });
});

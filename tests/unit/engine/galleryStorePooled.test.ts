/**
 * Coarser grids of gallery faces (GalleryStore.unitGrid below the native
 * grid): pooled once and kept for a few queries' candidates; a face pooled
 * long ago lends its array to the next one. Every row read back must be the
 * face's own pooled grid, computed afresh here, however many faces passed.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';
import { faceDetailOf, rawMapOf, type FaceDetail, type FaceDetailSource } from '../../../src/engine/faceDetails.ts';
import { GalleryStore } from '../../../src/engine/galleryStore.ts';
import { encodeStage1Row } from '../../../src/engine/quant/int8Rows.ts';
import { unitPatchGrid } from '../../../src/engine/patchGrid.ts';

const DIM = 16;
const SHAPE = { h: 7, w: 7, c: 4, dim: DIM };
/** More than the store keeps pooled (1,024), so early faces' arrays are lent to later ones. */
const FACES = 1300;

describe('GalleryStore.unitGrid on a coarser grid', () => {
  it("gives every face its own pooled grid while evicted faces' arrays are reused", () => {
    const rand = seededRandom(17);
    const details = new Map<string, FaceDetail>();
    const ids = Array.from({ length: FACES }, (_, i) => `face-${i}`);
    for (const id of ids) {
      const data = Float32Array.from({ length: 49 * SHAPE.c }, () => Math.max(0, rand() - 0.4));
      details.set(id, faceDetailOf({ patches: { h: 7, w: 7, c: SHAPE.c, data }, landmarks68: undefined, cropSize: 112 }));
    }
    const source: FaceDetailSource = {
      read: (id) => {
        const d = details.get(id);
        if (!d) throw new Error(`no face ${id}`);
        return d;
      },
    };
    const store = new GalleryStore({ stage1: 'int8', details: source });
    const rows = ids.map(() => encodeStage1Row(Float32Array.from({ length: DIM }, () => rand() - 0.5)));
    store.addRows({ ids, labels: ids }, [rows.reduce((all, r, i) => (all.set(r, i * r.length), all), new Uint8Array(rows.length * rows[0].length))], SHAPE);
    const want = (pos: number, grid: number) => unitPatchGrid(rawMapOf(source.read(ids[pos]), 7, 7, SHAPE.c), grid);
    const first = new Map<number, Float32Array>();
    for (let pos = 0; pos < FACES; pos++) {
      const got = store.unitGrid(pos, 4);
      if (pos < 10) first.set(pos, got);
      expect(Array.from(got)).toEqual(Array.from(want(pos, 4)));
    }
    // The first faces were evicted and their arrays went to later faces; read again, they are pooled afresh.
    const lent = new Set([...first.values()]);
    expect([...Array(10).keys()].map((i) => lent.has(store.unitGrid(1024 + i, 4))).some(Boolean)).toBe(true);
    for (let pos = 0; pos < 10; pos++) expect(Array.from(store.unitGrid(pos, 4))).toEqual(Array.from(want(pos, 4)));
    // Another grid's array is never lent to a grid of a different size.
    for (let pos = 0; pos < 40; pos++) expect(Array.from(store.unitGrid(pos, 3))).toEqual(Array.from(want(pos, 3)));
  });
});

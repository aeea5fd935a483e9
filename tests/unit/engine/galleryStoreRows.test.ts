/**
 * Start-up's path into the engine: stored stage-1 rows arriving in chunks
 * (GalleryStore.addRows). Checked against the same embeddings added as
 * floats through Int8CosineIndex.add, which quantises them itself.
 */
import { describe, expect, it } from 'vitest';
import { GalleryStore } from '../../../src/engine/galleryStore.ts';
import { Int8CosineIndex } from '../../../src/engine/stage1Int8.ts';
import { encodeStage1Row, stage1RowBytes } from '../../../src/engine/quant/int8Rows.ts';
import type { FaceDetailSource } from '../../../src/engine/faceDetails.ts';

const DIM = 48;
const SHAPE = { h: 2, w: 2, c: 4, dim: DIM };
const noDetails: FaceDetailSource = {
  read: () => {
    throw new Error('stage 1 only');
  },
};

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
}

const rnd = seeded(7);
const embeddings = Array.from({ length: 37 }, () => Float32Array.from({ length: DIM }, rnd));
const ids = embeddings.map((_, i) => `face-${i}`);
const labels = embeddings.map((_, i) => `person-${i % 5}`);
const entries = { ids, labels };
const slice = (from: number, to: number) => ({ ids: ids.slice(from, to), labels: labels.slice(from, to) });
const encoded = embeddings.map(encodeStage1Row);

/** The rows split into chunks of `rowsPerChunk`, each chunk copied into one reused buffer as a reader does. */
function* chunked(rows: readonly Uint8Array[], rowsPerChunk: number): Generator<Uint8Array> {
  const rowBytes = stage1RowBytes(DIM);
  const buffer = new Uint8Array(rowsPerChunk * rowBytes);
  for (let first = 0; first < rows.length; first += rowsPerChunk) {
    const part = rows.slice(first, first + rowsPerChunk);
    part.forEach((r, i) => buffer.set(r, i * rowBytes));
    yield buffer.subarray(0, part.length * rowBytes);
  }
}

const store = () => new GalleryStore({ stage1: 'int8', details: noDetails });

describe('GalleryStore.addRows from chunks', () => {
  it('holds exactly the rows Int8CosineIndex.add makes from the same embeddings, whatever the chunking', () => {
    const reference = new Int8CosineIndex(DIM, { forceJs: true });
    reference.add(embeddings);
    const query = Float32Array.from({ length: DIM }, rnd);
    for (const rowsPerChunk of [1, 5, 36, 37, 100]) {
      const g = store();
      g.addRows(entries, chunked(encoded, rowsPerChunk), SHAPE);
      expect(g.size).toBe(embeddings.length);
      expect(g.ids).toEqual(ids);
      embeddings.forEach((_, i) => expect(Array.from(g.stage1.row(i))).toEqual(Array.from(reference.row(i))));
      expect(g.stage1.topK(query, 10)).toEqual(reference.topK(query, 10));
    }
  });

  it('adds nothing when a later chunk is damaged, and can load again afterwards', () => {
    const damaged = encoded.map((r) => r.slice());
    new DataView(damaged[30].buffer).setFloat32(0, Number.NaN, true);
    const g = store();
    expect(() => g.addRows(entries, chunked(damaged, 8), SHAPE)).toThrow(/scale NaN/);
    expect(g.size).toBe(0);
    g.addRows(entries, chunked(encoded, 8), SHAPE);
    expect(g.size).toBe(ids.length);
  });

  it('refuses an id listed twice or already present, and keeps what was there', () => {
    const g = store();
    g.addRows(slice(0, 3), chunked(encoded.slice(0, 3), 2), SHAPE);
    const twice = { ids: ['new-a', 'new-b', 'new-a'], labels: ['x', 'y', 'z'] };
    expect(() => g.addRows(twice, chunked(encoded.slice(3, 6), 2), SHAPE)).toThrow(/new-a is already present/);
    const again = { ids: ['new-c', ids[1]], labels: ['x', 'y'] };
    expect(() => g.addRows(again, chunked(encoded.slice(3, 5), 2), SHAPE)).toThrow(/face-1 is already present/);
    expect(g.ids).toEqual(ids.slice(0, 3));
    expect(g.labels).toEqual(labels.slice(0, 3));
    expect(g.stage1.size).toBe(3);
    expect(g.has('new-a') || g.has('new-c')).toBe(false);
    expect(g.labelOf(ids[2])).toBe(labels[2]);
    g.addRows(slice(3, 6), chunked(encoded.slice(3, 6), 2), SHAPE);
    expect(g.ids).toEqual(ids.slice(0, 6));
  });

  it('refuses ids and labels of different lengths', () => {
    expect(() => store().addRows({ ids: ids.slice(0, 2), labels: labels.slice(0, 1) }, chunked(encoded.slice(0, 2), 2), SHAPE)).toThrow(/2 stored ids but 1 labels/);
  });

  it('refuses rows that do not match the entries, keeping what was there', () => {
    const g = store();
    g.addRows(slice(0, 3), chunked(encoded.slice(0, 3), 2), SHAPE);
    const more = slice(3, 10);
    expect(() => g.addRows(more, chunked(encoded.slice(3, 9), 4), SHAPE)).toThrow(/lists 7 faces but holds 6/);
    expect(g.size).toBe(3);
    expect(g.stage1.size).toBe(3);
    expect(() => g.addRows(more, chunked(encoded.slice(3, 11), 4), SHAPE)).toThrow(/lists 7 faces but holds 8/);
    expect(g.stage1.size).toBe(3);
  });
});

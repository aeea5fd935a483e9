/** Synthetic face records and a reference model of what a store should hold, for the face record store tests. */
import { expect } from 'vitest';
import type { RandomSource } from '../../../src/core/random.ts';
import type { FaceRecordMeta, FaceRecordStore, NewFaceRecord } from '../../../src/storage/faceRecordStore.ts';

export const ROW_BYTES = 24;
const LABELS = ['alice', 'bob', 'carol', 'dörte', '张伟'];

export function randomHash(rand: RandomSource): string {
  let s = '';
  for (let i = 0; i < 64; i++) s += Math.floor(rand() * 16).toString(16);
  return s;
}

function randomBytes(rand: RandomSource, n: number): Uint8Array {
  return Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
}

export function randomRecord(rand: RandomSource, i: number, hash = randomHash(rand)): NewFaceRecord {
  return {
    hash,
    label: LABELS[Math.floor(rand() * LABELS.length)],
    fileName: rand() < 0.2 ? `ordner/bild ${i} é.jpg` : `img_${i}.jpg`,
    addedAt: 1_700_000_000_000 + i,
    stage1: randomBytes(rand, ROW_BYTES),
    // Empty details and thumbnails happen (a record without a thumbnail): they must round-trip too.
    detail: randomBytes(rand, rand() < 0.1 ? 0 : Math.floor(rand() * 300)),
    thumbnail: randomBytes(rand, rand() < 0.1 ? 0 : Math.floor(rand() * 80)),
    thumbnailType: rand() < 0.5 ? 'image/jpeg' : 'image/webp',
  };
}

export type Op = { kind: 'append'; records: NewFaceRecord[] } | { kind: 'delete'; hashes: string[] } | { kind: 'relabel'; hashes: string[]; label: string } | { kind: 'compact' };

export interface ModelFace {
  readonly record: NewFaceRecord;
  readonly label: string;
}

/** What the store should hold: live faces in the order they were added (a face added again after a delete goes last, as its new slot does). */
export class Model {
  readonly faces = new Map<string, ModelFace>();

  clone(): Model {
    const m = new Model();
    for (const [h, f] of this.faces) m.faces.set(h, f);
    return m;
  }

  /** The atomic steps of an operation: one per face of an append (a batch may survive a crash in part), one for a delete or relabel. */
  static steps(op: Op): number {
    return op.kind === 'append' ? op.records.length : 1;
  }

  /** Applies the first `steps` steps of an operation. */
  apply(op: Op, steps = Model.steps(op)): void {
    if (op.kind === 'append') {
      for (const r of op.records.slice(0, steps)) this.faces.set(r.hash, { record: r, label: r.label });
    } else if (op.kind === 'delete') {
      for (const h of op.hashes) this.faces.delete(h);
    } else if (op.kind === 'relabel') {
      for (const h of op.hashes) {
        const f = this.faces.get(h);
        if (f) this.faces.set(h, { record: f.record, label: op.label });
      }
    }
    // A compaction changes no face.
  }
}

/** A random sequence of operations that keeps to the API's rules (no adding a face that is present). */
export function randomOps(rand: RandomSource, count: number, startIndex = 0): Op[] {
  const model = new Model();
  const deleted: string[] = [];
  const ops: Op[] = [];
  let next = startIndex;
  for (let k = 0; k < count; k++) {
    const live = [...model.faces.keys()];
    const roll = rand();
    let op: Op;
    if (live.length > 0 && roll > 0.92) {
      op = { kind: 'compact' };
    } else if (live.length === 0 || roll < 0.6) {
      const n = 1 + Math.floor(rand() * 6);
      const records: NewFaceRecord[] = [];
      for (let i = 0; i < n; i++) {
        // Now and then a face deleted earlier comes back, with other bytes: it must get a new slot and its new content.
        const back = deleted.length > 0 && rand() < 0.15 ? deleted.splice(Math.floor(rand() * deleted.length), 1)[0] : undefined;
        records.push(randomRecord(rand, next++, back));
      }
      op = { kind: 'append', records };
    } else {
      const pick = live.filter(() => rand() < 0.3);
      const hashes = pick.length > 0 ? pick : [live[0]];
      if (roll < 0.8) {
        op = { kind: 'delete', hashes };
        deleted.push(...hashes);
      } else {
        op = { kind: 'relabel', hashes, label: `relabelled ${k}` };
      }
    }
    model.apply(op);
    ops.push(op);
  }
  return ops;
}

export async function runOp(store: FaceRecordStore, op: Op): Promise<void> {
  if (op.kind === 'append') store.append(op.records);
  else if (op.kind === 'delete') store.delete(op.hashes);
  else if (op.kind === 'relabel') store.relabel(op.hashes, op.label);
  else await store.compact();
}

export interface StoredView {
  readonly metas: FaceRecordMeta[];
  readonly rows: Uint8Array;
}

export function storedView(store: FaceRecordStore): StoredView {
  const metas: FaceRecordMeta[] = [];
  store.forEachMeta((m, position) => {
    expect(position).toBe(metas.length);
    metas.push(m);
  });
  return { metas, rows: store.stage1Rows() };
}

/** Whether the store holds exactly the model's faces, byte for byte, in its order (no expect: callers search several models). */
export function holdsExactly(store: FaceRecordStore, model: Model): boolean {
  const view = storedView(store);
  const faces = [...model.faces.values()];
  if (store.count !== faces.length || view.metas.length !== faces.length) return false;
  const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);
  // Start-up's listing: prefixed keys and labels, in the same order.
  const listing = store.listing('model@v1|');
  if (listing.keys.length !== faces.length || listing.labels.length !== faces.length) return false;
  for (let i = 0; i < faces.length; i++) {
    const { record: r, label } = faces[i];
    const m = view.metas[i];
    if (m.hash !== r.hash || m.label !== label || m.fileName !== r.fileName || m.addedAt !== r.addedAt) return false;
    if (listing.keys[i] !== `model@v1|${r.hash}` || listing.labels[i] !== label || store.fileName(r.hash) !== r.fileName) return false;
    if (!same(view.rows.subarray(i * ROW_BYTES, (i + 1) * ROW_BYTES), r.stage1)) return false;
    if (!same(store.readStage1(r.hash), r.stage1) || !same(store.readDetail(r.hash), r.detail)) return false;
    const t = store.readThumbnail(r.hash);
    if (!same(t.bytes, r.thumbnail) || t.type !== r.thumbnailType) return false;
  }
  return true;
}

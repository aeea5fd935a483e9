/**
 * Dedicated worker for tests/gpu/opfsStore.spec.ts: FaceRecordStore on the
 * real Origin Private File System (sync access handles exist only in
 * dedicated workers). Loaded by the harness page through Vite's dev server.
 */
import { AppError } from '../../src/core/errors.ts';
import { seededRandom } from '../../src/core/random.ts';
import { FaceRecordStore, type NewFaceRecord } from '../../src/storage/faceRecordStore.ts';
import type { GalleryDirectory } from '../../src/storage/randomAccessFile.ts';
import { openOpfsGallery } from '../../workers/storage/opfsDirectory.ts';

/** Leaves the spec's gallery folder empty (a run before this one may have left files). */
async function emptyGallery(dir: GalleryDirectory): Promise<void> {
  for (const name of await dir.names()) await dir.remove(name);
}

export interface OpfsStoreRequest {
  readonly faces: number;
  readonly batch: number;
  readonly rowBytes: number;
  readonly detailBytes: number;
  readonly thumbnailBytes: number;
}

export interface OpfsStoreResult {
  readonly ok: boolean;
  readonly error?: string;
  readonly appendMs?: number;
  readonly replayMs?: number;
  readonly stage1RowsMs?: number;
  readonly countAfterReopen?: number;
  readonly mismatches?: number;
  readonly secondOpen?: { code: string; message: string; hint: string };
  readonly afterDelete?: { count: number; relabelled: string | undefined; recovery: string };
  readonly compactMs?: number;
  readonly afterCompact?: { count: number; deadFaces: number; lastDetailSame: boolean; relabelled: string | undefined };
  readonly names?: string[];
  readonly stats?: { stage1Bytes: number; facesBytes: number; logBytes: number };
}

const GALLERY = 'opfs spec/model@1';

function record(i: number, req: OpfsStoreRequest): NewFaceRecord {
  const rand = seededRandom(i);
  const bytes = (n: number) => Uint8Array.from({ length: n }, () => Math.floor(rand() * 256));
  return {
    hash: i.toString(16).padStart(64, '0'),
    label: `person ${i % 50}`,
    fileName: `faces/img_${i}.jpg`,
    addedAt: 1_700_000_000_000 + i,
    stage1: bytes(req.rowBytes),
    detail: bytes(req.detailBytes),
    thumbnail: bytes(req.thumbnailBytes),
    thumbnailType: 'image/jpeg',
  };
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

async function run(req: OpfsStoreRequest): Promise<OpfsStoreResult> {
  const dir = await openOpfsGallery(GALLERY);
  await emptyGallery(dir);
  const store = await FaceRecordStore.open(dir, { stage1RowBytes: req.rowBytes });
  const records = Array.from({ length: req.faces }, (_, i) => record(i, req));
  const t0 = performance.now();
  for (let first = 0; first < req.faces; first += req.batch) store.append(records.slice(first, first + req.batch));
  const appendMs = performance.now() - t0;

  // The files are locked while the store holds them: a second store (another tab) must be told so.
  let secondOpen: OpfsStoreResult['secondOpen'];
  try {
    await FaceRecordStore.open(await openOpfsGallery(GALLERY), { stage1RowBytes: req.rowBytes });
  } catch (e) {
    if (!(e instanceof AppError)) throw e;
    secondOpen = { code: e.code, message: e.message, hint: e.hint };
  }
  store.close();

  const t1 = performance.now();
  const again = await FaceRecordStore.open(await openOpfsGallery(GALLERY), { stage1RowBytes: req.rowBytes });
  const replayMs = performance.now() - t1;
  const t2 = performance.now();
  const rows = again.stage1Rows();
  const stage1RowsMs = performance.now() - t2;
  let mismatches = 0;
  again.forEachMeta((m, position) => {
    const r = records[position];
    if (m.hash !== r.hash || m.label !== r.label || m.fileName !== r.fileName || m.addedAt !== r.addedAt) mismatches++;
    if (!equal(rows.subarray(position * req.rowBytes, (position + 1) * req.rowBytes), r.stage1)) mismatches++;
  });
  for (let i = 0; i < req.faces; i += 97) {
    const r = records[i];
    if (!equal(again.readDetail(r.hash), r.detail) || !equal(again.readThumbnail(r.hash).bytes, r.thumbnail)) mismatches++;
  }
  const countAfterReopen = again.count;
  again.delete([records[0].hash, records[1].hash]);
  again.relabel([records[2].hash], 'relabelled');
  const s = again.stats();
  again.close();

  const third = await FaceRecordStore.open(await openOpfsGallery(GALLERY), { stage1RowBytes: req.rowBytes });
  const afterDelete = { count: third.count, relabelled: third.meta(records[2].hash)?.label, recovery: third.recovery.stoppedAt };
  const t3 = performance.now();
  await third.compact();
  const compactMs = performance.now() - t3;
  third.close();
  const fourth = await FaceRecordStore.open(await openOpfsGallery(GALLERY), { stage1RowBytes: req.rowBytes });
  const last = records[req.faces - 1];
  const afterCompact = { count: fourth.count, deadFaces: fourth.stats().deadFaces, lastDetailSame: equal(fourth.readDetail(last.hash), last.detail), relabelled: fourth.meta(records[2].hash)?.label };
  fourth.close();
  const names = (await dir.names()).sort();
  await emptyGallery(dir);
  return {
    ok: true,
    appendMs,
    replayMs,
    stage1RowsMs,
    countAfterReopen,
    mismatches,
    secondOpen,
    afterDelete,
    compactMs,
    afterCompact,
    names,
    stats: { stage1Bytes: s.stage1Bytes, facesBytes: s.facesBytes, logBytes: s.logBytes },
  };
}

addEventListener('message', (ev: MessageEvent<OpfsStoreRequest>) => {
  run(ev.data).then(
    (result) => postMessage(result),
    (e: unknown) => postMessage({ ok: false, error: e instanceof AppError ? `${e.code}: ${e.message} (${e.hint})` : String(e) } satisfies OpfsStoreResult),
  );
});

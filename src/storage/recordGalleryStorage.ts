/**
 * The app's gallery storage (GalleryStoragePort) on FaceRecordStores: one
 * directory per recognizer and storage format, faces as records encoded by
 * faceRecordCodec. Start-up reads the log and one block of stage-1 rows;
 * stage 2 reads its candidates' records synchronously through `details()`.
 * Plain TS over the GalleryDirectory port: the engine worker passes OPFS
 * (workers/storage/opfsDirectory.ts), unit tests in-memory files.
 */
import { AppError } from '../core/errors.ts';
import type { FaceDetail, FaceDetailSource } from '../engine/faceDetails.ts';
import type { GalleryShape, Stage1Format } from '../engine/galleryStore.ts';
import type { AlignedImageType } from '../app/extractTypes.ts';
import type { GalleryStoragePort, ImportJournal, StoredGalleryIndex } from '../app/ports.ts';
import { faceKey, faceKeyPrefix, type StoredFace } from '../app/storedFace.ts';
import { decodeDetail, decodeFaceDetail, decodeStage1, encodeDetail, encodeStage1, patchCodecBytesOf, readFineStage1, readVisibleEmbedding, stage1RowBytes } from './faceRecordCodec.ts';
import type { StorageFormat } from './storageFormat.ts';
import { FaceRecordStore } from './faceRecordStore.ts';
import type { GalleryDirectory } from './randomAccessFile.ts';
import { readGalleryShape, writeGalleryShape } from './galleryShapeFile.ts';

/** A thumbnail as stored. */
export interface EncodedThumbnail {
  readonly bytes: Uint8Array;
  readonly type: string;
}

/**
 * How the compact format keeps thumbnails: as JPEG. Imports ask the extraction workers for JPEG already; a thumbnail
 * in another type (an export's PNG, a migrated gallery) is converted by `encode`.
 */
export interface ThumbnailEncoding {
  readonly type: AlignedImageType;
  readonly encode: (thumbnail: Blob) => Promise<EncodedThumbnail>;
}

export interface RecordGalleryStorageOptions {
  readonly format: StorageFormat;
  /** The directory of one gallery (created when missing). */
  readonly directory: (name: string) => Promise<GalleryDirectory>;
  /** Left out: thumbnails are stored as given (their type is taken to be PNG, what every version made them). */
  readonly thumbnails?: ThumbnailEncoding;
  /** A delete compacts the gallery once deleted faces hold at least this many bytes and at least as many as the live ones (default 32 MiB). */
  readonly compactAtDeadBytes?: number;
}

const DEFAULT_COMPACT_AT_DEAD_BYTES = 32 << 20;

/** Decoded details kept for the faces last read: stage 2 asks for each candidate's patches, average and landmarks in turn, and the flow view for the same faces again. */
const DETAIL_CACHE_FACES = 160;
/** The row size an empty gallery's store is opened with (it holds no rows). */
const EMPTY_GALLERY_ROW_BYTES = 1;

interface OpenGallery {
  readonly dir: GalleryDirectory;
  store: FaceRecordStore;
  shape: GalleryShape | null;
  /** Set while (or once) the first face's shape is being written. */
  shaping?: Promise<void>;
  readonly cache: Map<string, FaceDetail>;
  /** Records are read into this and decoded or copied at once (see FaceRecordStore.readDetail); it grows to the longest. */
  scratch: Uint8Array;
  /** Where readStage1Row reads a row. */
  rowScratch: Uint8Array;
  /** Where readStage1Fine decodes a record's fine stage-1 row. */
  fineScratch: Float32Array;
}

/** A compact record of the default recognizer is ~12 kB; a float32 one ~200 kB (the scratch grows to it once). */
const INITIAL_SCRATCH_BYTES = 64 * 1024;

export class RecordGalleryStorage implements GalleryStoragePort {
  readonly stage1Format: Stage1Format;
  readonly thumbnailType: AlignedImageType;
  private readonly galleries = new Map<string, Promise<OpenGallery>>();
  private readonly opened = new Map<string, OpenGallery>();

  constructor(private readonly options: RecordGalleryStorageOptions) {
    this.stage1Format = options.format === 'compact' ? 'int8' : 'float32';
    this.thumbnailType = options.thumbnails?.type ?? 'image/png';
  }

  get format(): StorageFormat {
    return this.options.format;
  }

  /** The directory name of one model's gallery in this format (OPFS names may not hold '/' or '\'). */
  directoryName(modelKey: string): string {
    return `${modelKey.replace(/[^A-Za-z0-9._@-]/g, '_')}.${this.options.format}`;
  }

  private gallery(modelKey: string): Promise<OpenGallery> {
    let g = this.galleries.get(modelKey);
    if (!g) {
      g = this.openGallery(modelKey);
      this.galleries.set(modelKey, g);
      g.catch(() => this.galleries.delete(modelKey));
    }
    return g;
  }

  /** The open gallery once any first-face set-up has finished (its store is closed and reopened meanwhile). */
  private async ready(modelKey: string): Promise<OpenGallery> {
    const g = await this.gallery(modelKey);
    if (g.shaping) await g.shaping;
    return g;
  }

  private async openGallery(modelKey: string): Promise<OpenGallery> {
    const dir = await this.options.directory(this.directoryName(modelKey));
    const shape = await readGalleryShape(dir);
    // A gallery that never held a face has no row size yet: its (empty) store is reopened with the real one at the first put.
    const store = await FaceRecordStore.open(dir, { stage1RowBytes: shape ? stage1RowBytes(this.options.format, shape.dim) : EMPTY_GALLERY_ROW_BYTES });
    const g: OpenGallery = { dir, store, shape, cache: new Map(), scratch: new Uint8Array(INITIAL_SCRATCH_BYTES), rowScratch: new Uint8Array(0), fineScratch: new Float32Array(0) };
    this.opened.set(modelKey, g);
    return g;
  }

  async loadIndex(modelKey: string): Promise<StoredGalleryIndex> {
    const { store, shape } = await this.ready(modelKey);
    const { keys, labels } = store.listing(faceKeyPrefix(modelKey));
    return { keys, labels, rows: store.stage1RowChunks(), shape: keys.length ? shape : null };
  }

  fileNameOf(key: string): string | undefined {
    const [modelKey, hash] = splitKey(key);
    return this.opened.get(modelKey)?.store.fileName(hash);
  }

  details(modelKey: string): FaceDetailSource {
    return {
      read: (id) => {
        const g = this.opened.get(modelKey);
        if (!g) throw new AppError('internal', 'the gallery was read before it was opened', 'Reload the page.');
        let d = g.cache.get(id);
        if (d) {
          g.cache.delete(id);
        } else {
          // The face read longest ago lends its arrays (FaceDetailSource allows it): no fresh 200 kB per candidate.
          let spare: FaceDetail | undefined;
          if (g.cache.size >= DETAIL_CACHE_FACES) {
            const oldest = g.cache.entries().next();
            if (!oldest.done) {
              g.cache.delete(oldest.value[0]);
              spare = oldest.value[1];
            }
          }
          // The decoder copies what it keeps, so the record can be read into the scratch.
          d = decodeFaceDetail(this.options.format, this.readScratch(g, id), spare);
        }
        g.cache.set(id, d);
        return d;
      },
      // Lent, not cached: the bytes are the scratch's until the next read (a re-read costs ~5 us in Chromium).
      readEncoded: (id) => {
        const g = this.opened.get(modelKey);
        if (!g) throw new AppError('internal', 'the gallery was read before it was opened', 'Reload the page.');
        return { format: this.options.format, bytes: this.readScratch(g, id) };
      },
      // Lent as readEncoded's: the map's part of the record in the scratch. Only compact records hold the codec's bytes.
      ...(this.options.format === 'compact'
        ? {
            readPatchCodec: (id: string) => {
              const g = this.opened.get(modelKey);
              if (!g) throw new AppError('internal', 'the gallery was read before it was opened', 'Reload the page.');
              return patchCodecBytesOf(this.options.format, this.readScratch(g, id));
            },
          }
        : {}),
      // Lent: one row buffer per gallery, overwritten by the next read (4-bit galleries read a short list a query).
      readStage1Row: (id) => {
        const g = this.opened.get(modelKey);
        if (!g) throw new AppError('internal', 'the gallery was read before it was opened', 'Reload the page.');
        if (g.rowScratch.length !== g.store.stage1RowBytes) g.rowScratch = new Uint8Array(g.store.stage1RowBytes);
        return g.store.readStage1(hashOf(id), g.rowScratch);
      },
      readVisible: (id, kind) => {
        const g = this.opened.get(modelKey);
        if (!g) throw new AppError('internal', 'the gallery was read before it was opened', 'Reload the page.');
        const cached = g.cache.get(id);
        if (cached) return cached.visibleEmbeddings?.[kind] ?? null;
        return readVisibleEmbedding(this.options.format, this.readScratch(g, id), kind);
      },
      // Stage 2 asks right after reading the candidates' records, so this re-read is the page cache's (~5 us a face).
      // Lent: decoded into one buffer per gallery, overwritten by the next read (no fresh array per candidate).
      readStage1Fine: (id) => {
        const g = this.opened.get(modelKey);
        if (!g) throw new AppError('internal', 'the gallery was read before it was opened', 'Reload the page.');
        const cached = g.cache.get(id);
        if (cached) return cached.stage1Fine ?? null;
        const fine = readFineStage1(this.options.format, this.readScratch(g, id), g.fineScratch);
        if (fine) g.fineScratch = fine;
        return fine;
      },
    };
  }

  /** Face `id`'s record in the gallery's scratch (valid until its next read), which grows for a longer record. */
  private readScratch(g: OpenGallery, id: string): Uint8Array {
    const bytes = g.store.readDetail(hashOf(id), g.scratch);
    if (bytes.buffer !== g.scratch.buffer) g.scratch = new Uint8Array(2 ** Math.ceil(Math.log2(bytes.length)));
    return bytes;
  }

  async put(face: StoredFace): Promise<void> {
    await this.putBatch([face]);
  }

  /**
   * Stores faces of one model in one commit (one flush of the data, then one of the log): what a bulk writer
   * (the scale bench, a migration) uses; after a crash a prefix of the batch may be present, each face whole.
   */
  async putBatch(faces: readonly StoredFace[]): Promise<void> {
    if (faces.length === 0) return;
    const modelKey = faces[0].modelKey;
    if (faces.some((f) => f.modelKey !== modelKey)) throw new AppError('internal', 'one batch held faces of two recognizers', 'Store each recognizer’s faces separately.');
    const g = await this.ready(modelKey);
    const first = faces[0];
    const shape = { h: first.patches.h, w: first.patches.w, c: first.patches.c, dim: first.embedding.length };
    // Concurrent puts (the import runs several lanes) must not each set up the first face's shape.
    g.shaping ??= this.setShape(g, shape);
    await g.shaping;
    const records = [];
    for (const face of faces) {
      const encoding = this.options.thumbnails;
      const thumb =
        encoding && face.thumbnail.type !== encoding.type ? await encoding.encode(face.thumbnail) : { bytes: new Uint8Array(await face.thumbnail.arrayBuffer()), type: face.thumbnail.type };
      records.push({
        hash: face.contentHash,
        label: face.label,
        fileName: face.fileName,
        addedAt: face.addedAt,
        stage1: encodeStage1(this.options.format, face.embedding),
        detail: encodeDetail(this.options.format, {
          patches: face.patches,
          landmarks68: face.landmarks68,
          cropSize: face.cropSize,
          visibleEmbeddings: face.visibleEmbeddings,
          stage1Fine: face.embedding,
        }),
        thumbnail: thumb.bytes,
        thumbnailType: thumb.type,
      });
    }
    g.store.append(records);
  }

  /** Before the first face: the shape file, then the store reopened with the stage-1 row size it implies. */
  private async setShape(g: OpenGallery, shape: GalleryShape): Promise<void> {
    if (g.shape) return;
    await writeGalleryShape(g.dir, shape);
    const journal = g.store.readJournal();
    g.store.close();
    g.store = await FaceRecordStore.open(g.dir, { stage1RowBytes: stage1RowBytes(this.options.format, shape.dim) });
    if (journal) g.store.writeJournal(journal);
    g.shape = shape;
  }

  async has(key: string): Promise<boolean> {
    const g = await this.ready(modelKeyOf(key));
    return g.store.has(hashOf(key));
  }

  async get(key: string): Promise<StoredFace | undefined> {
    const modelKey = modelKeyOf(key);
    const g = await this.ready(modelKey);
    const hash = hashOf(key);
    const meta = g.store.meta(hash);
    if (!meta || !g.shape) return undefined;
    return this.decodeFace(g, modelKey, meta, g.shape);
  }

  async thumbnail(key: string): Promise<Blob | undefined> {
    const g = await this.ready(modelKeyOf(key));
    const hash = hashOf(key);
    return g.store.has(hash) ? thumbnailBlob(g.store, hash) : undefined;
  }

  private decodeFace(g: OpenGallery, modelKey: string, meta: { hash: string; label: string; fileName: string; addedAt: number }, shape: GalleryShape): StoredFace {
    const detail = decodeDetail(this.options.format, g.store.readDetail(meta.hash));
    return {
      key: faceKey(modelKey, meta.hash),
      modelKey,
      contentHash: meta.hash,
      label: meta.label,
      fileName: meta.fileName,
      addedAt: meta.addedAt,
      // The finer of the two stored copies: an export then carries the vector at 16 bits, not 8.
      embedding: detail.stage1Fine ?? decodeStage1(this.options.format, g.store.readStage1(meta.hash), shape.dim),
      patches: detail.patches,
      landmarks68: detail.landmarks68,
      cropSize: detail.cropSize,
      ...(Object.keys(detail.visibleEmbeddings ?? {}).length ? { visibleEmbeddings: detail.visibleEmbeddings } : {}),
      thumbnail: thumbnailBlob(g.store, meta.hash),
    };
  }

  async forEach(modelKey: string, onFace: (f: StoredFace) => void): Promise<number> {
    const g = await this.ready(modelKey);
    const shape = g.shape;
    if (!shape) return 0;
    const metas: { hash: string; label: string; fileName: string; addedAt: number }[] = [];
    g.store.forEachMeta((m) => metas.push(m));
    for (const m of metas) onFace(this.decodeFace(g, modelKey, m, shape));
    return metas.length;
  }

  async delete(keys: readonly string[]): Promise<void> {
    const byModel = new Map<string, string[]>();
    for (const k of keys) byModel.set(modelKeyOf(k), [...(byModel.get(modelKeyOf(k)) ?? []), hashOf(k)]);
    for (const [modelKey, hashes] of byModel) {
      const g = await this.ready(modelKey);
      g.store.delete(hashes);
      for (const h of hashes) {
        g.cache.delete(faceKey(modelKey, h));
      }
      await this.compactIfMostlyDead(g, modelKey);
    }
  }

  /**
   * Deleted faces keep their bytes until a compaction; without one, a gallery whose faces were mostly removed would
   * hold its old size on disk for good. Rewriting costs about the live bytes, so it waits until the dead ones are at
   * least as many. The delete itself is already committed: a compaction the quota refuses leaves the gallery as it
   * was, which a later delete tries again.
   */
  private async compactIfMostlyDead(g: OpenGallery, modelKey: string): Promise<void> {
    const stats = g.store.stats();
    const liveBytes = stats.stage1Bytes + stats.facesBytes - stats.deadBytes;
    if (stats.deadBytes < (this.options.compactAtDeadBytes ?? DEFAULT_COMPACT_AT_DEAD_BYTES) || stats.deadBytes < liveBytes) return;
    try {
      await g.store.compact();
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'storage-quota')) throw e;
      console.warn(`not compacting the gallery of ${modelKey} now: ${e.message}`);
    }
  }

  async relabel(keys: readonly string[], label: string): Promise<void> {
    if (keys.length === 0) return;
    const g = await this.ready(modelKeyOf(keys[0]));
    g.store.relabel(
      keys.map((k) => hashOf(k)),
      label,
    );
  }

  async clear(modelKey: string): Promise<void> {
    const g = await this.ready(modelKey);
    g.store.clear();
    g.cache.clear();
  }

  async readJournal(modelKey: string): Promise<ImportJournal | undefined> {
    return (await this.ready(modelKey)).store.readJournal();
  }

  async writeJournal(journal: ImportJournal): Promise<void> {
    (await this.ready(journal.modelKey)).store.writeJournal(journal);
  }

  async clearJournal(modelKey: string): Promise<void> {
    (await this.ready(modelKey)).store.clearJournal();
  }

  /** Bytes on disk of one model's gallery (benches, the README's limits). */
  async stats(modelKey: string): Promise<ReturnType<FaceRecordStore['stats']>> {
    return (await this.ready(modelKey)).store.stats();
  }

  close(): void {
    for (const g of this.opened.values()) g.store.close();
    this.opened.clear();
    this.galleries.clear();
  }
}

function thumbnailBlob(store: FaceRecordStore, hash: string): Blob {
  const thumb = store.readThumbnail(hash);
  return new Blob([thumb.bytes.slice().buffer], { type: thumb.type });
}

/** Keys are `${modelKey}|${contentHash}` (src/app/storedFace.ts). */
function splitKey(key: string): [string, string] {
  const at = key.lastIndexOf('|');
  if (at < 0) throw new AppError('unknown-id', `${key} is not a gallery face key`, 'Run the query again.');
  return [key.slice(0, at), key.slice(at + 1)];
}

function modelKeyOf(key: string): string {
  return splitKey(key)[0];
}

function hashOf(key: string): string {
  return splitKey(key)[1];
}

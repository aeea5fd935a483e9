/**
 * The labelled gallery of the active recognizer: the records on disk
 * (GalleryStoragePort), the search index built from them (SearchEngine) and
 * the labels the UI lists, kept in step. Every edit writes to disk first, so
 * a failed write leaves memory and disk agreeing.
 */
import { AppError } from '../core/errors.ts';
import type { AlignedImageType } from './extractTypes.ts';
import { SearchEngine, type SearchEngineOptions } from '../engine/searchEngine.ts';
import type { GalleryInfo, GalleryItemView } from './engineApi.ts';
import { migrateLegacyGallery, type LegacyGalleryPort, type MigrationProgress } from '../storage/migrateLegacyGallery.ts';
import type { GalleryStoragePort, ImportJournal } from './ports.ts';
import { storedToFeatures, type StoredFace } from './storedFace.ts';

export interface GalleryEntry {
  readonly label: string;
  readonly fileName: string;
}

/** Where the last load() spent its time (benchmarks print it). */
export interface LoadTimings {
  /** Opening the store (log replay) and listing its faces' keys and labels. */
  readonly listMs: number;
  /** Reading the stage-1 rows from disk. */
  readonly readRowsMs: number;
  /** Building the search index from them (quantising, packing, the id lists), reads excluded. */
  readonly indexMs: number;
}

export class GalleryService {
  readonly index: SearchEngine;
  private _lastLoad: LoadTimings | null = null;

  constructor(
    private readonly storage: GalleryStoragePort,
    readonly modelKey: string,
    engineOptions: SearchEngineOptions = {},
  ) {
    // Stage 2 reads candidates from the storage: memory holds only stage 1's vectors and the list. Over int8 rows a
    // large gallery holds 4-bit ones and reads the int8 rows of each query's short list (half the memory; the same answers).
    this.index = new SearchEngine({ ...engineOptions, stage1: storage.stage1Format === 'int8' ? 'int8-to-int4' : storage.stage1Format, details: storage.details(modelKey) });
  }

  /**
   * Reads what stage 1 needs of this model's stored faces (at start and after a recognizer switch),
   * first moving any gallery an earlier version kept in IndexedDB into the storage.
   */
  async load(legacy?: LegacyGalleryPort | null, onMigration?: (p: MigrationProgress) => void): Promise<void> {
    if (legacy) await migrateLegacyGallery(legacy, this.storage, this.modelKey, onMigration);
    this.index.clear();
    const t0 = performance.now();
    const stored = await this.storage.loadIndex(this.modelKey);
    const t1 = performance.now();
    const rows = timedReads(stored.rows);
    // The engine's ids and labels are the list: file names stay in the storage until a view asks for them.
    if (stored.shape) this.index.addRows({ ids: stored.keys, labels: stored.labels }, rows, stored.shape);
    const t2 = performance.now();
    this._lastLoad = { listMs: t1 - t0, readRowsMs: rows.readMs, indexMs: t2 - t1 - rows.readMs };
  }

  /** Null before the first load(). */
  get lastLoad(): LoadTimings | null {
    return this._lastLoad;
  }

  get size(): number {
    return this.index.size;
  }

  entry(key: string): GalleryEntry | undefined {
    const label = this.index.labelOf(key);
    return label === undefined ? undefined : { label, fileName: this.fileName(key) };
  }

  /** A face's file name (read from the storage: start-up keeps none in memory). */
  fileName(key: string): string {
    const name = this.storage.fileNameOf(key);
    if (name === undefined) throw new AppError('unknown-id', `the gallery has no face ${key}`, 'It may have been removed; run the query again.');
    return name;
  }

  /** Every face, as [key, entry] pairs, in the order they were added. */
  all(): [string, GalleryEntry][] {
    const { ids, labels } = this.index.faces();
    return ids.map((key, i) => [key, { label: labels[i], fileName: this.fileName(key) }]);
  }

  identities(): Set<string> {
    return new Set(this.index.faces().labels);
  }

  info(): GalleryInfo {
    const counts = new Map<string, number>();
    for (const label of this.index.faces().labels) counts.set(label, (counts.get(label) ?? 0) + 1);
    const identities = [...counts].map(([label, count]) => ({ label, count })).sort((a, b) => a.label.localeCompare(b.label));
    return { modelKey: this.modelKey, count: this.index.size, identities };
  }

  items(label?: string): GalleryItemView[] {
    const out: GalleryItemView[] = [];
    const { ids, labels } = this.index.faces();
    for (let i = 0; i < ids.length; i++) if (label === undefined || labels[i] === label) out.push({ key: ids[i], label: labels[i], fileName: this.fileName(ids[i]) });
    return out.sort((a, b) => a.fileName.localeCompare(b.fileName));
  }

  get(key: string): Promise<StoredFace | undefined> {
    return this.storage.get(key);
  }

  thumbnail(key: string): Promise<Blob | undefined> {
    return this.storage.thumbnail(key);
  }

  /** The type the storage keeps thumbnails in: imports ask the extraction workers for the aligned crop in it. */
  get thumbnailType(): AlignedImageType {
    return this.storage.thumbnailType;
  }

  /** In memory or already on disk (a face saved by an import this page did not finish loading). */
  async contains(key: string): Promise<boolean> {
    return this.index.has(key) || (await this.storage.has(key));
  }

  async add(face: StoredFace): Promise<void> {
    const features = storedToFeatures(face);
    // Checked before the write: a face the index would refuse must not be left on disk.
    this.index.requireCompatible(features, `gallery face ${face.fileName}`);
    await this.storage.put(face);
    this.index.add([{ id: face.key, label: face.label, name: face.fileName, features }]);
  }

  /** Adds faces read from an export file, skipping those already present. */
  async addAll(faces: readonly StoredFace[]): Promise<{ added: number; skipped: number }> {
    let added = 0;
    for (const f of faces) {
      if (this.index.has(f.key)) continue;
      await this.add(f);
      added++;
    }
    return { added, skipped: faces.length - added };
  }

  async exportAll(): Promise<StoredFace[]> {
    const faces: StoredFace[] = [];
    await this.storage.forEach(this.modelKey, (f) => faces.push(f));
    return faces;
  }

  async remove(keys: readonly string[]): Promise<void> {
    await this.storage.delete(keys);
    this.index.remove(keys);
  }

  /** Gives these faces a new label: on disk first (one atomic write), then in the index and the list. */
  async relabel(keys: readonly string[], label: string): Promise<void> {
    const present = keys.filter((k) => this.index.has(k));
    if (present.length === 0) return;
    await this.storage.relabel(present, label);
    this.index.relabel(present, label);
  }

  async removeIdentity(label: string): Promise<number> {
    const { ids, labels } = this.index.faces();
    const keys = ids.filter((_, i) => labels[i] === label);
    await this.remove(keys);
    return keys.length;
  }

  /** Notes on disk how far the running import got (cleared when it ends), so a reload can tell it was cut short. */
  noteImportProgress(journal: Omit<ImportJournal, 'modelKey'>): Promise<void> {
    return this.storage.writeJournal({ ...journal, modelKey: this.modelKey });
  }

  endImport(): Promise<void> {
    return this.storage.clearJournal(this.modelKey);
  }

  /** An import a previous page left unfinished (tab closed or reloaded mid-import), reported once. */
  async takeInterruptedImport(): Promise<ImportJournal | undefined> {
    const journal = await this.storage.readJournal(this.modelKey);
    if (journal) await this.storage.clearJournal(this.modelKey);
    return journal;
  }

  async clear(): Promise<void> {
    await this.storage.clear(this.modelKey);
    this.index.clear();
  }
}

/** The chunks of `rows`, adding up the time spent producing them (the disk reads, for a reading generator). */
function timedReads(rows: Iterable<Uint8Array>): Iterable<Uint8Array> & { readonly readMs: number } {
  let readMs = 0;
  return {
    get readMs() {
      return readMs;
    },
    *[Symbol.iterator]() {
      const it = rows[Symbol.iterator]();
      for (;;) {
        const t = performance.now();
        const next = it.next();
        readMs += performance.now() - t;
        if (next.done) return;
        yield next.value;
      }
    },
  };
}

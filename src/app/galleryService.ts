/**
 * The labelled gallery of the active recognizer: the records on disk
 * (GalleryStoragePort), the search index built from them (SearchEngine) and
 * the labels the UI lists, kept in step. Every edit writes to disk first, so
 * a failed write leaves memory and disk agreeing.
 */
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
  /** Opening the store (log replay) and listing its faces. */
  readonly listMs: number;
  /** Reading the stage-1 rows from disk. */
  readonly readRowsMs: number;
  /** Building the search index from them (quantising, packing, the id lists), reads excluded. */
  readonly indexMs: number;
  /** The label and file-name map the UI lists. */
  readonly entriesMs: number;
}

export class GalleryService {
  readonly index: SearchEngine;
  private readonly entries = new Map<string, GalleryEntry>();
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
    this.entries.clear();
    const t0 = performance.now();
    const stored = await this.storage.loadIndex(this.modelKey);
    const t1 = performance.now();
    for (const e of stored.entries) this.entries.set(e.key, { label: e.label, fileName: e.fileName });
    const t2 = performance.now();
    const rows = timedReads(stored.rows);
    if (stored.shape)
      this.index.addRows(
        stored.entries.map((e) => ({ id: e.key, label: e.label })),
        rows,
        stored.shape,
      );
    const t3 = performance.now();
    this._lastLoad = { listMs: t1 - t0, entriesMs: t2 - t1, readRowsMs: rows.readMs, indexMs: t3 - t2 - rows.readMs };
  }

  /** Null before the first load(). */
  get lastLoad(): LoadTimings | null {
    return this._lastLoad;
  }

  get size(): number {
    return this.entries.size;
  }

  entry(key: string): GalleryEntry | undefined {
    return this.entries.get(key);
  }

  /** Every face, as [key, entry] pairs. */
  all(): [string, GalleryEntry][] {
    return [...this.entries];
  }

  identities(): Set<string> {
    return new Set([...this.entries.values()].map((v) => v.label));
  }

  info(): GalleryInfo {
    const counts = new Map<string, number>();
    for (const { label } of this.entries.values()) counts.set(label, (counts.get(label) ?? 0) + 1);
    const identities = [...counts].map(([label, count]) => ({ label, count })).sort((a, b) => a.label.localeCompare(b.label));
    return { modelKey: this.modelKey, count: this.entries.size, identities };
  }

  items(label?: string): GalleryItemView[] {
    const out: GalleryItemView[] = [];
    for (const [key, v] of this.entries) if (label === undefined || v.label === label) out.push({ key, ...v });
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
    return this.entries.has(key) || (await this.storage.has(key));
  }

  async add(face: StoredFace): Promise<void> {
    const features = storedToFeatures(face);
    // Checked before the write: a face the index would refuse must not be left on disk.
    this.index.requireCompatible(features, `gallery face ${face.fileName}`);
    await this.storage.put(face);
    this.index.add([{ id: face.key, label: face.label, name: face.fileName, features }]);
    this.entries.set(face.key, { label: face.label, fileName: face.fileName });
  }

  /** Adds faces read from an export file, skipping those already present. */
  async addAll(faces: readonly StoredFace[]): Promise<{ added: number; skipped: number }> {
    let added = 0;
    for (const f of faces) {
      if (this.entries.has(f.key)) continue;
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
    for (const k of keys) this.entries.delete(k);
  }

  /** Gives these faces a new label: on disk first (one atomic write), then in the index and the list. */
  async relabel(keys: readonly string[], label: string): Promise<void> {
    const present = keys.filter((k) => this.entries.has(k));
    if (present.length === 0) return;
    await this.storage.relabel(present, label);
    this.index.relabel(present, label);
    for (const k of present) {
      const e = this.entries.get(k);
      if (e) this.entries.set(k, { ...e, label });
    }
  }

  async removeIdentity(label: string): Promise<number> {
    const keys = [...this.entries].filter(([, v]) => v.label === label).map(([k]) => k);
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
    this.entries.clear();
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

/**
 * The gallery on disk: one IndexedDB record per indexed face, written in its
 * own transaction so an interrupted import leaves every finished image and no
 * half-written one. Records are keyed by model id@version + content hash: a
 * gallery is kept per recognizer, and the same file is indexed once.
 *
 * Built on `idb` (promises and typed stores over IndexedDB) rather than our
 * own request/transaction wrappers: what is ours here is only the schema, the
 * one-transaction-per-face rule and the mapping of failures to AppErrors.
 */
import { openDB, type DBSchema, type IDBPDatabase } from 'idb';
import { AppError } from '../../src/core/errors.ts';
import type { ImportJournal } from '../../src/app/ports.ts';
import type { StoredFace } from '../../src/app/storedFace.ts';

export const DB_NAME = 'deepface-emd';
/** Bump with a migration step in upgrade() whenever the record shape changes. */
export const DB_VERSION = 2;
const ITEMS = 'items';
const JOURNALS = 'importJournals';

interface GallerySchema extends DBSchema {
  items: {
    key: string;
    value: StoredFace;
    indexes: {
      byModel: string;
      /** Not read by the app today; kept because existing databases have it and dropping it would need a version bump. */
      byModelLabel: [string, string];
    };
  };
  /** One record per model while an import of that model's gallery runs. */
  importJournals: {
    key: string;
    value: ImportJournal;
  };
}

type GalleryIdb = IDBPDatabase<GallerySchema>;

function upgrade(db: GalleryIdb, oldVersion: number): void {
  // Version 0 -> 1: the first schema.
  if (oldVersion < 1) {
    const store = db.createObjectStore(ITEMS, { keyPath: 'key' });
    store.createIndex('byModel', 'modelKey', { unique: false });
    store.createIndex('byModelLabel', ['modelKey', 'label'], { unique: false });
  }
  // Version 1 -> 2: import journals (face records unchanged).
  if (oldVersion < 2) db.createObjectStore(JOURNALS, { keyPath: 'modelKey' });
}

function storageError(e: unknown, what: string): AppError {
  const name = e instanceof DOMException ? e.name : '';
  if (name === 'QuotaExceededError') {
    return new AppError(
      'storage-quota',
      `the browser's storage quota is full while ${what}`,
      'Everything indexed before this image is saved. Free space (remove images or clear other site data) and import the rest again.',
    );
  }
  return new AppError(
    'storage-failed',
    `browser storage failed while ${what}: ${e instanceof Error ? e.message : String(e)}`,
    'Reload the page; if it persists, export the gallery and clear site data.',
  );
}

export class GalleryDb {
  private constructor(private readonly db: GalleryIdb) {}

  /** The database if this browser has one by that name (an earlier version's gallery to migrate), else null without creating it. */
  static async openIfExists(name = DB_NAME): Promise<GalleryDb | null> {
    const existing = await indexedDB.databases();
    return existing.some((d) => d.name === name) ? GalleryDb.open(name) : null;
  }

  static async open(name = DB_NAME): Promise<GalleryDb> {
    try {
      return new GalleryDb(await openDB<GallerySchema>(name, DB_VERSION, { upgrade }));
    } catch (e) {
      throw storageError(e, 'opening the gallery');
    }
  }

  async put(face: StoredFace): Promise<void> {
    try {
      const tx = this.db.transaction(ITEMS, 'readwrite');
      // The quota error usually arrives on the commit (tx.done), not on the
      // request, so both are awaited; Promise.all also keeps whichever
      // rejects second from surfacing as an unhandled rejection.
      await Promise.all([tx.store.put(face), tx.done]);
    } catch (e) {
      throw storageError(e, `saving ${face.fileName}`);
    }
  }

  async has(key: string): Promise<boolean> {
    return (await this.db.count(ITEMS, key)) > 0;
  }

  async get(key: string): Promise<StoredFace | undefined> {
    return this.db.get(ITEMS, key);
  }

  /** Every face of one model, streamed through `onFace` so the caller can pack features without holding records twice. */
  async forEach(modelKey: string, onFace: (f: StoredFace) => void): Promise<number> {
    const index = this.db.transaction(ITEMS, 'readonly').store.index('byModel');
    let n = 0;
    for (let cursor = await index.openCursor(IDBKeyRange.only(modelKey)); cursor; cursor = await cursor.continue()) {
      onFace(cursor.value);
      n++;
    }
    return n;
  }

  /** One model's record keys (migration reads them one by one: an await per record cannot sit inside a cursor's transaction). */
  async keys(modelKey: string): Promise<string[]> {
    return this.db.getAllKeysFromIndex(ITEMS, 'byModel', IDBKeyRange.only(modelKey));
  }

  async delete(keys: readonly string[]): Promise<void> {
    try {
      const tx = this.db.transaction(ITEMS, 'readwrite');
      await Promise.all([...keys.map((k) => tx.store.delete(k)), tx.done]);
    } catch (e) {
      throw storageError(e, 'removing images');
    }
  }

  async clear(modelKey: string): Promise<void> {
    await this.delete(await this.db.getAllKeysFromIndex(ITEMS, 'byModel', IDBKeyRange.only(modelKey)));
  }

  async readJournal(modelKey: string): Promise<ImportJournal | undefined> {
    return this.db.get(JOURNALS, modelKey);
  }

  async writeJournal(journal: ImportJournal): Promise<void> {
    try {
      await this.db.put(JOURNALS, journal);
    } catch (e) {
      throw storageError(e, 'noting the import progress');
    }
  }

  async clearJournal(modelKey: string): Promise<void> {
    await this.db.delete(JOURNALS, modelKey);
  }

  async removeIfEmpty(): Promise<boolean> {
    // A journal left there describes an import of the old storage, which nothing reads any more.
    if ((await this.db.count(ITEMS)) > 0) return false;
    const name = this.db.name;
    this.db.close();
    return new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase(name);
      request.onsuccess = () => resolve(true);
      request.onerror = () => reject(storageError(request.error, 'removing the emptied gallery database of an earlier version'));
      // Another tab still has it open: the deletion goes ahead once that tab lets go; start-up does not wait for it.
      request.onblocked = () => resolve(false);
    });
  }

  close(): void {
    this.db.close();
  }
}

/**
 * The gallery on disk: one IndexedDB record per indexed face, written in its
 * own transaction so an interrupted import leaves every finished image and no
 * half-written one. Records are keyed by model id@version + content hash: a
 * gallery is kept per recognizer, and the same file is indexed once.
 */
import { AppError } from '../../src/core/errors.ts';
import type { StoredFace } from '../../src/app/storedFace.ts';

export const DB_NAME = 'deepface-emd';
/** Bump with a migration step in upgrade() whenever the record shape changes. */
export const DB_VERSION = 1;
const ITEMS = 'items';

function upgrade(db: IDBDatabase, oldVersion: number): void {
  // Version 0 -> 1: the first schema.
  if (oldVersion < 1) {
    const store = db.createObjectStore(ITEMS, { keyPath: 'key' });
    store.createIndex('byModel', 'modelKey', { unique: false });
    store.createIndex('byModelLabel', ['modelKey', 'label'], { unique: false });
  }
}

function storageError(e: unknown, what: string): AppError {
  const name = e instanceof DOMException ? e.name : '';
  if (name === 'QuotaExceededError') {
    return new AppError('storage-quota', `the browser's storage quota is full while ${what}`, 'Everything indexed before this image is saved. Free space (remove images or clear other site data) and import the rest again.');
  }
  return new AppError('storage-failed', `browser storage failed while ${what}: ${e instanceof Error ? e.message : String(e)}`, 'Reload the page; if it persists, export the gallery and clear site data.');
}

function promisify<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new DOMException('transaction aborted', 'AbortError'));
  });
}

export class GalleryDb {
  private constructor(private readonly db: IDBDatabase) {}

  static async open(name = DB_NAME): Promise<GalleryDb> {
    const req = indexedDB.open(name, DB_VERSION);
    req.onupgradeneeded = (ev) => upgrade(req.result, ev.oldVersion);
    try {
      return new GalleryDb(await promisify(req));
    } catch (e) {
      throw storageError(e, 'opening the gallery');
    }
  }

  async put(face: StoredFace): Promise<void> {
    try {
      const tx = this.db.transaction(ITEMS, 'readwrite');
      tx.objectStore(ITEMS).put(face);
      await done(tx);
    } catch (e) {
      throw storageError(e, `saving ${face.fileName}`);
    }
  }

  async has(key: string): Promise<boolean> {
    const tx = this.db.transaction(ITEMS, 'readonly');
    return (await promisify(tx.objectStore(ITEMS).count(key))) > 0;
  }

  async get(key: string): Promise<StoredFace | undefined> {
    const tx = this.db.transaction(ITEMS, 'readonly');
    return (await promisify(tx.objectStore(ITEMS).get(key))) as StoredFace | undefined;
  }

  /** Every face of one model, streamed through `onFace` so the caller can pack features without holding records twice. */
  async forEach(modelKey: string, onFace: (f: StoredFace) => void): Promise<number> {
    const tx = this.db.transaction(ITEMS, 'readonly');
    const idx = tx.objectStore(ITEMS).index('byModel');
    let n = 0;
    await new Promise<void>((resolve, reject) => {
      const req = idx.openCursor(IDBKeyRange.only(modelKey));
      req.onsuccess = () => {
        const cur = req.result;
        if (!cur) return resolve();
        onFace(cur.value as StoredFace);
        n++;
        cur.continue();
      };
      req.onerror = () => reject(req.error);
    });
    return n;
  }

  async delete(keys: readonly string[]): Promise<void> {
    try {
      const tx = this.db.transaction(ITEMS, 'readwrite');
      const store = tx.objectStore(ITEMS);
      for (const k of keys) store.delete(k);
      await done(tx);
    } catch (e) {
      throw storageError(e, 'removing images');
    }
  }

  async keysOfLabel(modelKey: string, label: string): Promise<string[]> {
    const tx = this.db.transaction(ITEMS, 'readonly');
    const keys = await promisify(tx.objectStore(ITEMS).index('byModelLabel').getAllKeys(IDBKeyRange.only([modelKey, label])));
    return keys as string[];
  }

  async clear(modelKey: string): Promise<void> {
    const tx = this.db.transaction(ITEMS, 'readonly');
    const keys = (await promisify(tx.objectStore(ITEMS).index('byModel').getAllKeys(IDBKeyRange.only(modelKey)))) as string[];
    await this.delete(keys);
  }

  close(): void {
    this.db.close();
  }
}

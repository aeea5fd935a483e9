/**
 * Moves a gallery from the IndexedDB records of earlier versions (one float32
 * record per face) into the record store, on the first start-up that finds
 * any. Safe to interrupt at any point: each face is copied only if the new
 * store lacks it, and the old records are deleted only once every face is in
 * the new store, so the next start-up resumes where this one stopped. Once
 * the old database holds nothing of any recognizer it is deleted.
 */
import type { GalleryStoragePort } from '../app/ports.ts';
import type { StoredFace } from '../app/storedFace.ts';

/** What migration needs of the old IndexedDB gallery (workers/storage/galleryDb.ts). */
export interface LegacyGalleryPort {
  keys(modelKey: string): Promise<string[]>;
  get(key: string): Promise<StoredFace | undefined>;
  clear(modelKey: string): Promise<void>;
  /** Deletes the old database once no recognizer's faces are left in it (so later start-ups need not open it); true when it did. */
  removeIfEmpty(): Promise<boolean>;
}

export interface MigrationProgress {
  readonly done: number;
  readonly total: number;
}

/** Returns how many faces were copied (0 when there was nothing to move). */
export async function migrateLegacyGallery(legacy: LegacyGalleryPort, target: GalleryStoragePort, modelKey: string, onProgress?: (p: MigrationProgress) => void): Promise<number> {
  const keys = await legacy.keys(modelKey);
  if (keys.length === 0) {
    await legacy.removeIfEmpty();
    return 0;
  }
  let copied = 0;
  for (let i = 0; i < keys.length; i++) {
    if (!(await target.has(keys[i]))) {
      const face = await legacy.get(keys[i]);
      if (face) {
        await target.put(face);
        copied++;
      }
    }
    onProgress?.({ done: i + 1, total: keys.length });
  }
  await legacy.clear(modelKey);
  await legacy.removeIfEmpty();
  return copied;
}

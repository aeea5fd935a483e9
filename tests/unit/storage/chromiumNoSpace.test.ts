/**
 * Chromium's FileSystemSyncAccessHandle.write does not throw when the
 * origin's quota is full: it returns base::File::FILE_ERROR_NO_SPACE (-8) as
 * an unsigned count, 4294967288 (seen in the e2e quota test). The store must
 * read that as a full quota, undo the batch and keep what was saved.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { FaceRecordStore } from '../../../src/storage/faceRecordStore.ts';
import type { GalleryDirectory, RandomAccessFile } from '../../../src/storage/randomAccessFile.ts';
import { MemoryDirectory } from '../../support/memoryFiles.ts';
import { randomRecord, ROW_BYTES } from './fixtures.ts';

/** Files whose writes, once `full` is set, write nothing and return what Chromium returns then (or a short count). */
function chromiumLike(dir: MemoryDirectory, result: (length: number) => number): GalleryDirectory & { full: boolean } {
  const out = {
    full: false,
    open: async (name: string): Promise<RandomAccessFile> => {
      const file = await dir.open(name);
      return {
        ...file,
        size: () => file.size(),
        read: (b, at) => file.read(b, at),
        truncate: (n) => file.truncate(n),
        flush: () => file.flush(),
        close: () => file.close(),
        write: (d, at) => (out.full ? result(d.length) : file.write(d, at)),
      };
    },
    remove: (name: string) => dir.remove(name),
    names: () => dir.names(),
  };
  return out;
}

describe('a write past the quota in Chromium', () => {
  for (const [what, result] of [
    ['returns FILE_ERROR_NO_SPACE as a count', () => 2 ** 32 - 8],
    ['writes short', (n: number) => n - 1],
  ] as const) {
    it(`${what}: storage-quota, the batch undone, earlier faces kept`, async () => {
      const rand = seededRandom(5);
      const memory = new MemoryDirectory();
      const dir = chromiumLike(memory, result);
      const store = await FaceRecordStore.open(dir, { stage1RowBytes: ROW_BYTES });
      const kept = [randomRecord(rand, 0), randomRecord(rand, 1)];
      store.append(kept);
      dir.full = true;
      let caught: unknown;
      try {
        store.append([randomRecord(rand, 2)]);
      } catch (e) {
        caught = e;
      }
      expect(caught).toBeInstanceOf(AppError);
      expect(caught instanceof AppError && caught.code).toBe('storage-quota');
      dir.full = false;
      store.close();
      const again = await FaceRecordStore.open(memory, { stage1RowBytes: ROW_BYTES });
      expect(again.count).toBe(2);
      for (const r of kept) expect(again.readDetail(r.hash)).toEqual(r.detail);
    });
  }
});

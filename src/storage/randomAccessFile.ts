/**
 * What the face record store needs from a file system: files read and written
 * synchronously at byte offsets, in one directory per gallery. The shape is
 * that of the Origin Private File System's FileSystemSyncAccessHandle (which
 * only a dedicated worker gets), so the real adapter
 * (workers/storage/opfsDirectory.ts) is a thin wrapper and the unit tests can
 * pass in-memory files that die at any byte (tests/support/memoryFiles.ts).
 */

/** One open file. Methods throw (a DOMException such as QuotaExceededError from OPFS) rather than return errors. */
export interface RandomAccessFile {
  /** The file's length in bytes. */
  size(): number;
  /** Reads up to `into.length` bytes from offset `at`; returns how many were read (fewer at the end of the file). */
  read(into: Uint8Array, at: number): number;
  /** Writes `data` at offset `at` (growing the file as needed); returns how many bytes were written. */
  write(data: Uint8Array, at: number): number;
  truncate(size: number): void;
  /** Returns once everything written so far is on disk. */
  flush(): void;
  close(): void;
}

/** The files of one gallery. */
export interface GalleryDirectory {
  /** Opens the file, creating it empty when it does not exist. */
  open(name: string): Promise<RandomAccessFile>;
  /** Removes the file; a name that does not exist is not an error. */
  remove(name: string): Promise<void>;
  names(): Promise<string[]>;
}

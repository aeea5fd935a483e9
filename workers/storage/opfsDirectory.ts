/**
 * The face record store's files in the Origin Private File System: one
 * directory per gallery under `galleries/`, each file opened with a
 * synchronous access handle. Sync handles exist only in dedicated workers, and
 * a file can have only one at a time (per origin, so across tabs): a second
 * tab opening the same gallery gets NoModificationAllowedError, which becomes
 * an AppError saying so.
 */
import { AppError } from '../../src/core/errors.ts';
import type { GalleryDirectory, RandomAccessFile } from '../../src/storage/randomAccessFile.ts';

const ROOT = 'galleries';

/** FileSystemSyncAccessHandle, which TypeScript declares only in its webworker library (this project compiles against the DOM one). */
interface SyncAccessHandle {
  read(buffer: Uint8Array, options: { at: number }): number;
  write(buffer: Uint8Array, options: { at: number }): number;
  truncate(size: number): void;
  getSize(): number;
  flush(): void;
  close(): void;
}

interface SyncFileHandle {
  createSyncAccessHandle(): Promise<SyncAccessHandle>;
}

function hasSyncAccess(h: FileSystemFileHandle): h is FileSystemFileHandle & SyncFileHandle {
  return typeof (h as Partial<SyncFileHandle>).createSyncAccessHandle === 'function';
}

function opfsError(e: unknown, what: string, gallery: string): AppError {
  if (e instanceof AppError) return e;
  const name = e instanceof DOMException ? e.name : '';
  if (name === 'NoModificationAllowedError' || name === 'InvalidStateError') {
    return new AppError('storage-failed', `the gallery ${gallery} is open in another tab (${what})`, 'The gallery is open in another tab or window of this app: close it, then reload this page.', {
      cause: e,
    });
  }
  if (name === 'QuotaExceededError') {
    return new AppError('storage-quota', `the browser's storage quota is full while ${what}`, 'Free space (remove images or clear other site data) and try again.', { cause: e });
  }
  if (name === 'SecurityError' || name === 'NotAllowedError') {
    return new AppError(
      'storage-failed',
      `the browser does not allow this page to store files (${what})`,
      'Private windows and some privacy settings block site storage: open the app in a normal window.',
      {
        cause: e,
      },
    );
  }
  return new AppError('storage-failed', `browser storage failed while ${what}: ${e instanceof Error ? e.message : String(e)}`, 'Reload the page; if it persists, clear this site’s data.', {
    cause: e,
  });
}

/** Gallery names (model id@version, ...) may hold characters a file name may not. */
function directoryName(gallery: string): string {
  return encodeURIComponent(gallery).replace(/\./g, '%2E');
}

async function galleriesRoot(): Promise<FileSystemDirectoryHandle> {
  const root = await navigator.storage.getDirectory();
  return root.getDirectoryHandle(ROOT, { create: true });
}

function wrap(h: SyncAccessHandle): RandomAccessFile {
  return {
    size: () => h.getSize(),
    read: (into, at) => h.read(into, { at }),
    write: (data, at) => h.write(data, { at }),
    truncate: (size) => h.truncate(size),
    flush: () => h.flush(),
    close: () => h.close(),
  };
}

/** A page that restarts its engine worker (backend switch, reload) opens files the old worker held a moment ago. */
const HANDLE_RELEASE_WAIT_MS = 3000;
const HANDLE_RETRY_MS = 100;

/**
 * The file's sync access handle, waiting a little while another handle still holds it: a terminated worker's
 * handles are released asynchronously. Past the wait, the holder is taken to be another tab (opfsError says so).
 */
async function syncHandleOf(file: FileSystemFileHandle & SyncFileHandle): Promise<SyncAccessHandle> {
  for (let waited = 0; ; waited += HANDLE_RETRY_MS) {
    try {
      return await file.createSyncAccessHandle();
    } catch (e) {
      if (!(e instanceof DOMException && e.name === 'NoModificationAllowedError') || waited >= HANDLE_RELEASE_WAIT_MS) throw e;
    }
    await new Promise((resolve) => setTimeout(resolve, HANDLE_RETRY_MS));
  }
}

class OpfsGalleryDirectory implements GalleryDirectory {
  constructor(
    private readonly dir: FileSystemDirectoryHandle,
    private readonly gallery: string,
  ) {}

  async open(name: string): Promise<RandomAccessFile> {
    try {
      const file = await this.dir.getFileHandle(name, { create: true });
      if (!hasSyncAccess(file)) {
        throw new AppError('storage-failed', `this browser cannot open ${name} for synchronous access`, 'Use a current Chrome, Edge, Firefox or Safari; the gallery is stored only there.');
      }
      return wrap(await syncHandleOf(file));
    } catch (e) {
      throw opfsError(e, `opening ${name}`, this.gallery);
    }
  }

  async remove(name: string): Promise<void> {
    try {
      await this.dir.removeEntry(name);
    } catch (e) {
      if (e instanceof DOMException && e.name === 'NotFoundError') return;
      throw opfsError(e, `removing ${name}`, this.gallery);
    }
  }

  async names(): Promise<string[]> {
    const out: string[] = [];
    // keys() is in every browser with OPFS but missing from TypeScript's DOM library.
    const entries = (this.dir as FileSystemDirectoryHandle & { keys(): AsyncIterable<string> }).keys();
    for await (const k of entries) out.push(k);
    return out;
  }
}

/** The directory of one gallery, created when missing. Only in a dedicated worker: the files are opened synchronously. */
export async function openOpfsGallery(gallery: string): Promise<GalleryDirectory> {
  try {
    const root = await galleriesRoot();
    return new OpfsGalleryDirectory(await root.getDirectoryHandle(directoryName(gallery), { create: true }), gallery);
  } catch (e) {
    throw opfsError(e, 'opening the gallery folder', gallery);
  }
}

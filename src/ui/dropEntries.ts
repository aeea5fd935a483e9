/**
 * Turns a drop or a picker selection into (relative path, file) pairs. Real
 * folder drops are walked through the entries API; synthetic or plain file
 * drops fall back to the file list.
 */
import type { ImportEntry } from '../app/zipEntries.ts';

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  // readEntries returns at most ~100 entries per call; keep reading until it returns none.
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(out);
        else {
          out.push(...batch);
          next();
        }
      }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, out: ImportEntry[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\//, ''), file });
  } else if (entry.isDirectory) {
    for (const child of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(child, out);
  }
}

export async function entriesFromDataTransfer(dt: DataTransfer): Promise<ImportEntry[]> {
  const roots = Array.from(dt.items ?? [])
    .filter((i) => i.kind === 'file')
    .map((i) => i.webkitGetAsEntry?.() ?? null);
  if (roots.length > 0 && roots.every((r) => r !== null)) {
    const out: ImportEntry[] = [];
    for (const r of roots) await walk(r, out);
    return out;
  }
  return entriesFromFiles(dt.files);
}

export function entriesFromFiles(files: FileList | readonly File[]): ImportEntry[] {
  return Array.from(files, (f) => ({ path: f.webkitRelativePath || f.name, file: f }));
}

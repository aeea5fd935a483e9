/**
 * Dropped .zip files become the image entries inside them, keeping their
 * inner folders (which name identities). Junk inside is reported later by
 * the decoder; nested zips are not opened.
 */
import { unzipSync } from 'fflate';
import type { ImportProblem } from './engineApi.ts';

export interface ImportEntry {
  /** Path relative to what was dropped ("Name/Name_0001.jpg"), or a bare file name. */
  readonly path: string;
  readonly file: Blob;
}

const isZip = (path: string) => /\.zip$/i.test(path);
/** Folder entries, macOS resource forks and hidden files are not photos. */
const isJunk = (inner: string) => inner.endsWith('/') || inner.startsWith('__MACOSX/') || /(^|\/)\./.test(inner);

export async function expandZips(entries: readonly ImportEntry[], problems: ImportProblem[]): Promise<ImportEntry[]> {
  const out: ImportEntry[] = [];
  for (const e of entries) {
    if (!isZip(e.path)) {
      out.push(e);
      continue;
    }
    try {
      const files = unzipSync(new Uint8Array(await e.file.arrayBuffer()));
      const zipRoot = e.path.replace(/\.zip$/i, '');
      for (const [inner, bytes] of Object.entries(files)) {
        if (!isJunk(inner)) out.push({ path: `${zipRoot}/${inner}`, file: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
      }
    } catch (err) {
      problems.push({ file: e.path, code: 'corrupt-image', message: `not a readable zip archive (${err instanceof Error ? err.message : String(err)})`, hint: 'Re-create the archive, or drop the folder itself.' });
    }
  }
  return out;
}

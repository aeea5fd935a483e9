/**
 * Dropped .zip files become the image entries inside them, keeping their
 * inner folders (which name identities). A zip is someone else's file: its
 * directory is read first and every entry is judged from its declared sizes
 * before anything is unpacked (too big, compressed like a bomb, past the
 * import's total or file count, a path that leaves the archive), and each
 * refused entry is listed as a problem with its path and a hint. Entries
 * are then unpacked one by one, never past their declared size, with their
 * CRC checked (src/app/zipReader.ts). Junk (folders, macOS resource forks,
 * hidden files) is skipped quietly; junk inside an image name is reported
 * later by the decoder; nested zips are not opened (they are not images).
 */
import { toPlainError } from '../core/errors.ts';
import { MAX_IMAGE_PIXELS } from '../face/imageHeader.ts';
import type { ImportProblem } from './engineApi.ts';
import { zipEntryPathProblem } from './identity.ts';
import { formatBytes, readZipDirectory, readZipEntry, unsupportedEntry, type ZipEntryRecord } from './zipReader.ts';

export interface ImportEntry {
  /** Path relative to what was dropped ("Name/Name_0001.jpg"), or a bare file name. */
  readonly path: string;
  readonly file: Blob;
}

export interface ZipLimits {
  /** Largest unpacked size of one entry. */
  readonly entryBytes: number;
  /** Largest unpacked size of all zip entries of one import together (they are held in memory until indexed). */
  readonly totalBytes: number;
  /** Largest unpacked : packed ratio of an entry larger than `ratioFloorBytes`. */
  readonly ratio: number;
  readonly ratioFloorBytes: number;
  /** Most files (folders and junk not counted) taken from the zips of one import. */
  readonly files: number;
}

export const ZIP_LIMITS: ZipLimits = {
  // The decoder refuses images over MAX_IMAGE_PIXELS (50 MP); no format it reads needs more than 4 bytes a
  // pixel (an uncompressed 32-bit BMP), so a larger entry cannot be an image it would accept: 200 MB.
  entryBytes: MAX_IMAGE_PIXELS * 4,
  // Unpacked entries wait in the engine worker's memory until indexed. 1 GB is five times all of LFW
  // (13,233 photos, ~180 MB) and leaves a browser tab (about 4 GB) room for the models and the gallery.
  totalBytes: 1e9,
  // JPEG, PNG, WebP and GIF are compressed already (zip gains a few percent); a photo as BMP packs 2-5:1.
  // 100:1 is only reached by filler such as zeros, the stuff of zip bombs. Small entries cannot hurt
  // whatever their ratio (a flat test image, a text file), so the ratio is judged above 1 MB only.
  ratio: 100,
  ratioFloorBytes: 1e6,
  // LFW, the largest labelled set a person is likely to drop, has 13,233 images.
  files: 20_000,
};

const isZip = (path: string) => /\.zip$/i.test(path);
const isFolder = (inner: string) => inner.endsWith('/');
/** macOS resource forks and hidden files ("."-names, but not the ".." a hostile path uses) are not photos. */
const isJunk = (inner: string) => inner.startsWith('__MACOSX/') || inner.split('/').some((s) => s.startsWith('.') && s !== '.' && s !== '..');

const HINT_SPLIT = 'Split the archive into smaller ones (or drop the folder itself) and import them one after another.';

/** What is left of one import's allowance while its zips are read. */
interface Budget {
  bytes: number;
  files: number;
}

export async function expandZips(entries: readonly ImportEntry[], problems: ImportProblem[], limits: ZipLimits = ZIP_LIMITS): Promise<ImportEntry[]> {
  const out: ImportEntry[] = [];
  const budget: Budget = { bytes: 0, files: 0 };
  for (const e of entries) {
    if (isZip(e.path)) await expandZip(e, out, problems, limits, budget);
    else out.push(e);
  }
  return out;
}

function problemFrom(error: unknown, file: string): ImportProblem {
  const p = toPlainError(error);
  return { file, code: p.code, message: p.message, hint: p.hint };
}

async function expandZip(zip: ImportEntry, out: ImportEntry[], problems: ImportProblem[], limits: ZipLimits, budget: Budget): Promise<void> {
  let records: ZipEntryRecord[];
  try {
    records = await readZipDirectory(zip.file, zip.path);
  } catch (e) {
    problems.push(problemFrom(e, zip.path));
    return;
  }
  const zipRoot = zip.path.replace(/\.zip$/i, '');
  const pathOf = (r: ZipEntryRecord) => `${zipRoot}/${r.name}`;
  const refuse = (r: ZipEntryRecord, code: string, message: string, hint: string) => problems.push({ file: pathOf(r), code, message, hint });

  // Everything is decided from the directory before a byte is unpacked.
  const accepted: ZipEntryRecord[] = [];
  let overCount = 0;
  let overTotal = 0;
  for (const r of records) {
    if (isFolder(r.name)) continue;
    const pathProblem = zipEntryPathProblem(r.name);
    if (!pathProblem && isJunk(r.name)) continue;
    if (budget.files >= limits.files) {
      overCount++;
      continue;
    }
    budget.files++;
    if (pathProblem) {
      refuse(r, 'unsafe-path', `not imported: ${pathProblem}`, 'Make the archive again from the folder of photos itself (paths inside it relative to it, "/" between folders).');
      continue;
    }
    const unsupported = unsupportedEntry(r);
    if (unsupported) {
      refuse(r, 'unsupported-archive', `not imported: ${unsupported}`, 'Make the archive again with ordinary zip compression and no password, or drop the folder itself.');
      continue;
    }
    if (r.size > limits.entryBytes) {
      refuse(
        r,
        'archive-limit',
        `not unpacked: it would unpack to ${formatBytes(r.size)}, over the ${formatBytes(limits.entryBytes)} limit for one file (larger than any image the app accepts)`,
        'No face photo needs this much: check what the file is; resize a real photo before zipping it.',
      );
      continue;
    }
    if (r.size > limits.ratioFloorBytes && r.size > r.compressedSize * limits.ratio) {
      const ratio = Math.round(r.size / Math.max(r.compressedSize, 1));
      refuse(
        r,
        'archive-limit',
        `not unpacked: ${formatBytes(r.compressedSize)} would unpack to ${formatBytes(r.size)} (${ratio}:1, over the ${limits.ratio}:1 limit; photos barely compress, so this looks like a zip bomb)`,
        'Drop the photos themselves, or an archive made from them, not this file.',
      );
      continue;
    }
    // Once one entry does not fit, neither do the rest: a predictable cut, not a scatter of survivors.
    if (overTotal > 0 || budget.bytes + r.size > limits.totalBytes) {
      overTotal++;
      continue;
    }
    budget.bytes += r.size;
    accepted.push(r);
  }
  if (overTotal > 0) {
    problems.push({
      file: zip.path,
      code: 'archive-limit',
      message: `${overTotal} more ${overTotal === 1 ? 'file was' : 'files were'} not unpacked: with them the zips of this import would unpack to more than ${formatBytes(limits.totalBytes)}`,
      hint: HINT_SPLIT,
    });
  }
  if (overCount > 0) {
    problems.push({
      file: zip.path,
      code: 'archive-limit',
      message: `${overCount} more ${overCount === 1 ? 'file was' : 'files were'} not read: the zips of one import may hold at most ${limits.files.toLocaleString('en')} files`,
      hint: HINT_SPLIT,
    });
  }

  for (const r of accepted) {
    try {
      const bytes = await readZipEntry(zip.file, r, { file: pathOf(r), entry: 'the zip entry' });
      out.push({ path: pathOf(r), file: new Blob([bytes]) });
    } catch (e) {
      problems.push(problemFrom(e, pathOf(r)));
    }
  }
}

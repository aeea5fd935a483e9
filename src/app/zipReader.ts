/**
 * Reads zip archives that come from someone else: the dropped photo zips and
 * the gallery export file. The central directory is read first, so every
 * entry's name, declared sizes, method and CRC are known before a byte is
 * inflated, and the callers refuse what is too big from those numbers alone.
 * An entry is then inflated in small pieces from a slice of the file (the
 * archive is never read into memory whole) and never past the size its
 * header declares, so a header that lies about its size costs at most one
 * piece's output; its CRC-32 is checked against the directory's.
 *
 * Why not fflate's unzipSync / Unzip: unzipSync inflates everything at once
 * in memory and checks no CRC; the streaming Unzip walks local headers, which
 * may carry no sizes at all (the data-descriptor form), so the sizes are only
 * known after inflating. fflate's Inflate does the decompression here.
 */
import CRC32 from 'crc-32';
import { Inflate } from 'fflate';
import { AppError } from '../core/errors.ts';

export interface ZipEntryRecord {
  /** The entry's name exactly as stored (decoded to text); "/" separates folders. */
  readonly name: string;
  /** 0 stored, 8 deflated; anything else is refused when read. */
  readonly method: number;
  readonly encrypted: boolean;
  readonly crc32: number;
  readonly compressedSize: number;
  /** The uncompressed size the directory declares; inflating never goes past it. */
  readonly size: number;
  readonly localHeaderOffset: number;
}

const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_LOCAL = 0x04034b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
const CENTRAL_FIXED = 46;
const LOCAL_FIXED = 30;
const ZIP64_EXTRA_ID = 0x0001;
const FLAG_ENCRYPTED = 0x0001;
const FLAG_UTF8 = 0x0800;
const METHOD_STORED = 0;
const METHOD_DEFLATE = 8;

/**
 * The central directory is read in one piece; 64 MB holds about 600,000
 * entries with 50-character names, far more than any import accepts, and
 * keeps a forged directory size from allocating gigabytes.
 */
const MAX_CENTRAL_DIRECTORY_BYTES = 64e6;
/** Compressed bytes read from the file at a time. */
const READ_CHUNK = 1024 * 1024;
/**
 * Compressed bytes handed to the inflater at a time. Deflate expands at most
 * about 1032:1, so one piece never yields more than ~17 MB, however the
 * entry lies about its size.
 */
const INFLATE_PIECE = 16 * 1024;

const HINT_DAMAGED = 'The archive is damaged or incomplete: make it again (or download it again), then drop it.';
const HINT_UNSUPPORTED = 'Make the archive again with ordinary zip compression and no password.';

const utf8 = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

async function readRange(file: Blob, start: number, end: number): Promise<Uint8Array> {
  return new Uint8Array(await file.slice(start, end).arrayBuffer());
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A 64-bit size or offset; anything past 2^53 cannot be a real one. */
function uint64(dv: DataView, at: number, archive: string): number {
  const n = dv.getBigUint64(at, true);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged(archive, `a ZIP64 size or offset is ${n}, impossible for a real file`);
  return Number(n);
}

function damaged(archive: string, why: string): AppError {
  return new AppError('corrupt-archive', `not a readable zip archive: ${why}`, HINT_DAMAGED, { file: archive });
}

/**
 * Names are UTF-8 when flagged so, and in practice also when unflagged
 * (macOS and most current tools write UTF-8 without setting the flag); bytes
 * that are not valid UTF-8 come from an old DOS-era tool, and reading them as
 * Latin-1 keeps every byte visible rather than failing the whole entry.
 */
function decodeName(bytes: Uint8Array, flags: number): string {
  if (flags & FLAG_UTF8) return new TextDecoder('utf-8').decode(bytes);
  try {
    return utf8.decode(bytes);
  } catch (_notUtf8) {
    return latin1.decode(bytes);
  }
}

interface DirectoryLocation {
  readonly entries: number;
  readonly offset: number;
  readonly size: number;
}

async function locateDirectory(file: Blob, archive: string): Promise<DirectoryLocation> {
  if (file.size < EOCD_SIZE) throw damaged(archive, `it is ${file.size} bytes, too short to be a zip`);
  const tailStart = Math.max(0, file.size - EOCD_SIZE - MAX_COMMENT);
  const tail = await readRange(file, tailStart, file.size);
  const dv = view(tail);
  // The end record sits before a comment of up to 64 KiB: the last signature whose comment length reaches the end.
  let at = -1;
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    if (dv.getUint32(i, true) === SIG_EOCD && i + EOCD_SIZE + dv.getUint16(i + 20, true) <= tail.length) {
      at = i;
      break;
    }
  }
  if (at < 0) throw damaged(archive, 'its end-of-archive record is missing (the file is not a zip, or it was cut short)');
  const split = () => damaged(archive, 'it is one part of a multi-part (split) archive');
  let entries = dv.getUint16(at + 10, true);
  let size = dv.getUint32(at + 12, true);
  let offset = dv.getUint32(at + 16, true);
  if (entries === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    // ZIP64: the real numbers are in the ZIP64 end record, found through the locator just before.
    const locatorAt = tailStart + at - 20;
    if (locatorAt < 0) throw damaged(archive, 'its ZIP64 locator is missing');
    const locator = view(await readRange(file, locatorAt, locatorAt + 20));
    if (locator.getUint32(0, true) !== SIG_ZIP64_LOCATOR) throw damaged(archive, 'its ZIP64 locator is missing');
    const recordAt = uint64(locator, 8, archive);
    if (recordAt + 56 > locatorAt) throw damaged(archive, 'its ZIP64 end record lies outside the file');
    const record = view(await readRange(file, recordAt, recordAt + 56));
    if (record.getUint32(0, true) !== SIG_ZIP64_EOCD) throw damaged(archive, 'its ZIP64 end record is missing');
    if (record.getUint32(16, true) !== 0 || record.getUint32(20, true) !== 0) throw split();
    entries = uint64(record, 32, archive);
    size = uint64(record, 40, archive);
    offset = uint64(record, 48, archive);
  } else if (dv.getUint16(at + 4, true) !== 0 || dv.getUint16(at + 6, true) !== 0) {
    throw split();
  }
  if (offset + size > file.size) throw damaged(archive, 'its directory lies outside the file (it was cut short)');
  if (size > MAX_CENTRAL_DIRECTORY_BYTES) {
    throw new AppError(
      'archive-limit',
      `its directory of ${entries} entries takes ${formatBytes(size)}; at most ${formatBytes(MAX_CENTRAL_DIRECTORY_BYTES)} is read`,
      'Split the archive into smaller ones, or drop the folder itself.',
      { file: archive },
    );
  }
  return { entries, offset, size };
}

/** Sizes and offset from the ZIP64 extra field, for those the fixed record marks as 0xFFFFFFFF (in this order). */
function zip64Values(extra: Uint8Array, need: { size: boolean; compressedSize: boolean; offset: boolean }, archive: string, name: string) {
  const dv = view(extra);
  for (let i = 0; i + 4 <= extra.length;) {
    const id = dv.getUint16(i, true);
    const len = dv.getUint16(i + 2, true);
    if (id === ZIP64_EXTRA_ID) {
      let at = i + 4;
      const next = (): number => {
        if (at + 8 > i + 4 + len) throw damaged(archive, `entry ${name}: its ZIP64 field is too short`);
        const v = uint64(dv, at, archive);
        at += 8;
        return v;
      };
      const size = need.size ? next() : undefined;
      const compressedSize = need.compressedSize ? next() : undefined;
      const offset = need.offset ? next() : undefined;
      return { size, compressedSize, offset };
    }
    i += 4 + len;
  }
  throw damaged(archive, `entry ${name}: its ZIP64 field is missing`);
}

/**
 * Every entry the central directory lists, in its order. Throws an AppError
 * ('corrupt-archive', or 'archive-limit' for an oversized directory) naming
 * `archive` when the file is not a zip or its directory is damaged.
 */
export async function readZipDirectory(file: Blob, archive: string): Promise<ZipEntryRecord[]> {
  const where = await locateDirectory(file, archive);
  const dir = await readRange(file, where.offset, where.offset + where.size);
  const dv = view(dir);
  const out: ZipEntryRecord[] = [];
  let at = 0;
  // The declared count is only a hint (16 bits wraps in non-ZIP64 archives); the directory's bytes decide.
  while (at + 4 <= dir.length && dv.getUint32(at, true) === SIG_CENTRAL) {
    if (at + CENTRAL_FIXED > dir.length) throw damaged(archive, 'its directory ends inside an entry');
    const flags = dv.getUint16(at + 8, true);
    const method = dv.getUint16(at + 10, true);
    const crc32 = dv.getUint32(at + 16, true);
    let compressedSize = dv.getUint32(at + 20, true);
    let size = dv.getUint32(at + 24, true);
    const nameLength = dv.getUint16(at + 28, true);
    const extraLength = dv.getUint16(at + 30, true);
    const commentLength = dv.getUint16(at + 32, true);
    let localHeaderOffset = dv.getUint32(at + 42, true);
    const end = at + CENTRAL_FIXED + nameLength + extraLength + commentLength;
    if (end > dir.length) throw damaged(archive, 'its directory ends inside an entry');
    const name = decodeName(dir.subarray(at + CENTRAL_FIXED, at + CENTRAL_FIXED + nameLength), flags);
    const need = { size: size === 0xffffffff, compressedSize: compressedSize === 0xffffffff, offset: localHeaderOffset === 0xffffffff };
    if (need.size || need.compressedSize || need.offset) {
      const big = zip64Values(dir.subarray(at + CENTRAL_FIXED + nameLength, at + CENTRAL_FIXED + nameLength + extraLength), need, archive, name);
      size = big.size ?? size;
      compressedSize = big.compressedSize ?? compressedSize;
      localHeaderOffset = big.offset ?? localHeaderOffset;
    }
    if (localHeaderOffset + LOCAL_FIXED + compressedSize > where.offset) throw damaged(archive, `entry ${name} lies outside the archive's data`);
    out.push({ name, method, encrypted: (flags & FLAG_ENCRYPTED) !== 0, crc32, compressedSize, size, localHeaderOffset });
    at = end;
  }
  if (out.length === 0 && where.entries > 0) throw damaged(archive, 'its directory holds no readable entry');
  return out;
}

/** Why an entry cannot be read by this app at all (encrypted, or an unusual compression), or undefined. */
export function unsupportedEntry(entry: ZipEntryRecord): string | undefined {
  if (entry.encrypted) return 'it is encrypted (password-protected)';
  if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATE) return `it uses compression method ${entry.method}; only stored and deflated entries are read`;
  return undefined;
}

/** How a failure names the entry: the file the user knows, and the entry as a phrase ("the zip entry", "entry faces/000003.f32"); the hint, when the caller knows a better one. */
export interface EntrySubject {
  readonly file: string;
  readonly entry: string;
  readonly hint?: string;
}

/**
 * The entry's bytes, inflated in pieces and never past its declared size;
 * its CRC-32 is checked. Throws AppError 'corrupt-archive' naming the
 * subject when the data is damaged, cut short, longer or shorter than
 * declared, or fails its CRC ('unsupported-archive' when encrypted or
 * compressed some other way). The caller decides beforehand whether the
 * declared size is acceptable.
 */
export async function readZipEntry(file: Blob, entry: ZipEntryRecord, subject: EntrySubject): Promise<Uint8Array<ArrayBuffer>> {
  const bad = (why: string) => new AppError('corrupt-archive', `${subject.entry} is damaged: ${why}`, subject.hint ?? HINT_DAMAGED, { file: subject.file });
  const unsupported = unsupportedEntry(entry);
  if (unsupported) throw new AppError('unsupported-archive', `${subject.entry} cannot be read: ${unsupported}`, HINT_UNSUPPORTED, { file: subject.file });
  const local = view(await readRange(file, entry.localHeaderOffset, entry.localHeaderOffset + LOCAL_FIXED));
  if (local.byteLength < LOCAL_FIXED || local.getUint32(0, true) !== SIG_LOCAL) throw bad('its local header is missing');
  const dataStart = entry.localHeaderOffset + LOCAL_FIXED + local.getUint16(26, true) + local.getUint16(28, true);
  const dataEnd = dataStart + entry.compressedSize;
  if (dataEnd > file.size) throw bad('its data runs past the end of the file');

  const out = new Uint8Array(entry.size);
  let written = 0;
  let crc = 0;
  let overflow = false;
  const take = (piece: Uint8Array) => {
    if (written + piece.length > out.length) {
      overflow = true;
      return;
    }
    out.set(piece, written);
    written += piece.length;
    crc = CRC32.buf(piece, crc);
  };
  const tooLong = () => bad(`it unpacks to more than the ${entry.size} bytes its header declares`);

  if (entry.method === METHOD_STORED) {
    if (entry.compressedSize !== entry.size) throw bad(`it is stored uncompressed, yet its header declares ${entry.compressedSize} bytes stored and ${entry.size} unpacked`);
    for (let at = dataStart; at < dataEnd; at += READ_CHUNK) take(await readRange(file, at, Math.min(at + READ_CHUNK, dataEnd)));
  } else {
    const inflater = new Inflate(take);
    for (let at = dataStart; at < dataEnd; at += READ_CHUNK) {
      const chunk = await readRange(file, at, Math.min(at + READ_CHUNK, dataEnd));
      for (let p = 0; p < chunk.length; p += INFLATE_PIECE) {
        const last = at + p + INFLATE_PIECE >= dataEnd;
        try {
          inflater.push(chunk.subarray(p, p + INFLATE_PIECE), last);
        } catch (e) {
          throw bad(`its compressed data is invalid (${e instanceof Error ? e.message : String(e)})`);
        }
        if (overflow) throw tooLong();
      }
    }
    // An empty deflated entry still has its (empty) final block to finish.
    if (entry.compressedSize === 0) throw bad('its compressed data is missing');
  }
  if (overflow) throw tooLong();
  if (written !== entry.size) throw bad(`it unpacks to ${written} bytes, but its header declares ${entry.size}`);
  if (crc >>> 0 !== entry.crc32) throw bad(`its CRC-32 is ${hex32(crc >>> 0)}, but the archive records ${hex32(entry.crc32)}`);
  return out;
}

function hex32(n: number): string {
  return n.toString(16).padStart(8, '0');
}

/** Sizes in messages, in decimal units as file managers show them: "1.2 GB", "200 MB", "512 bytes". */
export function formatBytes(n: number): string {
  const units: [number, string][] = [
    [1e9, 'GB'],
    [1e6, 'MB'],
    [1e3, 'kB'],
  ];
  for (const [size, unit] of units) if (n >= size) return `${Number((n / size).toPrecision(3))} ${unit}`;
  return `${n} bytes`;
}

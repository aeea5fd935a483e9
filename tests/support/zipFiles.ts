/**
 * Zip archives for tests of the importers, built at test time (nothing binary
 * is committed): a genuine zip bomb made in milliseconds, and surgery on a
 * zip's central directory (sizes, CRC, flags) to make the lying, damaged or
 * ZIP64 archives a hostile or broken tool would write.
 */
import CRC32 from 'crc-32';

/** Raw DEFLATE bits, least significant first, as RFC 1951 packs them. */
class BitWriter {
  private readonly bytes: Uint8Array;
  private at = 0;
  private acc = 0;
  private n = 0;

  constructor(capacity: number) {
    this.bytes = new Uint8Array(capacity);
  }

  bits(value: number, count: number): void {
    this.acc |= value << this.n;
    this.n += count;
    while (this.n >= 8) {
      this.bytes[this.at++] = this.acc & 0xff;
      this.acc >>>= 8;
      this.n -= 8;
    }
  }

  /** A Huffman code goes out most significant bit first. */
  code(code: number, length: number): void {
    let reversed = 0;
    for (let i = 0; i < length; i++) reversed |= ((code >> i) & 1) << (length - 1 - i);
    this.bits(reversed, length);
  }

  finish(): Uint8Array {
    if (this.n > 0) this.bytes[this.at++] = this.acc & 0xff;
    return this.bytes.slice(0, this.at);
  }
}

/**
 * `size` zero bytes as one fixed-Huffman DEFLATE block: a literal 0, then
 * copies of 258 bytes at distance 1 (13 bits each), the rest as literals.
 * About 160:1, written in milliseconds (real compressors take seconds a GB).
 */
function deflateZeros(size: number): Uint8Array {
  const copies = size > 0 ? Math.floor((size - 1) / 258) : 0;
  const literals = size > 0 ? size - copies * 258 : 0;
  const w = new BitWriter(Math.ceil((3 + copies * 13 + literals * 8 + 7) / 8) + 1);
  w.bits(1, 1); // last block
  w.bits(1, 2); // fixed Huffman codes
  const LITERAL_ZERO = 0x30; // symbols 0-143: 8-bit codes from 00110000
  const LENGTH_258 = 0xc5; // symbol 285: 8-bit code 11000101, no extra bits
  if (size > 0) w.code(LITERAL_ZERO, 8);
  for (let i = 0; i < copies; i++) {
    w.code(LENGTH_258, 8);
    w.code(0, 5); // distance code 0: distance 1
  }
  for (let i = 1; i < literals; i++) w.code(LITERAL_ZERO, 8);
  w.code(0, 7); // end of block (symbol 256)
  return w.finish();
}

function crcOfZeros(size: number): number {
  const chunk = new Uint8Array(Math.min(size, 1 << 22));
  let crc = 0;
  for (let left = size; left > 0; left -= chunk.length) crc = CRC32.buf(left >= chunk.length ? chunk : chunk.subarray(0, left), crc);
  return crc >>> 0;
}

export interface RawZipEntry {
  readonly name: string;
  /** Compressed (or stored) bytes as they go in the archive. */
  readonly data: Uint8Array;
  readonly method: 0 | 8;
  readonly crc: number;
  readonly size: number;
}

/** A zip of entries already compressed, with whatever sizes and CRCs they claim (local and central headers agree). */
export function zipOfRaw(entries: readonly RawZipEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const local = new Uint8Array(30 + name.length);
    const lv = new DataView(local.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(6, 0x0800, true);
    lv.setUint16(8, e.method, true);
    lv.setUint32(14, e.crc, true);
    lv.setUint32(18, e.data.length, true);
    lv.setUint32(22, e.size, true);
    lv.setUint16(26, name.length, true);
    local.set(name, 30);
    const central = new Uint8Array(46 + name.length);
    const cv = new DataView(central.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(8, 0x0800, true);
    cv.setUint16(10, e.method, true);
    cv.setUint32(16, e.crc, true);
    cv.setUint32(20, e.data.length, true);
    cv.setUint32(24, e.size, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    central.set(name, 46);
    locals.push(local, e.data);
    centrals.push(central);
    offset += local.length + e.data.length;
  }
  const dirSize = centrals.reduce((n, c) => n + c.length, 0);
  const end = new Uint8Array(22);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  return concat([...locals, ...centrals, end]);
}

/** An entry of `size` zero bytes, deflated (about 160:1), with its true size and CRC. */
export function zerosEntry(name: string, size: number): RawZipEntry {
  return { name, data: deflateZeros(size), method: 8, crc: crcOfZeros(size), size };
}

/** An entry stored as it is. */
export function storedEntry(name: string, bytes: Uint8Array): RawZipEntry {
  return { name, data: bytes, method: 0, crc: CRC32.buf(bytes) >>> 0, size: bytes.length };
}

/** A zip bomb: one entry of `size` zero bytes, deflated, with its true size and CRC. */
export function zerosZip(name: string, size: number): Uint8Array {
  return zipOfRaw([zerosEntry(name, size)]);
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

interface CentralRecord {
  /** Offset of the central directory record in the archive. */
  readonly at: number;
  readonly name: string;
  readonly localHeaderOffset: number;
}

function centralRecords(zip: Uint8Array): CentralRecord[] {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end >= 0 && dv.getUint32(end, true) !== 0x06054b50) end--;
  if (end < 0) throw new Error('test zip: no end-of-central-directory record');
  const count = dv.getUint16(end + 10, true);
  let at = dv.getUint32(end + 16, true);
  const out: CentralRecord[] = [];
  for (let i = 0; i < count; i++) {
    const n = dv.getUint16(at + 28, true);
    out.push({ at, name: new TextDecoder().decode(zip.subarray(at + 46, at + 46 + n)), localHeaderOffset: dv.getUint32(at + 42, true) });
    at += 46 + n + dv.getUint16(at + 30, true) + dv.getUint16(at + 32, true);
  }
  return out;
}

/** A copy of `zip` whose entry `name` claims other values, in the central directory and its local header alike. */
export function withEntryHeader(zip: Uint8Array, name: string, claim: { size?: number; crc?: number; flags?: number; method?: number }): Uint8Array {
  const out = zip.slice();
  const dv = new DataView(out.buffer);
  const record = centralRecords(out).find((r) => r.name === name);
  if (!record) throw new Error(`test zip: no entry ${name}`);
  const patch = (central: number, local: number, write: (at: number) => void) => {
    write(record.at + central);
    write(record.localHeaderOffset + local);
  };
  if (claim.size !== undefined) patch(24, 22, (at) => dv.setUint32(at, claim.size ?? 0, true));
  if (claim.crc !== undefined) patch(16, 14, (at) => dv.setUint32(at, claim.crc ?? 0, true));
  if (claim.flags !== undefined) patch(8, 6, (at) => dv.setUint16(at, claim.flags ?? 0, true));
  if (claim.method !== undefined) patch(10, 8, (at) => dv.setUint16(at, claim.method ?? 0, true));
  return out;
}

/** Where the data of entry `name` starts (after its local header). */
export function entryDataOffset(zip: Uint8Array, name: string): number {
  const record = centralRecords(zip).find((r) => r.name === name);
  if (!record) throw new Error(`test zip: no entry ${name}`);
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  return record.localHeaderOffset + 30 + dv.getUint16(record.localHeaderOffset + 26, true) + dv.getUint16(record.localHeaderOffset + 28, true);
}

/** The same archive in ZIP64 form: its end record's counts and offsets moved to a ZIP64 end record (as tools write for big archives). */
export function asZip64(zip: Uint8Array): Uint8Array {
  const dv = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  let end = zip.length - 22;
  while (end >= 0 && dv.getUint32(end, true) !== 0x06054b50) end--;
  const count = dv.getUint16(end + 10, true);
  const dirSize = dv.getUint32(end + 12, true);
  const dirOffset = dv.getUint32(end + 16, true);
  const record = new Uint8Array(56);
  const rv = new DataView(record.buffer);
  rv.setUint32(0, 0x06064b50, true);
  rv.setBigUint64(4, 44n, true);
  rv.setUint16(12, 45, true);
  rv.setUint16(14, 45, true);
  rv.setBigUint64(24, BigInt(count), true);
  rv.setBigUint64(32, BigInt(count), true);
  rv.setBigUint64(40, BigInt(dirSize), true);
  rv.setBigUint64(48, BigInt(dirOffset), true);
  const locator = new Uint8Array(20);
  const lv = new DataView(locator.buffer);
  lv.setUint32(0, 0x07064b50, true);
  lv.setBigUint64(8, BigInt(end), true);
  lv.setUint32(16, 1, true);
  const eocd = zip.slice(end);
  const ev = new DataView(eocd.buffer);
  ev.setUint16(8, 0xffff, true);
  ev.setUint16(10, 0xffff, true);
  ev.setUint32(12, 0xffffffff, true);
  ev.setUint32(16, 0xffffffff, true);
  return concat([zip.subarray(0, end), record, locator, eocd]);
}

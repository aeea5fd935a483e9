/**
 * The commit log's bytes (log.dat). A 16-byte header, then framed entries:
 *
 *   header: 'DFR1', u32 format version, u32 stage-1 row bytes, u32 CRC-32 of the first 12 bytes
 *   entry:  u32 payload length, u32 CRC-32 of the payload, payload
 *
 * Payloads are binary, little-endian, first byte the kind (JSON would be
 * several times larger and slower to replay at a million faces):
 *
 *   add     1, u32 slot, hash[32], f64 addedAt, f64 dataOffset, u32 detailLength, u32 thumbnailLength,
 *           then label, fileName, thumbnailType each as u16 byte length + UTF-8
 *   delete  2, u32 n, n hashes[32]
 *   relabel 3, u16 label length + UTF-8 label, u32 n, n hashes[32]
 *   compact 4, u32 generation: the files of that generation hold every live face; this log is finished
 *
 * An entry whose bytes are not all there or whose CRC does not match ends the
 * log: it is the torn tail of an interrupted append (or damage, after which
 * nothing can be trusted either).
 */
import CRC32 from 'crc-32';
import type { RandomAccessFile } from './randomAccessFile.ts';
import { HASH_BYTES } from './hashIndex.ts';

export const LOG_HEADER_BYTES = 16;
const MAGIC = [0x44, 0x46, 0x52, 0x31];
const FORMAT_VERSION = 1;
const FRAME_BYTES = 8;

export const ENTRY_ADD = 1;
export const ENTRY_DELETE = 2;
export const ENTRY_RELABEL = 3;
export const ENTRY_COMPACTED = 4;

/** The fixed part of an add payload, before its three strings. */
export const ADD_FIXED_BYTES = 1 + 4 + HASH_BYTES + 8 + 8 + 4 + 4;
/** Labels, file names and types are stored with a u16 length. */
export const MAX_STRING_BYTES = 0xffff;

export function encodeHeader(stage1RowBytes: number): Uint8Array {
  const out = new Uint8Array(LOG_HEADER_BYTES);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  view.setUint32(4, FORMAT_VERSION, true);
  view.setUint32(8, stage1RowBytes, true);
  view.setInt32(12, CRC32.buf(out.subarray(0, 12)), true);
  return out;
}

type HeaderCheck = { ok: true; stage1RowBytes: number } | { ok: false; why: string };

export function decodeHeader(bytes: Uint8Array): HeaderCheck {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (MAGIC.some((m, i) => bytes[i] !== m)) return { ok: false, why: 'it does not start like a face record log' };
  if (view.getInt32(12, true) !== CRC32.buf(bytes.subarray(0, 12))) return { ok: false, why: 'its header is damaged' };
  const version = view.getUint32(4, true);
  if (version !== FORMAT_VERSION) return { ok: false, why: `it is format version ${version}, this app reads version ${FORMAT_VERSION}` };
  return { ok: true, stage1RowBytes: view.getUint32(8, true) };
}

/** Frames payloads into one buffer, ready to append with a single write. */
export function frameEntries(payloads: readonly Uint8Array[]): Uint8Array {
  const total = payloads.reduce((s, p) => s + FRAME_BYTES + p.length, 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const p of payloads) {
    view.setUint32(at, p.length, true);
    view.setInt32(at + 4, CRC32.buf(p), true);
    out.set(p, at + FRAME_BYTES);
    at += FRAME_BYTES + p.length;
  }
  return out;
}

interface AddPayload {
  readonly slot: number;
  readonly hash: Uint8Array;
  readonly hashAt: number;
  readonly addedAt: number;
  readonly dataOffset: number;
  readonly detailLength: number;
  readonly thumbnailLength: number;
  readonly label: Uint8Array;
  readonly fileName: Uint8Array;
  readonly thumbnailType: Uint8Array;
}

export function encodeAdd(a: AddPayload): Uint8Array {
  const out = new Uint8Array(ADD_FIXED_BYTES + 6 + a.label.length + a.fileName.length + a.thumbnailType.length);
  const view = new DataView(out.buffer);
  out[0] = ENTRY_ADD;
  view.setUint32(1, a.slot, true);
  out.set(a.hash.subarray(a.hashAt, a.hashAt + HASH_BYTES), 5);
  view.setFloat64(5 + HASH_BYTES, a.addedAt, true);
  view.setFloat64(13 + HASH_BYTES, a.dataOffset, true);
  view.setUint32(21 + HASH_BYTES, a.detailLength, true);
  view.setUint32(25 + HASH_BYTES, a.thumbnailLength, true);
  let at = ADD_FIXED_BYTES;
  for (const s of [a.label, a.fileName, a.thumbnailType]) {
    view.setUint16(at, s.length, true);
    out.set(s, at + 2);
    at += 2 + s.length;
  }
  return out;
}

/** hashes: n hashes packed, 32 bytes each. */
export function encodeDelete(hashes: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + hashes.length);
  out[0] = ENTRY_DELETE;
  new DataView(out.buffer).setUint32(1, hashes.length / HASH_BYTES, true);
  out.set(hashes, 5);
  return out;
}

export function encodeRelabel(label: Uint8Array, hashes: Uint8Array): Uint8Array {
  const out = new Uint8Array(7 + label.length + hashes.length);
  const view = new DataView(out.buffer);
  out[0] = ENTRY_RELABEL;
  view.setUint16(1, label.length, true);
  out.set(label, 3);
  view.setUint32(3 + label.length, hashes.length / HASH_BYTES, true);
  out.set(hashes, 7 + label.length);
  return out;
}

export function encodeCompacted(generation: number): Uint8Array {
  const out = new Uint8Array(5);
  out[0] = ENTRY_COMPACTED;
  new DataView(out.buffer).setUint32(1, generation, true);
  return out;
}

/** Why replay stopped where it did. */
export type LogEnd = 'end' | 'incomplete-entry' | 'bad-checksum' | 'bad-entry' | 'missing-data';

/**
 * Calls `onPayload` for each whole, CRC-valid entry from `start` up to `end`,
 * reading the file in large sequential chunks. `onPayload` returns a LogEnd
 * reason to stop before that entry (it did not apply it) or null to go on.
 * Returns the offset just past the last accepted entry and why it stopped.
 */
export function scanLog(file: RandomAccessFile, start: number, end: number, onPayload: (buf: Uint8Array, view: DataView, at: number, length: number) => LogEnd | null): { end: number; why: LogEnd } {
  let buf = new Uint8Array(Math.min(8 << 20, Math.max(4096, end - start)));
  let view = new DataView(buf.buffer);
  let bufStart = start;
  let bufLen = 0;
  // Makes bytes [pos, pos + n) of the file present in buf; false when the file ends before them.
  const ensure = (pos: number, n: number): boolean => {
    if (pos + n <= bufStart + bufLen) return true;
    const keep = bufStart + bufLen - pos;
    if (n > buf.length) {
      const grown = new Uint8Array(n);
      grown.set(buf.subarray(pos - bufStart, bufLen));
      buf = grown;
      view = new DataView(buf.buffer);
    } else {
      buf.copyWithin(0, pos - bufStart, bufLen);
    }
    bufStart = pos;
    bufLen = keep;
    while (bufLen < n) {
      const want = Math.min(buf.length - bufLen, end - (bufStart + bufLen));
      if (want <= 0) return false;
      const got = file.read(buf.subarray(bufLen, bufLen + want), bufStart + bufLen);
      if (got <= 0) return false;
      bufLen += got;
    }
    return true;
  };
  let pos = start;
  for (;;) {
    if (pos === end) return { end: pos, why: 'end' };
    if (pos + FRAME_BYTES > end || !ensure(pos, FRAME_BYTES)) return { end: pos, why: 'incomplete-entry' };
    const length = view.getUint32(pos - bufStart, true);
    const crc = view.getInt32(pos - bufStart + 4, true);
    if (length === 0) return { end: pos, why: 'bad-entry' };
    if (pos + FRAME_BYTES + length > end || !ensure(pos, FRAME_BYTES + length)) return { end: pos, why: 'incomplete-entry' };
    const at = pos - bufStart + FRAME_BYTES;
    if (CRC32.buf(buf.subarray(at, at + length)) !== crc) return { end: pos, why: 'bad-checksum' };
    const stop = onPayload(buf, view, at, length);
    if (stop !== null) return { end: pos, why: stop };
    pos += FRAME_BYTES + length;
  }
}

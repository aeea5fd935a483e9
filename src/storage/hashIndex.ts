/**
 * Content hash -> slot, for galleries of a million faces. A Map keyed by the
 * 64-character hex strings would cost well over 100 bytes a face in string
 * headers and map entries; here each slot's hash is 32 raw bytes in one
 * array, and an open-addressing table of slot numbers (linear probing, at
 * most half full) finds them.
 *
 * Slots are only ever added (the store is append-only): a hash added again
 * after a delete gets a new slot, and the table then points at the newest
 * one, so entries never need removing and no tombstones are needed.
 */

export const HASH_BYTES = 32;

/** The two ASCII hex digits of each byte value, as char codes: PrefixedHashText writes them into one buffer and decodes it once. */
const HEX_CODES = new Uint8Array(512);
for (let b = 0; b < 256; b++) {
  const digits = b.toString(16).padStart(2, '0');
  HEX_CODES[2 * b] = digits.charCodeAt(0);
  HEX_CODES[2 * b + 1] = digits.charCodeAt(1);
}
const asciiDecoder = new TextDecoder();

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Writes the 32 bytes of a 64-character lowercase hex hash into `out` at `at`; false (and `out` partly written) when `hex` is not one. */
export function parseHash(hex: string, out: Uint8Array, at: number): boolean {
  if (hex.length !== 2 * HASH_BYTES) return false;
  for (let i = 0; i < HASH_BYTES; i++) {
    const hi = hexValue(hex.charCodeAt(2 * i));
    const lo = hexValue(hex.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) return false;
    out[at + i] = (hi << 4) | lo;
  }
  return true;
}

/**
 * Builds `prefix + hex(hash)` strings, each one flat string from one decode: appending 32 two-character pieces would
 * leave a rope of ~26 cons-string nodes in V8 (~0.7 kB a hash), and joining a prefix to a hash string a two-node rope
 * (and the hash string). Start-up makes a key a face, so at a million faces that was most of the page's memory beside
 * the rows.
 */
export class PrefixedHashText {
  private readonly buf: Uint8Array;
  private readonly at: number;

  constructor(prefix: string) {
    const bytes = new TextEncoder().encode(prefix);
    this.buf = new Uint8Array(bytes.length + 2 * HASH_BYTES);
    this.buf.set(bytes);
    this.at = bytes.length;
  }

  of(index: HashIndex, slot: number): string {
    const bytes = index.bytes(slot);
    for (let i = 0; i < HASH_BYTES; i++) {
      this.buf[this.at + 2 * i] = HEX_CODES[2 * bytes[i]];
      this.buf[this.at + 2 * i + 1] = HEX_CODES[2 * bytes[i] + 1];
    }
    return asciiDecoder.decode(this.buf);
  }
}

export class HashIndex {
  /** Slot s's hash is hashes[32 s, 32 s + 32). */
  private hashes = new Uint8Array(HASH_BYTES * 1024);
  /** Slot + 1, or 0 for an empty bucket. */
  private table = new Int32Array(4096);
  private slots = 0;

  get count(): number {
    return this.slots;
  }

  /** The newest slot holding this hash, or -1. */
  find(key: Uint8Array, at: number): number {
    const mask = this.table.length - 1;
    const hashes = this.hashes;
    for (let b = this.bucketOf(key, at) & mask; ; b = (b + 1) & mask) {
      const entry = this.table[b];
      if (entry === 0) return -1;
      const base = (entry - 1) * HASH_BYTES;
      let same = true;
      for (let i = 0; i < HASH_BYTES; i++) {
        if (hashes[base + i] !== key[at + i]) {
          same = false;
          break;
        }
      }
      if (same) return entry - 1;
    }
  }

  /** Gives the hash the next slot (returned); the table then maps the hash to it. */
  add(key: Uint8Array, at: number): number {
    const slot = this.slots;
    if ((slot + 1) * HASH_BYTES > this.hashes.length) {
      const grown = new Uint8Array(this.hashes.length * 2);
      grown.set(this.hashes);
      this.hashes = grown;
    }
    const hashes = this.hashes;
    const base = slot * HASH_BYTES;
    for (let i = 0; i < HASH_BYTES; i++) hashes[base + i] = key[at + i];
    this.slots++;
    if (this.slots * 2 > this.table.length) this.rehash(this.table.length * 2);
    else this.insert(slot);
    return slot;
  }

  /** Makes room for `slots` slots at once (replay knows roughly how many from the log's size), sparing the doublings. */
  reserve(slots: number): void {
    if (slots * HASH_BYTES > this.hashes.length) {
      const grownHashes = new Uint8Array(slots * HASH_BYTES);
      grownHashes.set(this.hashes.subarray(0, this.slots * HASH_BYTES));
      this.hashes = grownHashes;
    }
    let size = this.table.length;
    while (slots * 2 > size) size *= 2;
    if (size !== this.table.length) this.rehash(size);
  }

  hex(slot: number): string {
    return plainHex.of(this, slot);
  }

  /** The raw hash bytes of a slot (a view: copy before the next add). */
  bytes(slot: number): Uint8Array {
    return this.hashes.subarray(slot * HASH_BYTES, (slot + 1) * HASH_BYTES);
  }

  reset(): void {
    this.hashes = new Uint8Array(HASH_BYTES * 1024);
    this.table = new Int32Array(4096);
    this.slots = 0;
  }

  /** Bytes held, for the store's memory estimate. */
  get byteLength(): number {
    return this.hashes.byteLength + this.table.byteLength;
  }

  /** Mixes all 32 bytes: real keys are SHA-256 and uniform anyway, but a key pattern with equal leading bytes (test data, another hash) must not pile into one chain. */
  private bucketOf(key: Uint8Array, at: number): number {
    let h = 0x9e3779b9;
    for (let i = at; i < at + HASH_BYTES; i += 4) {
      h = Math.imul(h ^ (key[i] | (key[i + 1] << 8) | (key[i + 2] << 16) | (key[i + 3] << 24)), 0x85ebca6b);
      h ^= h >>> 13;
    }
    return (h ^ (h >>> 16)) >>> 0;
  }

  private insert(slot: number): void {
    const mask = this.table.length - 1;
    const base = slot * HASH_BYTES;
    for (let b = this.bucketOf(this.hashes, base) & mask; ; b = (b + 1) & mask) {
      const entry = this.table[b];
      if (entry === 0) {
        this.table[b] = slot + 1;
        return;
      }
      const other = (entry - 1) * HASH_BYTES;
      let same = true;
      for (let i = 0; i < HASH_BYTES; i++) {
        if (this.hashes[other + i] !== this.hashes[base + i]) {
          same = false;
          break;
        }
      }
      if (same) {
        this.table[b] = slot + 1;
        return;
      }
    }
  }

  private rehash(size: number): void {
    this.table = new Int32Array(size);
    // In slot order, so a hash held by several slots ends up pointing at its newest one.
    for (let s = 0; s < this.slots; s++) this.insert(s);
  }
}

/** HashIndex.hex's builder: no prefix. */
const plainHex = new PrefixedHashText('');

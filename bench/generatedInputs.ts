/**
 * Inputs that once froze the app page, generated on demand (nothing binary
 * is committed): shared by the long-task bench and the end-to-end test.
 */
import { createDeflate } from 'node:zlib';
import { zipSync } from 'fflate';

/** 5,000 distinct small files named like photos but holding text: each is hashed and refused by a worker. */
export function manyTinyFilesZip(n: number): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const enc = new TextEncoder();
  for (let i = 0; i < n; i++) files[`many/Person_${i % 50}/photo_${String(i).padStart(5, '0')}.jpg`] = enc.encode(`not a photo, file number ${i}`);
  return zipSync(files, { level: 0 });
}

function be32(v: number): number[] {
  return [(v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
  }
  return ~c >>> 0;
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const typed = new Uint8Array(4 + data.length);
  typed.set([...type].map((ch) => ch.charCodeAt(0)));
  typed.set(data, 4);
  return concat([Uint8Array.from(be32(data.length)), typed, Uint8Array.from(be32(crc32(typed)))]);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * A genuine, valid mid-grey PNG of side x side pixels, as a user's huge scan
 * would be. Its scanlines (400 MB at 20000 x 20000) go through the native
 * deflate a block of rows at a time, so they are never all in memory.
 */
export async function hugeGreyPng(side: number): Promise<Uint8Array> {
  const rowsPerBlock = 500;
  const block = new Uint8Array((side + 1) * rowsPerBlock);
  for (let r = 0; r < rowsPerBlock; r++) block.fill(128, r * (side + 1) + 1, (r + 1) * (side + 1));
  const zlib = createDeflate({ level: 1 });
  const idat: Uint8Array[] = [];
  zlib.on('data', (chunk: Buffer) => idat.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    zlib.on('end', resolve);
    zlib.on('error', reject);
  });
  for (let y = 0; y < side; y += rowsPerBlock) {
    const rows = Math.min(rowsPerBlock, side - y);
    // Respect back-pressure: wait for the compressor to drain before the next block.
    if (!zlib.write(block.subarray(0, rows * (side + 1)))) await new Promise((resolve) => zlib.once('drain', resolve));
  }
  zlib.end();
  await ended;
  const ihdr = Uint8Array.from([...be32(side), ...be32(side), 8, 0, 0, 0, 0]);
  const signature = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return concat([signature, pngChunk('IHDR', ihdr), pngChunk('IDAT', concat(idat)), pngChunk('IEND', new Uint8Array(0))]);
}

/**
 * Inputs that once froze the app page, generated on demand (nothing binary
 * is committed): shared by the long-task bench and the end-to-end test.
 */
import { createDeflate } from 'node:zlib';
import { zipSync } from 'fflate';
import { be32, concat, PNG_SIGNATURE, pngChunk } from '../tests/support/pngChunks.ts';

/** 5,000 distinct small files named like photos but holding text: each is hashed and refused by a worker. */
export function manyTinyFilesZip(n: number): Uint8Array {
  const files: Record<string, Uint8Array> = {};
  const enc = new TextEncoder();
  for (let i = 0; i < n; i++) files[`many/Person_${i % 50}/photo_${String(i).padStart(5, '0')}.jpg`] = enc.encode(`not a photo, file number ${i}`);
  return zipSync(files, { level: 0 });
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
  return concat([PNG_SIGNATURE, pngChunk('IHDR', ihdr), pngChunk('IDAT', concat(idat)), pngChunk('IEND', new Uint8Array(0))]);
}

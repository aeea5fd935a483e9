import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../../src/core/hash.ts';
import { seededRandom } from '../../../src/core/random.ts';

describe('sha256Hex', () => {
  it('gives the FIPS 180-2 example digests', async () => {
    expect(await sha256Hex(new TextEncoder().encode('abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(await sha256Hex(new Uint8Array(0))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('agrees with node:crypto on random bytes, given an ArrayBuffer or a view into a larger buffer', async () => {
    const random = seededRandom(3);
    const buffer = Uint8Array.from({ length: 5000 }, () => Math.floor(random() * 256));
    const view = buffer.subarray(123, 4321);
    const nodeHex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
    expect(await sha256Hex(buffer.buffer)).toBe(nodeHex(buffer));
    // Only the view's bytes count, not the whole buffer behind it.
    expect(await sha256Hex(view)).toBe(nodeHex(view));
    expect(await sha256Hex(view)).not.toBe(nodeHex(buffer));
  });
});

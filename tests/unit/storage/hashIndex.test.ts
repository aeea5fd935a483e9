/**
 * HashIndex against plain JS: every added hash is found at its slot, a
 * re-added hash points at its newest slot, and hex(slot) spells the bytes as
 * toString(16) does (every byte value included), for hashes written one
 * after another into the decoder's shared buffer.
 */
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';
import { HASH_BYTES, HashIndex, parseHash } from '../../../src/storage/hashIndex.ts';

function hexOf(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

describe('HashIndex', () => {
  it('finds every hash, re-added ones at their newest slot, and spells each slot as its hex', () => {
    const rand = seededRandom(32);
    const hashes = Array.from({ length: 3000 }, (_, i) => {
      const h = Uint8Array.from({ length: HASH_BYTES }, () => Math.floor(rand() * 256));
      // Every byte value appears somewhere: the first hashes count through 0..255.
      if (i < 8) for (let j = 0; j < HASH_BYTES; j++) h[j] = i * HASH_BYTES + j;
      return h;
    });
    const index = new HashIndex();
    const slots = hashes.map((h) => index.add(h, 0));
    const again = index.add(hashes[5], 0);
    expect(index.count).toBe(hashes.length + 1);
    hashes.forEach((h, i) => {
      expect(index.find(h, 0)).toBe(i === 5 ? again : slots[i]);
      expect(index.hex(slots[i])).toBe(hexOf(h));
    });
    const parsed = new Uint8Array(HASH_BYTES);
    expect(parseHash(index.hex(slots[7]), parsed, 0)).toBe(true);
    expect(Array.from(parsed)).toEqual(Array.from(hashes[7]));
    expect(
      index.find(
        Uint8Array.from({ length: HASH_BYTES }, () => 255),
        0,
      ),
    ).toBe(-1);
  });
});

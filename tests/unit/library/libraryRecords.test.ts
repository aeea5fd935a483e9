import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { decodeLibraryFaceName, encodeLibraryFaceName, libraryFaceHash, libraryModelKey, unnamedPersonId, unnamedPersonLabel, validPersonName } from '../../../src/library/libraryRecords.ts';

const HASH = 'ab'.repeat(32);

describe('library face records', () => {
  it('a face name round-trips path, photo hash, index and box, whatever the path holds', () => {
    for (const path of ['a.jpg', 'Trips 2019/Ünïcode, commas & spaces/IMG 1.JPG', 'x/y/z/deep.png']) {
      const ref = { path, photoHash: HASH, faceIndex: 3, box: [-4, 12, 40, 52] as const };
      expect(decodeLibraryFaceName(encodeLibraryFaceName(ref))).toEqual({ ...ref, box: [-4, 12, 40, 52] });
    }
    expect(decodeLibraryFaceName(encodeLibraryFaceName({ path: 'p.jpg', photoHash: HASH, faceIndex: 0, box: [1.4, 2.6, 30.5, 40] }))?.box).toEqual([1, 3, 31, 40]);
  });

  it('names that are not a library face’s decode as null', () => {
    const good = encodeLibraryFaceName({ path: 'p.jpg', photoHash: HASH, faceIndex: 0, box: [0, 0, 10, 10] });
    const bad = [
      'Ann/Ann_0001.jpg',
      good.replace(HASH, 'zz'.repeat(32)),
      good.replace('\u001f0\u001f', '\u001f-1\u001f'),
      good.replace('0,0,10,10', '0,0,0,10'),
      good.replace('0,0,10,10', '0,0,10'),
      `${good}\u001fextra`,
    ];
    for (const name of bad) expect(decodeLibraryFaceName(name)).toBeNull();
  });

  it('face hashes are the SHA-256 of "photo:index" (checked with node:crypto), one per face', async () => {
    expect(await libraryFaceHash(HASH, 2)).toBe(createHash('sha256').update(`${HASH}:2`).digest('hex'));
    expect(await libraryFaceHash(HASH, 0)).not.toBe(await libraryFaceHash(HASH, 1));
    expect(libraryModelKey('mfn-faceres@3')).not.toBe('mfn-faceres@3');
  });

  it('unnamed people are #n; typed names are trimmed and never take that form', () => {
    expect(unnamedPersonId(unnamedPersonLabel(17))).toBe(17);
    for (const label of ['Ann', '', '#', '#x', '#-1', '#1.5']) expect(unnamedPersonId(label)).toBeNull();
    expect(validPersonName('  Mary   Jane \n')).toBe('Mary Jane');
    for (const typed of ['', ' \t ', '#12', ' #Ann', 'a'.repeat(101)]) expect(() => validPersonName(typed)).toThrow(expect.objectContaining({ code: 'invalid-argument', hint: expect.any(String) }));
  });
});

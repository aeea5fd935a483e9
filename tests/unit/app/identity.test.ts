import { describe, expect, it } from 'vitest';
import { guessQueryIdentity, identityFromPath, looksLikeImageName } from '../../../src/app/identity.ts';

describe('identityFromPath', () => {
  it('uses the folder holding the image (LFW layout)', () => {
    expect(identityFromPath('lfw-mini/Aaron_Tippin/Aaron_Tippin_0001.jpg')).toBe('Aaron_Tippin');
    expect(identityFromPath('a/b/Ann/x.png')).toBe('Ann');
  });
  it('makes an image straight in the dropped folder its own identity', () => {
    expect(identityFromPath('holiday/IMG_0042.JPG')).toBe('IMG_0042');
    expect(identityFromPath('solo.photo.jpeg')).toBe('solo.photo');
  });
});

describe('guessQueryIdentity', () => {
  const ids = new Set(['Aaron_Tippin', 'Bob']);
  it('reads LFW-style stems and folders, and nothing else', () => {
    expect(guessQueryIdentity('Aaron_Tippin_0003.jpg', ids)).toBe('Aaron_Tippin');
    expect(guessQueryIdentity('x/Bob/p.jpg', ids)).toBe('Bob');
    expect(guessQueryIdentity('Carol_0001.jpg', ids)).toBeUndefined();
  });
  it('recognises image names', () => {
    expect(looksLikeImageName('a.JPG')).toBe(true);
    expect(looksLikeImageName('notes.txt')).toBe(false);
  });
});

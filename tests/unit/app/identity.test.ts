import { describe, expect, it } from 'vitest';
import { guessQueryIdentity, identityFromPath, looksLikeImageName, zipEntryPathProblem } from '../../../src/app/identity.ts';

describe('identityFromPath', () => {
  it('uses the folder holding the image (LFW layout)', () => {
    expect(identityFromPath('lfw-mini/Aaron_Tippin/Aaron_Tippin_0001.jpg')).toBe('Aaron_Tippin');
    expect(identityFromPath('a/b/Ann/x.png')).toBe('Ann');
  });
  it('makes an image straight in the dropped folder its own identity', () => {
    expect(identityFromPath('holiday/IMG_0042.JPG')).toBe('IMG_0042');
    expect(identityFromPath('solo.photo.jpeg')).toBe('solo.photo');
  });
  it('splits only at "/": a backslash is part of a name, never a folder', () => {
    expect(identityFromPath('z/<img src=x>/<script>a<\\script>.jpg')).toBe('<img src=x>');
    expect(identityFromPath('z/Ann\\Bob/1.jpg')).toBe('Ann\\Bob');
    expect(identityFromPath('z/Ann\\1.jpg')).toBe('Ann\\1');
  });
});

describe('zipEntryPathProblem', () => {
  it('accepts relative paths, backslashes and "." folders included', () => {
    for (const ok of ['Ann/1.jpg', '1.jpg', 'a/b/c/Ann/1.jpg', 'Ann\\1.jpg', './Ann/1.jpg', 'Ann/..hidden.jpg']) expect(zipEntryPathProblem(ok), ok).toBeUndefined();
  });
  it.each([
    ['/abs/Name/1.jpg', 'absolute (it starts with "/")'],
    ['C:/Name/1.jpg', 'drive "C:"'],
    ['c:Name.jpg', 'drive "c:"'],
    ['../Name/1.jpg', 'climbs out'],
    ['Ann/../../1.jpg', 'climbs out'],
    ['Ann/..', 'climbs out'],
    ['Ann//1.jpg', 'empty folder name'],
    ['', 'no name'],
  ])('refuses %j: %s', (name, why) => {
    expect(zipEntryPathProblem(name)).toContain(why);
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

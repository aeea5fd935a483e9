import { strToU8, Zip, ZipDeflate, zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import type { ImportProblem } from '../../../src/app/engineApi.ts';
import { expandZips, ZIP_LIMITS, type ImportEntry, type ZipLimits } from '../../../src/app/zipEntries.ts';
import { asZip64, entryDataOffset, withEntryHeader, zerosZip } from '../../support/zipFiles.ts';

const MB = 1e6;

async function expand(zips: Record<string, Uint8Array>, limits?: ZipLimits): Promise<{ entries: ImportEntry[]; problems: ImportProblem[] }> {
  const problems: ImportProblem[] = [];
  const input = Object.entries(zips).map(([path, bytes]) => ({ path, file: new Blob([bytes as Uint8Array<ArrayBuffer>]) }));
  const entries = await expandZips(input, problems, limits);
  return { entries, problems };
}

async function text(e: ImportEntry): Promise<string> {
  return e.file.text();
}

describe('expandZips: what is inside', () => {
  it('reads stored and deflated entries, and the data-descriptor form streaming zippers write', async () => {
    const stored = zipSync({ 'Ann/1.jpg': [strToU8('face:Ann:0'), { level: 0 }] });
    const deflated = zipSync({ 'Bob/1.jpg': [strToU8('face:Bob:0'.repeat(1000)), { level: 9 }] });
    const streamed: Uint8Array[] = [];
    const zip = new Zip((err, chunk) => {
      if (err) throw err;
      streamed.push(chunk);
    });
    const file = new ZipDeflate('Cid/1.jpg');
    zip.add(file);
    file.push(strToU8('face:Cid:0'), true);
    zip.end();
    const { entries, problems } = await expand({ 'a.zip': stored, 'b.zip': deflated, 'c.zip': new Uint8Array(await new Blob(streamed as Uint8Array<ArrayBuffer>[]).arrayBuffer()) });
    expect(problems).toEqual([]);
    expect(entries.map((e) => e.path)).toEqual(['a/Ann/1.jpg', 'b/Bob/1.jpg', 'c/Cid/1.jpg']);
    expect(await Promise.all(entries.map(text))).toEqual(['face:Ann:0', 'face:Bob:0'.repeat(1000), 'face:Cid:0']);
  });

  it('reads a ZIP64 archive', async () => {
    const { entries, problems } = await expand({ 'big.zip': asZip64(zipSync({ 'Ann/1.jpg': strToU8('face:Ann:0') })) });
    expect(problems).toEqual([]);
    expect(await Promise.all(entries.map(text))).toEqual(['face:Ann:0']);
  });

  it('says why a file is not a zip at all', async () => {
    const { entries, problems } = await expand({ 'broken.zip': strToU8('PK, but only a text that says it is a zip archive'), 'tiny.zip': strToU8('PK') });
    expect(entries).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'broken.zip',
        code: 'corrupt-archive',
        message: 'not a readable zip archive: its end-of-archive record is missing (the file is not a zip, or it was cut short)',
      }),
      expect.objectContaining({ file: 'tiny.zip', code: 'corrupt-archive', message: 'not a readable zip archive: it is 2 bytes, too short to be a zip' }),
    ]);
  });
});

describe('expandZips: damaged entries', () => {
  it('refuses an entry whose bytes fail the CRC the archive records, naming it, and keeps the others', async () => {
    const zip = zipSync({ 'Ann/1.jpg': [strToU8('face:Ann:0'), { level: 0 }], 'Ann/2.jpg': [strToU8('face:Ann:1'), { level: 0 }] });
    const damaged = zip.slice();
    damaged[entryDataOffset(zip, 'Ann/2.jpg') + 3] ^= 0x20;
    const { entries, problems } = await expand({ 'set.zip': damaged });
    expect(entries.map((e) => e.path)).toEqual(['set/Ann/1.jpg']);
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'set/Ann/2.jpg',
        code: 'corrupt-archive',
        message: expect.stringMatching(/the zip entry is damaged: its CRC-32 is [0-9a-f]{8}, but the archive records [0-9a-f]{8}/),
      }),
    ]);
  });

  it('refuses deflated data that is not valid', async () => {
    const zip = zipSync({ 'Ann/1.jpg': [strToU8('face:Ann:0'.repeat(50)), { level: 6 }] });
    const damaged = zip.slice();
    damaged[entryDataOffset(zip, 'Ann/1.jpg')] = 0xff; // a reserved block type
    const { problems } = await expand({ 'set.zip': damaged });
    expect(problems).toEqual([expect.objectContaining({ file: 'set/Ann/1.jpg', code: 'corrupt-archive', message: expect.stringMatching(/damaged/) })]);
  });

  it('stops unpacking an entry that lies about its size at the size it declared', async () => {
    // 50 MB of zeros claiming to be 1,000 bytes: under every limit by its header, a bomb by its data.
    const liar = withEntryHeader(zerosZip('Ann/1.jpg', 50 * MB), 'Ann/1.jpg', { size: 1000 });
    const before = process.memoryUsage().arrayBuffers;
    const { entries, problems } = await expand({ 'liar.zip': liar });
    const grown = process.memoryUsage().arrayBuffers - before;
    expect(entries).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({ file: 'liar/Ann/1.jpg', code: 'corrupt-archive', message: expect.stringContaining('it unpacks to more than the 1000 bytes its header declares') }),
    ]);
    // At most one inflated piece (16 kB in, ~17 MB out) was ever held, not the 50 MB.
    expect(grown).toBeLessThan(30 * MB);
  });

  it('refuses an entry shorter than it declares', async () => {
    const zip = withEntryHeader(zipSync({ 'Ann/1.jpg': strToU8('face:Ann:0') }), 'Ann/1.jpg', { size: 11 });
    const { problems } = await expand({ 'short.zip': zip });
    expect(problems).toEqual([expect.objectContaining({ file: 'short/Ann/1.jpg', code: 'corrupt-archive', message: expect.stringContaining('unpacks to 10 bytes, but its header declares 11') })]);
  });

  it('lists encrypted entries and unknown compression methods instead of failing on them', async () => {
    const zip = zipSync({ 'Ann/1.jpg': strToU8('face:Ann:0'), 'Ann/2.jpg': strToU8('face:Ann:1') });
    const odd = withEntryHeader(withEntryHeader(zip, 'Ann/1.jpg', { flags: 0x0801 }), 'Ann/2.jpg', { method: 14 });
    const { entries, problems } = await expand({ 'odd.zip': odd });
    expect(entries).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({ file: 'odd/Ann/1.jpg', code: 'unsupported-archive', message: expect.stringContaining('encrypted') }),
      expect.objectContaining({ file: 'odd/Ann/2.jpg', code: 'unsupported-archive', message: expect.stringContaining('compression method 14') }),
    ]);
  });
});

describe('expandZips: limits', () => {
  it('the limits are the ones the README states', () => {
    expect(ZIP_LIMITS).toEqual({ entryBytes: 200 * MB, totalBytes: 1000 * MB, ratio: 100, ratioFloorBytes: 1 * MB, files: 20_000 });
  });

  it('refuses a zip bomb from its declared size without unpacking it', async () => {
    // 210 MB of zeros in a 1.3 MB zip: over the 200 MB one-file limit.
    const bomb = zerosZip('bomb/zeros.jpg', 210 * MB);
    const before = process.memoryUsage().arrayBuffers;
    const t0 = performance.now();
    const { entries, problems } = await expand({ 'bomb.zip': bomb });
    const ms = performance.now() - t0;
    expect(entries).toEqual([]);
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'bomb/bomb/zeros.jpg',
        code: 'archive-limit',
        message: 'not unpacked: it would unpack to 210 MB, over the 200 MB limit for one file (larger than any image the app accepts)',
        hint: expect.stringMatching(/resize/),
      }),
    ]);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(20 * MB);
    expect(ms).toBeLessThan(2_000);
  });

  it('refuses an entry compressed more than 100:1 above 1 MB, and not a small one', async () => {
    const zip = zipSync({ 'Ann/flat.bmp': new Uint8Array(20 * MB), 'Ann/small.bmp': new Uint8Array(900_000) });
    const { entries, problems } = await expand({ 'flat.zip': zip });
    expect(entries.map((e) => e.path)).toEqual(['flat/Ann/small.bmp']);
    expect(problems).toEqual([
      expect.objectContaining({
        file: 'flat/Ann/flat.bmp',
        code: 'archive-limit',
        message: expect.stringMatching(/would unpack to 20 MB \(\d+:1, over the 100:1 limit; photos barely compress, so this looks like a zip bomb\)/),
      }),
    ]);
  });

  it('unpacks at most the total of one import, across its zips, and says how many files were left', async () => {
    const files = (prefix: string) => Object.fromEntries([0, 1, 2].map((i) => [`${prefix}/${i}.jpg`, [new Uint8Array(400).fill(i + 1), { level: 0 }] as [Uint8Array, { level: 0 }]]));
    const limits = { ...ZIP_LIMITS, totalBytes: 1000 };
    const { entries, problems } = await expand({ 'a.zip': zipSync(files('Ann')), 'b.zip': zipSync(files('Bob')) }, limits);
    expect(entries.map((e) => e.path)).toEqual(['a/Ann/0.jpg', 'a/Ann/1.jpg']);
    expect(problems).toEqual([
      {
        file: 'a.zip',
        code: 'archive-limit',
        message: '1 more file was not unpacked: with them the zips of this import would unpack to more than 1 kB',
        hint: expect.stringMatching(/Split the archive/),
      },
      {
        file: 'b.zip',
        code: 'archive-limit',
        message: '3 more files were not unpacked: with them the zips of this import would unpack to more than 1 kB',
        hint: expect.stringMatching(/Split the archive/),
      },
    ]);
  });

  it('takes at most the file count of one import (folders and junk not counted) and summarises the rest', async () => {
    const zip = zipSync({
      'Ann/': new Uint8Array(0),
      '__MACOSX/Ann/._1.jpg': strToU8('fork'),
      ...Object.fromEntries([1, 2, 3, 4, 5].map((i) => [`Ann/${i}.jpg`, strToU8(`face:Ann:${i}`)])),
    });
    const { entries, problems } = await expand({ 'many.zip': zip }, { ...ZIP_LIMITS, files: 3 });
    expect(entries.map((e) => e.path)).toEqual(['many/Ann/1.jpg', 'many/Ann/2.jpg', 'many/Ann/3.jpg']);
    expect(problems).toEqual([
      { file: 'many.zip', code: 'archive-limit', message: '2 more files were not read: the zips of one import may hold at most 3 files', hint: expect.stringMatching(/Split the archive/) },
    ]);
  });
});

describe('expandZips: paths', () => {
  it('lists entries whose path leaves the archive or is absolute, and keeps a backslash as part of a name', async () => {
    const zip = zipSync({
      'Ann/1.jpg': strToU8('face:Ann:1'),
      '../../evil/Eve_0001.jpg': strToU8('face:Eve:1'),
      'Ann/../../Eve_0002.jpg': strToU8('face:Eve:2'),
      '/abs/Name/Name_0001.jpg': strToU8('face:Name:1'),
      'C:/Users/Name/Name_0002.jpg': strToU8('face:Name:2'),
      'Ann//2.jpg': strToU8('face:Ann:2'),
      '<img src=x>/<script>a<\\script>.jpg': strToU8('face:Hostile:1'),
      '../.hidden': strToU8('x'),
    });
    const { entries, problems } = await expand({ 'p.zip': zip });
    expect(entries.map((e) => e.path)).toEqual(['p/Ann/1.jpg', 'p/<img src=x>/<script>a<\\script>.jpg']);
    const byFile = Object.fromEntries(problems.map((p) => [p.file, p]));
    expect(Object.keys(byFile).sort()).toEqual(
      ['p/../../evil/Eve_0001.jpg', 'p/../.hidden', 'p/Ann/../../Eve_0002.jpg', 'p//abs/Name/Name_0001.jpg', 'p/Ann//2.jpg', 'p/C:/Users/Name/Name_0002.jpg'].sort(),
    );
    expect(problems.every((p) => p.code === 'unsafe-path' && p.message.startsWith('not imported: ') && /Make the archive again/.test(p.hint))).toBe(true);
    expect(byFile['p/../../evil/Eve_0001.jpg'].message).toContain('climbs out of the archive');
    expect(byFile['p//abs/Name/Name_0001.jpg'].message).toContain('absolute (it starts with "/")');
    expect(byFile['p/C:/Users/Name/Name_0002.jpg'].message).toContain('drive "C:"');
    expect(byFile['p/Ann//2.jpg'].message).toContain('empty folder name');
  });
});

/**
 * `npm run cluster` and `npm run search` (issue 17) on a small photo library
 * generated here from lfw-mini: group photos of three people in pairs and a
 * trio (one cut by the edge), a single portrait and a photo without a face.
 * Who stands where is known from the composition, so the CLIs' JSON is
 * checked against it, not against the app's own output.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import { expect, test } from '@playwright/test';
import { composeLibrary, LFW_MINI, lfwMiniPhoto, writeLibrary, type GroupLibraryPhoto } from '../support/groupLibrary.ts';

const [A, B, C] = ['Angela_Merkel', 'Alastair_Campbell', 'Ai_Sugiyama'];

function library(): GroupLibraryPhoto[] {
  const groups = composeLibrary(
    [
      {
        path: 'a/p1.jpg',
        people: [
          [A, 1],
          [B, 1],
        ],
      },
      {
        path: 'a/p2.jpg',
        people: [
          [B, 2],
          [C, 1],
        ],
      },
      {
        path: 'b/p3.jpg',
        people: [
          [C, 2],
          [A, 2],
        ],
      },
      {
        path: 'b/p4.jpg',
        people: [
          [A, 3],
          [B, 3],
          [C, 3],
        ],
        cutRight: 0.15,
      },
      { path: 'b/c/p5.jpg', people: [[C, 4]] },
    ],
    5,
  );
  const grey = jpeg.encode({ data: Buffer.alloc(300 * 200 * 4, 128), width: 300, height: 200 }, 90).data;
  return [...groups, { path: 'b/landscape.jpg', bytes: new Uint8Array(grey), people: [] }];
}

/** Who a found face is: the person whose pasted photo holds the box's centre. */
function personAt(photos: readonly GroupLibraryPhoto[], file: string, box: readonly number[]): string {
  const cx = box[0] + box[2] / 2;
  const hit = photos.find((p) => p.path === file)?.people.find((p) => cx >= p.x0 && cx < p.x1);
  if (!hit) throw new Error(`no placed person under the box ${box.join(',')} of ${file}`);
  return hit.person;
}

function run(script: string, args: readonly string[]): string {
  const r = spawnSync('npx', ['tsx', script, ...args], { encoding: 'utf8', timeout: 400_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

test('npm run cluster and npm run search on a generated group-photo library', async () => {
  test.setTimeout(900_000);
  if (!existsSync(LFW_MINI)) throw new Error(`Test data missing: ${LFW_MINI}`);
  const photos = library();
  const dir = writeLibrary('Library', photos);
  const out = mkdtempSync(join(tmpdir(), 'library-cli-'));

  run('bench/cluster.ts', ['--gallery', dir, '--json', join(out, 'cluster.json')]);
  const clustered = JSON.parse(readFileSync(join(out, 'cluster.json'), 'utf8')) as { faces: { file: string; box: number[]; cluster: string }[]; clusters: number };
  // Every placed face is found, and nothing in the faceless photo.
  expect(clustered.faces).toHaveLength(10);
  for (const f of clustered.faces) expect(f.box).toEqual([expect.any(Number), expect.any(Number), expect.any(Number), expect.any(Number)]);
  const clusterOf = new Map<string, Set<string>>();
  for (const f of clustered.faces) {
    const who = personAt(photos, f.file, f.box);
    clusterOf.set(who, (clusterOf.get(who) ?? new Set()).add(f.cluster));
  }
  // Each person is one cluster, and three people are three clusters.
  expect([...clusterOf.values()].map((s) => s.size)).toEqual([1, 1, 1]);
  expect(new Set([...clusterOf.values()].flatMap((s) => [...s])).size).toBe(3);
  expect(clustered.clusters).toBe(3);

  const queries = writeLibrary('Queries', [
    ...[A, B, C].map((p) => ({ path: lfwMiniPhoto(p, 5).name, bytes: new Uint8Array(readFileSync(lfwMiniPhoto(p, 5).path)) })),
    { path: 'empty.jpg', bytes: new Uint8Array(jpeg.encode({ data: Buffer.alloc(200 * 200 * 4, 200), width: 200, height: 200 }, 90).data) },
  ]);
  run('bench/search.ts', ['--gallery', dir, '--query', queries, '--json', join(out, 'search.json')]);
  type Hit = { file: string; box: number[]; score: number };
  const searched = JSON.parse(readFileSync(join(out, 'search.json'), 'utf8')) as ({ query: string; stage1: Hit[]; stage2: Hit[] } | { query: string; error: string })[];
  expect(searched.map((r) => r.query)).toEqual([...[A, B, C].map((p) => lfwMiniPhoto(p, 5).name), 'empty.jpg'].sort());
  for (const r of searched) {
    if (r.query === 'empty.jpg') {
      expect(r).toEqual({ query: 'empty.jpg', error: expect.stringMatching(/face/) });
      continue;
    }
    if (!('stage2' in r)) throw new Error(`${r.query}: ${r.error}`);
    expect(r.stage1).toHaveLength(10);
    expect(r.stage2).toHaveLength(10);
    // After re-ranking, the first hit is the query's person in a photo that shows them.
    expect(personAt(photos, r.stage2[0].file, r.stage2[0].box)).toBe(r.query.replace(/_\d{4}\.jpg$/, ''));
  }
});

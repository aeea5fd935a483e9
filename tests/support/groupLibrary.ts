/**
 * Photo libraries of group photos composed at test time from lfw-mini
 * (issue 17's end-to-end and CLI tests): each photo pastes single-person
 * photos side by side at 0.7-1.0x on a grey canvas, so a test knows who
 * stands where. Written as JPEG files to a temporary folder; nothing from
 * ../shared/data is committed.
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import jpeg from 'jpeg-js';
import { seededRandom } from '../../src/core/random.ts';
import { composeGroupPhoto, type SourcePhoto } from '../unit/library/helpers/groupPhoto.ts';

export const LFW_MINI = resolve(import.meta.dirname, '../../../shared/data/lfw-mini');

/** lfw-mini's photo `n` (1-based) of `person`. */
export function lfwMiniPhoto(person: string, n: number): { name: string; path: string } {
  const name = `${person}_${String(n).padStart(4, '0')}.jpg`;
  return { name, path: join(LFW_MINI, person, name) };
}

function source(person: string, n: number): SourcePhoto {
  const { name, path } = lfwMiniPhoto(person, n);
  const img = jpeg.decode(readFileSync(path), { useTArray: true });
  // composeGroupPhoto carries a face box along; these tests locate people by their photo's span instead.
  return { name, image: { width: img.width, height: img.height, data: new Uint8ClampedArray(img.data.buffer) }, face: { x: 70, y: 70, width: 110, height: 110 } };
}

export interface GroupPhotoSpec {
  readonly path: string;
  /** Left to right: who, and which of their lfw-mini photos. */
  readonly people: readonly (readonly [person: string, photo: number])[];
  /** Fraction of the last person's photo cut off by the right edge. */
  readonly cutRight?: number;
}

export interface GroupLibraryPhoto {
  readonly path: string;
  readonly bytes: Uint8Array;
  /** Left to right: each person's horizontal span on the canvas, pixels. */
  readonly people: readonly { readonly person: string; readonly x0: number; readonly x1: number }[];
}

export function composeLibrary(specs: readonly GroupPhotoSpec[], seed: number): GroupLibraryPhoto[] {
  const random = seededRandom(seed);
  return specs.map((spec) => {
    const group = composeGroupPhoto(
      spec.people.map(([p, n]) => source(p, n)),
      { scales: spec.people.map(() => 0.7 + 0.3 * random()), cutLeft: 0, cutRight: spec.cutRight ?? 0, gap: 10 },
      random,
    );
    const bytes = jpeg.encode({ data: Buffer.from(group.image.data.buffer), width: group.image.width, height: group.image.height }, 92).data;
    const people = group.placements.map((pl, i) => ({ person: spec.people[i][0], x0: pl.x, x1: pl.x + pl.source.image.width * pl.scale }));
    return { path: spec.path, bytes: new Uint8Array(bytes), people };
  });
}

/** Writes the photos under a new temporary folder named `name`; returns its path. */
export function writeLibrary(name: string, photos: readonly { path: string; bytes: Uint8Array }[]): string {
  const root = join(mkdtempSync(join(tmpdir(), 'dfemd-library-')), name);
  for (const p of photos) {
    const file = join(root, ...p.path.split('/'));
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, p.bytes);
  }
  return root;
}

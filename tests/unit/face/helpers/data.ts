/**
 * Where the shared, read-only face data lives (../shared/data from the repo
 * root), failing loudly when it is missing: tests must never pass by skipping.
 */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const DATA_DIR = resolve(REPO_ROOT, '../shared/data');

export function dataPath(...parts: string[]): string {
  const p = join(DATA_DIR, ...parts);
  if (!existsSync(p)) {
    throw new Error(`Test data missing: ${p} does not exist. The face tests need the shared data set at ../shared/data (relative to the repository root); see its README.`);
  }
  return p;
}

/** Every image of a data folder laid out as Identity/Identity_0001.jpg, sorted by path. */
export function listIdentityImages(folder: string): { identity: string; path: string; name: string }[] {
  const root = dataPath(folder);
  const out: { identity: string; path: string; name: string }[] = [];
  for (const identity of readdirSync(root).sort()) {
    const dir = join(root, identity);
    let files: string[];
    try {
      files = readdirSync(dir).sort();
    } catch {
      continue; // a stray file at the top level
    }
    for (const f of files) if (/\.(jpe?g|png)$/i.test(f)) out.push({ identity, path: join(dir, f), name: `${identity}/${f}` });
  }
  return out;
}

/** Locates ../shared/data beside the repository; tests that need it fail loudly when it is absent. */
import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const sharedData = resolve(repoRoot, '../shared/data');

export function requireSharedData(sub: string): string {
  const p = join(sharedData, sub);
  if (!existsSync(p)) {
    throw new Error(`Test data missing: ${p}. These tests read real faces from ../shared/data beside the repository (see its README); CI has it.`);
  }
  return p;
}

/** Every image under a folder laid out as Identity/Identity_0001.jpg, sorted. */
export function listIdentityImages(dir: string): { identity: string; path: string }[] {
  const out: { identity: string; path: string }[] = [];
  for (const identity of readdirSync(dir).sort()) {
    const sub = join(dir, identity);
    for (const f of readdirSync(sub).sort()) if (/\.(jpe?g|png)$/i.test(f)) out.push({ identity, path: join(sub, f) });
  }
  return out;
}

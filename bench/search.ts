/**
 * `npm run search -- --gallery DIR --query FILE_OR_DIR [--json FILE]`
 *
 * Imports DIR as a photo library through the real app (headless Chromium,
 * fresh profile), then searches it with each query photo (FILE, or every
 * image under DIR, in path order) as a user would: the photo dropped as the
 * query, its largest face used, the app's default settings. Writes one entry
 * per query, `{ "query": "file", "stage1": [{ "file", "box", "score", "via" }],
 * "stage2": [...] }`, 10 hits each (`via`: the version of the query the face
 * was compared with, src/app/matchedLibrarySearch.ts) (files relative to the library folder), or
 * `{ "query", "error" }` for a query photo the app refused (no face, not an
 * image), with its reason.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { looksLikeImageName } from '../src/app/identity.ts';
import type { LibraryHitView } from '../src/app/libraryService.ts';
import { argValue, runCliMain, writeJsonIfAsked } from './browser.ts';
import { openLibrary, relativeToRoot, type LibraryWindow } from './libraryApp.ts';

const HITS = 10;

export type SearchJson = ({ readonly query: string; readonly stage1: readonly SearchHit[]; readonly stage2: readonly SearchHit[] } | { readonly query: string; readonly error: string })[];

export interface SearchHit {
  readonly file: string;
  readonly box: readonly number[];
  readonly score: number;
  /** The version of the query the face was compared with: 'none', or the query drawn with 'mask' / 'sunglasses' for a face that wears one. */
  readonly via: string;
}

function queryFiles(path: string): { name: string; path: string }[] {
  if (!statSync(path).isDirectory()) return [{ name: path.split(/[\\/]/).pop() ?? path, path }];
  const out: { name: string; path: string }[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (looksLikeImageName(e.name)) out.push({ name: relative(path, p), path: p });
    }
  };
  walk(path);
  return out;
}

export async function runSearch(dir: string, query: string, log: (s: string) => void): Promise<SearchJson> {
  const queries = queryFiles(query);
  if (queries.length === 0) throw new Error(`no query images under ${query}`);
  const app = await openLibrary(dir, log);
  try {
    const out: SearchJson = [];
    const hits = (list: readonly LibraryHitView[]) => list.slice(0, HITS).map((h) => ({ file: relativeToRoot(h.path, app.root), box: [...h.box], score: h.score, via: h.via }));
    for (const [i, q] of queries.entries()) {
      log(`\r  query ${i + 1}/${queries.length}   `);
      await app.page.getByTestId('query-input').setInputFiles({ name: q.name, mimeType: 'image/jpeg', buffer: readFileSync(q.path) });
      const started = Date.now();
      for (;;) {
        const s = await app.page.evaluate(() => {
          const st = (window as unknown as LibraryWindow).__deepfaceEmd.state();
          return { file: st.queryFile, results: st.libraryResults, error: st.error };
        });
        // A refused query leaves the previous one in place; the error names this file.
        if (s.error?.file === q.name) {
          out.push({ query: q.name, error: `${s.error.message} (${s.error.hint})` });
          break;
        }
        if (s.results?.queryFile === q.name) {
          out.push({ query: q.name, stage1: hits(s.results.stage1), stage2: hits(s.results.stage2) });
          break;
        }
        if (Date.now() - started > 120_000) throw new Error(`no results for the query ${q.name} within 120 s`);
        await app.page.waitForTimeout(200);
      }
    }
    log('\n');
    return out;
  } finally {
    await app.close();
  }
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const dir = argValue(argv, 'gallery');
  const query = argValue(argv, 'query');
  if (!dir || !query) throw new Error('give the library and the query: npm run search -- --gallery DIR --query FILE_OR_DIR [--json FILE]');
  const out = await runSearch(resolve(dir), resolve(query), (s) => process.stderr.write(s));
  for (const r of out) console.log('error' in r ? `${r.query}: ${r.error}` : `${r.query}: ${r.stage2[0]?.file ?? '(none)'} ${JSON.stringify(r.stage2[0]?.box ?? [])}`);
  writeJsonIfAsked(argv, out);
}

runCliMain('search', import.meta.url, main);

/**
 * Shared by `npm run cluster` and `npm run search` (issue 17): opens the
 * real app in headless Chromium, imports a folder tree as a photo library
 * through the page's own library input, and reads the library's state
 * through the page's automation hooks. Each run uses a fresh browser
 * profile, so the library holds exactly the folder given.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { ImportProgress, ModelsStatus } from '../src/app/engineApi.ts';
import type { LibraryFaceView, LibraryInfo, LibrarySearchView } from '../src/app/libraryService.ts';
import { launchApp, servePreview } from './browser.ts';

interface LibraryAutomation {
  state(): {
    models: { phase: string; status?: ModelsStatus; error?: { message: string; hint: string } };
    importing: ImportProgress | null;
    importKind: 'gallery' | 'library';
    library: LibraryInfo | null;
    libraryResults: (LibrarySearchView & { readonly queryFile: string }) | null;
    queryFile: string | null;
    error: { message: string; hint: string; file?: string } | null;
  };
  libraryFaces(): Promise<LibraryFaceView[]>;
}
/** The page's automation hooks (src/ui/controller.ts), as far as the library tools read them: `(window as unknown as LibraryWindow)`. */
export interface LibraryWindow {
  readonly __deepfaceEmd: LibraryAutomation;
}

export interface OpenLibrary {
  readonly page: Page;
  /** The finished import's report. */
  readonly imported: ImportProgress;
  /** The folder's own name: the first segment of every path the page sees. */
  readonly root: string;
  close(): Promise<void>;
}

const LOAD_LIMIT_MS = 10 * 60_000;

async function waitFor<T>(page: Page, what: string, limitMs: number, probe: () => Promise<T | null>): Promise<T> {
  const started = Date.now();
  for (;;) {
    const v = await probe();
    if (v !== null) return v;
    if (Date.now() - started > limitMs) throw new Error(`the app did not finish ${what} within ${Math.round(limitMs / 1000)} s`);
    await page.waitForTimeout(500);
  }
}

/** The app with `dir` imported as its photo library; `log` hears progress. */
export async function openLibrary(dir: string, log: (s: string) => void): Promise<OpenLibrary> {
  const profileDir = mkdtempSync(join(tmpdir(), 'dfemd-library-'));
  const served = await servePreview();
  const context = await launchApp({ profileDir });
  const close = async () => {
    await context.close();
    served.close();
    rmSync(profileDir, { recursive: true, force: true });
  };
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => log(`page error: ${e.message}\n`));
    await page.goto(`${served.url}/?backend=wasm`);
    await waitFor(page, 'loading its models', LOAD_LIMIT_MS, async () => {
      const s = await page.evaluate(() =>
        (window as unknown as LibraryWindow).__deepfaceEmd
          ? { phase: (window as unknown as LibraryWindow).__deepfaceEmd.state().models.phase, error: (window as unknown as LibraryWindow).__deepfaceEmd.state().models.error }
          : null,
      );
      if (s?.phase === 'failed') throw new Error(`the app could not load its models: ${s.error?.message ?? 'no message'} (${s.error?.hint ?? 'no hint'})`);
      return s?.phase === 'ready' ? true : null;
    });
    log(`importing ${dir} as a photo library …\n`);
    await page.getByTestId('library-folder-input').setInputFiles(dir);
    const imported = await waitFor(page, `importing ${dir}`, 24 * 60 * 60_000, async () => {
      const s = await page.evaluate(() => {
        const st = (window as unknown as LibraryWindow).__deepfaceEmd.state();
        return st.importKind === 'library' ? { importing: st.importing, library: st.library } : null;
      });
      const p = s?.importing;
      if (p) log(`\r  ${p.done}/${p.total} photos, ${p.added} faces, ${p.imagesPerSecond.toFixed(1)} photos/s   `);
      // The library is read again after the import's report: wait for both.
      return p?.finished && s?.library ? p : null;
    });
    log('\n');
    const root = dir.split(/[\\/]/).filter(Boolean).pop() ?? '';
    return { page, imported, root, close };
  } catch (e) {
    await close();
    throw e;
  }
}

/** A path as the page has it (`root/sub/x.jpg`) relative to the dropped folder (`sub/x.jpg`). */
export function relativeToRoot(path: string, root: string): string {
  return path.startsWith(`${root}/`) ? path.slice(root.length + 1) : path;
}

/**
 * The photo library's UI actions (issue 17): import a folder tree of photos,
 * list people, open one, name, merge, move a face out, and search the
 * library with the current query. Like controller.ts: each calls the engine
 * worker and keeps only small results in the store.
 */
import type { ImportProgress } from '../app/engineApi.ts';
import type { ImportEntry } from '../app/zipEntries.ts';
import { AppError } from '../core/errors.ts';
import { fail, requireEngine, STAGE_BATCH } from './controller.ts';
import { primePhotoPreview } from './photoPreviews.ts';
import { noteModelMoves } from './modelStatus.ts';
import { getState, setState } from './store.ts';
import { Comlink } from './workerClient.ts';

/** Results of superseded library searches are dropped. */
let librarySeq = 0;

export async function refreshLibrary(): Promise<void> {
  const library = await requireEngine().libraryInfo();
  const open = getState().openPerson;
  setState({ library });
  if (open) await openPerson(library.people.some((p) => p.label === open.label) ? open.label : null);
}

export async function importLibrary(entries: ImportEntry[]): Promise<void> {
  if (entries.length === 0) {
    setState({
      error: { __appError: true, code: 'invalid-argument', message: 'nothing to import: the folder or drop held no files', hint: 'The library is unchanged. Choose a folder of photos.' },
    });
    return;
  }
  const final: { progress?: ImportProgress } = {};
  try {
    const engine = requireEngine();
    setState({ importKind: 'library', importing: null });
    for (let i = 0; i < entries.length; i += STAGE_BATCH) await engine.stageImportEntries(entries.slice(i, i + STAGE_BATCH), i === 0);
    await engine.importStagedLibrary(
      Comlink.proxy((p) => {
        if (p.finished) final.progress = p;
        else setState({ importing: p });
      }),
    );
    await refreshLibrary();
    if (final.progress) {
      setState({ importing: final.progress });
      noteModelMoves(final.progress.problems);
    }
    await searchLibrary();
  } catch (e) {
    if (final.progress) setState({ importing: final.progress });
    fail(e);
  }
}

export async function openPerson(label: string | null): Promise<void> {
  try {
    setState({ openPerson: label === null ? null : { label, faces: await requireEngine().libraryFaces(label) } });
  } catch (e) {
    fail(e);
  }
}

/** Runs an edit, then shows the library (and the query's hits in it) as they now are. */
async function edit(run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    await refreshLibrary();
    await searchLibrary();
  } catch (e) {
    fail(e);
  }
}

export function namePerson(label: string, name: string): Promise<void> {
  return edit(async () => {
    const named = await requireEngine().namePerson(label, name);
    if (getState().openPerson?.label === label) setState({ openPerson: { label: named, faces: [] } });
  });
}

export function mergePeople(from: string, into: string): Promise<void> {
  return edit(async () => {
    await requireEngine().mergePeople(from, into);
    if (getState().openPerson?.label === from) setState({ openPerson: { label: into, faces: [] } });
  });
}

export function moveFaceOut(key: string): Promise<void> {
  return edit(() => requireEngine().moveFaceOut(key));
}

/** Opens a library photo with every face boxed (null closes it). */
export async function openLibraryPhoto(photoHash: string | null): Promise<void> {
  if (photoHash === null) {
    setState({ openPhoto: null });
    return;
  }
  try {
    const view = await requireEngine().libraryPhoto(photoHash);
    if (!view) throw new AppError('unknown-id', 'this photo is no longer in the library', 'Search again or open a person to see the photos that are.');
    primePhotoPreview(photoHash, view);
    setState({ openPhoto: { photoHash, path: view.path, faces: [...view.faces] } });
  } catch (e) {
    fail(e);
  }
}

/** The query changed: hits of the old one must neither stay nor arrive late. */
export function forgetLibraryResults(): void {
  librarySeq++;
  setState({ libraryResults: null });
}

export async function searchLibrary(): Promise<void> {
  const seq = ++librarySeq;
  const { library, query, settings } = getState();
  if (!library || library.faces === 0 || !query) {
    setState({ libraryResults: null });
    return;
  }
  try {
    const view = await requireEngine().searchLibrary(settings);
    if (seq === librarySeq) setState({ libraryResults: { ...view, queryFile: query.view.fileName } });
  } catch (e) {
    fail(e);
  }
}

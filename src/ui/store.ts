/** UI state: settings, ids and small results only; features never live here. */
import { create } from 'zustand';
import type { EvalProgress, EvalReport, GalleryInfo, ImportProgress, ModelsStatus, OrtBackendChoice, PairView, QueryView, SearchView } from '../app/engineApi.ts';
import type { LibraryFaceView, LibraryInfo, LibrarySearchView } from '../app/libraryService.ts';
import type { PlainError } from '../core/errors.ts';
import { DEFAULT_SETTINGS, type OodTransform, type RerankSettings } from '../core/types.ts';
import { DEFAULT_RECOGNIZER_ID } from '../models/pipelines.ts';

export type ModelsPhase = { phase: 'loading'; migrating?: { done: number; total: number } } | { phase: 'ready'; status: ModelsStatus } | { phase: 'failed'; error: PlainError };

export interface QueryState {
  readonly view: QueryView;
  readonly alignedUrl: string;
  /** The original file, kept so a new transform or another face can be extracted again. */
  readonly file: Blob;
}

interface AppState {
  ortBackend: OrtBackendChoice;
  recognizerId: string | undefined;
  models: ModelsPhase;
  settings: RerankSettings;
  /** The recognizer `settings` were chosen for (DEFAULT_SETTINGS: the default recognizer's). */
  settingsFor: string | undefined;
  ood: OodTransform;
  gallery: GalleryInfo | null;
  importing: ImportProgress | null;
  /** Which panel the running or last import belongs to. */
  importKind: 'gallery' | 'library';
  query: QueryState | null;
  results: SearchView | null;
  /** Set when a newer query failed: the results shown are the previous query's. */
  resultsStale: string | null;
  searching: boolean;
  selectedKey: string | null;
  pair: PairView | null;
  error: PlainError | null;
  notice: string | null;
  evaluation: { running: boolean; progress: EvalProgress | null; current: string; reports: EvalReport[] };
  /** The photo library: counts and people (small), the open person's faces, and the query's hits in it. */
  library: LibraryInfo | null;
  openPerson: { label: string; faces: LibraryFaceView[] } | null;
  /** With the file name of the query they answer. */
  libraryResults: (LibrarySearchView & { readonly queryFile: string }) | null;
  /** The library photo open in the photo view, with its faces (the picture itself is fetched by photoPreviews.ts). */
  openPhoto: { photoHash: string; path: string; faces: LibraryFaceView[] } | null;
}

export const useAppStore = create<AppState>(() => ({
  ortBackend: initialBackend(),
  recognizerId: new URLSearchParams(globalThis.location?.search ?? '').get('model') ?? undefined,
  models: { phase: 'loading' },
  settings: DEFAULT_SETTINGS,
  settingsFor: DEFAULT_RECOGNIZER_ID,
  ood: 'none',
  gallery: null,
  importing: null,
  importKind: 'gallery',
  query: null,
  results: null,
  resultsStale: null,
  searching: false,
  selectedKey: null,
  pair: null,
  error: null,
  notice: null,
  evaluation: { running: false, progress: null, current: '', reports: [] },
  library: null,
  openPerson: null,
  libraryResults: null,
  openPhoto: null,
}));

function initialBackend(): OrtBackendChoice {
  const b = new URLSearchParams(globalThis.location?.search ?? '').get('backend');
  return b === 'webgpu' || b === 'wasm' ? b : 'auto';
}

export const setState = useAppStore.setState;
export const getState = useAppStore.getState;

/**
 * The UI's actions: each calls the engine worker and puts small results in
 * the store. Components call these and render the store; they hold no logic
 * beyond wiring.
 */
import type { ExtractFaultRule } from '../app/ports.ts';
import type { ImportEntry } from '../app/zipEntries.ts';
import { presetById } from '../models/presets.ts';
import { settingsForRecognizer } from '../models/recommended.ts';
import { AppError, toPlainError } from '../core/errors.ts';
import type { OodTransform, RerankSettings } from '../core/types.ts';
import type { EvalOptions, EvalProgress, EvalReport, ImportProgress, StartupProgress } from '../app/engineApi.ts';
import { STORAGE_FORMATS, type StorageFormat } from '../storage/storageFormat.ts';
import { noteModelMoves } from './modelStatus.ts';
import { getState, setState } from './store.ts';
import { forgetLibraryResults, refreshLibrary, searchLibrary } from './libraryActions.ts';
import { Comlink, startEngineWorker, type EngineProxy } from './workerClient.ts';

let engine: EngineProxy | null = null;
let worker: Worker | null = null;
/** Results of superseded requests are dropped: only the latest settings win. */
let searchSeq = 0;
/** Fault injection for the end-to-end tests exists only when the address says ?testHooks=1. */
const testHooks = new URLSearchParams(globalThis.location?.search ?? '').get('testHooks') === '1';
/** ?storage=float32 keeps faces unquantised (evaluation compares the two formats); the app's own is compact. */
const storageParam = new URLSearchParams(globalThis.location?.search ?? '').get('storage');
const storageFormat: StorageFormat = STORAGE_FORMATS.find((f) => f === storageParam) ?? 'compact';

export function fail(e: unknown): void {
  setState({ error: toPlainError(e) });
}

export function dismissError(): void {
  setState({ error: null });
}

export async function initEngine(): Promise<void> {
  worker?.terminate();
  const started = startEngineWorker();
  engine = started.engine;
  worker = started.worker;
  setState({ models: { phase: 'loading' }, gallery: null, results: null, pair: null, selectedKey: null });
  try {
    const onStartup = Comlink.proxy((p: StartupProgress) => setState({ models: { phase: 'loading', migrating: { done: p.done, total: p.total } } }));
    const status = await engine.init({ ortBackend: getState().ortBackend, recognizerId: getState().recognizerId, testHooks, storageFormat }, onStartup);
    const { settings, settingsFor } = getState();
    const active = status.active.id;
    if (active && active !== settingsFor) {
      // Another recognizer than the settings were made for: its native grid and its own alpha.
      setState({ settings: settingsForRecognizer(active, status.patchGrid.h, settings), settingsFor: active });
    } else if (settings.grid > status.patchGrid.h) {
      // A grid finer than the recognizer's own map does not exist: clamp to its native grid.
      setState({ settings: { ...settings, grid: status.patchGrid.h } });
    }
    setState({ models: { phase: 'ready', status } });
    await refreshGallery();
    await refreshLibrary();
    const cut = await engine.takeInterruptedImport();
    if (cut) {
      setState({ notice: `The last import stopped after ${cut.done} of ${cut.total} files (the page was closed or reloaded). Drop the folder again to finish: files already indexed are skipped.` });
    }
  } catch (e) {
    setState({ models: { phase: 'failed', error: toPlainError(e) } });
  }
}

export function requireEngine(): EngineProxy {
  if (!engine) throw new AppError('internal', 'the engine has not started', 'Reload the page.');
  return engine;
}

export async function refreshGallery(): Promise<void> {
  setState({ gallery: await requireEngine().galleryInfo() });
}

/** Files per message to the engine worker (each File costs the main thread about 1 ms to post). */
export const STAGE_BATCH = 16;

export async function importEntries(entries: ImportEntry[]): Promise<void> {
  if (entries.length === 0) {
    setState({
      error: {
        __appError: true,
        code: 'invalid-argument',
        message: 'nothing to import: the folder or drop held no files',
        hint: 'The gallery is unchanged. Choose a folder of face images (Name/Name_0001.jpg), image files or a .zip.',
      },
    });
    return;
  }
  // The last progress report ("done: N added") is held back until the new gallery count is in, so the two
  // never disagree on screen.
  const final: { progress?: ImportProgress } = {};
  try {
    // A few files per message, so the page stays responsive while a big folder is handed over.
    const engine = requireEngine();
    setState({ importKind: 'gallery', importing: null });
    for (let i = 0; i < entries.length; i += STAGE_BATCH) {
      await engine.stageImportEntries(entries.slice(i, i + STAGE_BATCH), i === 0);
    }
    await engine.importStaged(
      Comlink.proxy((p) => {
        if (p.finished) final.progress = p;
        else setState({ importing: p });
      }),
    );
    const gallery = await engine.galleryInfo();
    setState(final.progress ? { gallery, importing: final.progress } : { gallery });
    if (final.progress) noteModelMoves(final.progress.problems);
    if (getState().query) await search();
  } catch (e) {
    if (final.progress) setState({ importing: final.progress });
    fail(e);
  }
}

export function cancelImport(): void {
  void requireEngine().cancelImport();
}

/** A query that could not be used leaves the previous results on screen only marked as the previous query's. */
function failQuery(fileName: string, e: unknown): void {
  if (getState().results) setState({ resultsStale: `These are the previous query's results: ${fileName} could not be used as a query.` });
  fail(e);
}

export async function setQueryFile(fileName: string, file: Blob, faceIndex?: number): Promise<void> {
  try {
    const { ood } = getState();
    const view = await requireEngine().setQuery(fileName, file, ood, faceIndex);
    if (view.notice) noteModelMoves([view.notice]);
    replaceQuery({ view, alignedUrl: URL.createObjectURL(view.aligned), file });
    await search();
  } catch (e) {
    failQuery(fileName, e);
  }
}

export async function setQueryFromGallery(key: string): Promise<void> {
  try {
    const view = await requireEngine().setQueryFromGallery(key);
    replaceQuery({ view, alignedUrl: URL.createObjectURL(view.aligned), file: view.aligned });
    setState({ ood: 'none' });
    await search();
  } catch (e) {
    failQuery(key, e);
  }
}

/** "use as query" on an identity of the gallery list: its first image (by file name). */
export async function setQueryFromIdentity(label: string): Promise<void> {
  try {
    const [first] = await requireEngine().galleryItems(label);
    if (!first) throw new AppError('unknown-id', `the gallery has no image of ${label}`, 'Pick an identity that is still in the gallery.');
    await setQueryFromGallery(first.key);
  } catch (e) {
    failQuery(label, e);
  }
}

function replaceQuery(q: NonNullable<ReturnType<typeof getState>['query']>): void {
  const old = getState().query;
  if (old) URL.revokeObjectURL(old.alignedUrl);
  forgetLibraryResults();
  setState({ query: q, pair: null, selectedKey: null });
}

export async function setOod(ood: OodTransform): Promise<void> {
  setState({ ood });
  const q = getState().query;
  if (q && q.view.faces.length > 0) await setQueryFile(q.view.fileName, q.file, q.view.chosenIndex);
}

export async function chooseFace(index: number): Promise<void> {
  const q = getState().query;
  if (q) await setQueryFile(q.view.fileName, q.file, index);
}

export async function search(): Promise<void> {
  const seq = ++searchSeq;
  const { settings, gallery } = getState();
  await searchLibrary();
  if (!gallery || gallery.count === 0 || !getState().query) return;
  setState({ searching: true });
  try {
    const results = await requireEngine().runSearch(settings);
    if (seq !== searchSeq) return;
    setState({ results, resultsStale: null, searching: false });
    const sel = getState().selectedKey;
    if (sel) await selectResult(sel);
  } catch (e) {
    if (seq === searchSeq) setState({ searching: false });
    fail(e);
  }
}

export async function updateSettings(patch: Partial<RerankSettings>): Promise<void> {
  const before = getState().settings;
  const settings = { ...before, ...patch, sinkhorn: { ...before.sinkhorn, ...(patch.sinkhorn ?? {}) } };
  setState({ settings });
  // A fixed alpha only re-blends cached scores; the adaptive rule's on/off does too, but needs the stage-1 top-1, so it searches.
  const onlyAlpha = Object.keys(patch).every((k) => k === 'alpha' || k === 'adaptiveAlpha') && !settings.adaptiveAlpha;
  if (onlyAlpha && getState().results) {
    const seq = ++searchSeq;
    try {
      const results = await requireEngine().reblend(settings.alpha);
      if (seq === searchSeq) setState({ results });
    } catch (e) {
      fail(e);
    }
    return;
  }
  await search();
}

export async function selectResult(key: string | null): Promise<void> {
  setState({ selectedKey: key });
  if (!key) {
    setState({ pair: null });
    return;
  }
  try {
    const pair = await requireEngine().pairDetail(key, getState().settings);
    if (getState().selectedKey === key) setState({ pair });
  } catch (e) {
    fail(e);
  }
}

export async function removeIdentity(label: string): Promise<void> {
  try {
    await requireEngine().removeIdentity(label);
    await refreshGallery();
    await search();
  } catch (e) {
    fail(e);
  }
}

export async function clearGallery(): Promise<void> {
  try {
    await requireEngine().clearGallery();
    setState({ results: null, resultsStale: null, pair: null, selectedKey: null });
    await refreshGallery();
  } catch (e) {
    fail(e);
  }
}

export async function galleryThumbnail(key: string): Promise<Blob | undefined> {
  return requireEngine().thumbnail(key);
}

/**
 * A preset sets the recognizer and every re-ranking setting. Marking the
 * settings as made for the preset's recognizer keeps initEngine from
 * replacing them with that recognizer's own recommendation.
 */
export async function applyPreset(id: string): Promise<void> {
  const preset = presetById(id);
  if (!preset) return;
  const status = getState().models;
  const active = status.phase === 'ready' ? status.status.active.id : undefined;
  setState({ settings: preset.settings, settingsFor: preset.recognizerId });
  if (active !== preset.recognizerId) {
    await setRecognizer(preset.recognizerId);
    return;
  }
  await search();
}

/** Galleries are kept per recognizer: switching loads that model's own gallery. */
export async function setRecognizer(id: string): Promise<void> {
  setState({ recognizerId: id, query: null });
  await initEngine();
}

export async function setOrtBackend(b: 'auto' | 'webgpu' | 'wasm'): Promise<void> {
  setState({ ortBackend: b });
  await initEngine();
}

/** Runs leave-one-out evaluation for each transform in turn with the current settings. */
export async function runEvaluation(oods: readonly OodTransform[], limit?: number): Promise<EvalReport[]> {
  const out: EvalReport[] = [];
  setState({ evaluation: { ...getState().evaluation, running: true, progress: null } });
  try {
    for (const ood of oods) {
      setState({ evaluation: { ...getState().evaluation, current: ood } });
      const report = await evaluate({ ood, settings: getState().settings, limit, seed: 1 });
      out.push(report);
      setState({ evaluation: { ...getState().evaluation, reports: [...getState().evaluation.reports.filter((r) => r.ood !== ood), report] } });
      if (report.cancelled) break;
    }
  } catch (e) {
    fail(e);
  } finally {
    setState({ evaluation: { ...getState().evaluation, running: false } });
  }
  return out;
}

export function evaluate(opts: EvalOptions, onProgress?: (done: number, total: number) => void): Promise<EvalReport> {
  return requireEngine().evaluate(
    opts,
    Comlink.proxy((p: EvalProgress) => {
      setState({ evaluation: { ...getState().evaluation, progress: p } });
      onProgress?.(p.done, p.total);
    }),
  );
}

export function cancelEvaluation(): void {
  void requireEngine().cancelEvaluation();
}

/** Automation hooks for `npm run eval` and `npm run bench`, which drive this very page. */
export const automation = {
  importEntries,
  evaluate,
  state: () => {
    const s = getState();
    return {
      models: s.models,
      gallery: s.gallery,
      importing: s.importing,
      importKind: s.importKind,
      results: s.results,
      library: s.library,
      libraryResults: s.libraryResults,
      queryFile: s.query?.view.fileName ?? null,
      error: s.error,
    };
  },
  /** Every face of the photo library with its photo, box and person (`npm run cluster`). */
  libraryFaces: () => requireEngine().libraryFaces(),
  /** Extraction workers replaced after a crash or a hang. */
  workerRestarts: () => requireEngine().workerRestarts(),
  /** Test hook (refused without ?testHooks=1): crash or hang the next extract jobs; see EngineApi.injectExtractFaults. */
  injectExtractFaults: (rules: ExtractFaultRule[], jobTimeoutMs?: number) => requireEngine().injectExtractFaults(rules, jobTimeoutMs),
};

export async function exportGallery(): Promise<Blob | undefined> {
  try {
    return await requireEngine().exportGallery();
  } catch (e) {
    fail(e);
    return undefined;
  }
}

export async function importGalleryFile(file: File): Promise<void> {
  try {
    const r = await requireEngine().importGalleryFile(file.name, file);
    setState({ importing: null });
    await refreshGallery();
    if (getState().query) await search();
    setState({ notice: `${file.name}: ${r.added} faces added${r.skipped ? `, ${r.skipped} already present` : ''}` });
  } catch (e) {
    fail(e);
  }
}

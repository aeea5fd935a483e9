/**
 * The one engine object the UI talks to (EngineApi): it starts the ports it
 * is given (extraction workers, gallery storage) and hands each request to
 * the service that owns it. Runs in the engine worker behind comlink
 * (workers/engine.worker.ts) and in-process in the unit tests.
 */
import * as Comlink from 'comlink';
import { AppError } from '../core/errors.ts';
import type { OodTransform, RerankSettings } from '../core/types.ts';
import type { Alpha } from '../engine/rerank.ts';
import type { DamageDetectorSource, SearchEngineOptions } from '../engine/searchEngine.ts';
import { readGalleryFile, writeGalleryFile } from './galleryFile.ts';
import type {
  EngineApi,
  EvalOptions,
  EvalProgress,
  EvalReport,
  GalleryInfo,
  GalleryItemView,
  ImportProgress,
  InitOptions,
  InterruptedImport,
  ModelsStatus,
  PairView,
  StartupProgress,
  QueryView,
  SearchView,
} from './engineApi.ts';
import { EvaluationRunner } from './evaluationRunner.ts';
import { GalleryService } from './galleryService.ts';
import { ImportService } from './importService.ts';
import type { EnginePorts, ExtractFaultRule, ExtractorPort, GalleryStoragePort, LibraryPhotosPort, StartedExtractor } from './ports.ts';
import type { MatchedNapSource } from './matchedLibrarySearch.ts';
import { QueryService } from './queryService.ts';
import { LibraryService, type LibraryFaceView, type LibraryInfo, type LibraryPhotoView, type LibrarySearchView } from './libraryService.ts';
import { libraryModelKey } from '../library/libraryRecords.ts';
import { PEOPLE_THRESHOLDS } from '../library/peopleThreshold.ts';
import type { ImportEntry } from './zipEntries.ts';
import type { StoredPhoto } from '../storage/photoStore.ts';

/** Everything that exists once init() has finished; replaced as a whole on the next init(). */
interface Running {
  readonly started: StartedExtractor;
  readonly gallery: GalleryService;
  readonly imports: ImportService;
  readonly queries: QueryService;
  readonly evaluation: EvaluationRunner;
  readonly library: LibraryService;
  readonly libraryGallery: GalleryService;
}

export class AppEngine implements EngineApi {
  private running: Running | undefined;
  private storage: Promise<GalleryStoragePort> | undefined;
  private photos: Promise<LibraryPhotosPort> | undefined;
  private damageDetector: Promise<DamageDetectorSource> | undefined;
  private matchedNap: Promise<MatchedNapSource> | undefined;
  /** Which version of the query the last library search compared each listed face with (the flow view shows that pair). */
  private libraryVia = new Map<string, OodTransform>();

  constructor(
    private readonly ports: EnginePorts,
    private readonly engineOptions: SearchEngineOptions = {},
  ) {}

  async init(opts: InitOptions, onStartup?: (p: StartupProgress) => void): Promise<ModelsStatus> {
    this.running?.started.extractor.stop();
    this.running = undefined;
    const started = await this.ports.startExtractor({ ortBackend: opts.ortBackend, recognizerId: opts.recognizerId, workers: opts.workers, testHooks: opts.testHooks === true });
    // The database is opened once per engine; a recognizer switch reads another model's records from it.
    this.storage ??= this.ports.openStorage({ dbName: opts.dbName, format: opts.storageFormat });
    const storage = await this.storage;
    this.damageDetector ??= this.loadDamageDetector();
    const fusedCosine = started.status.active.fusedCosine;
    const engineOptions: SearchEngineOptions = { ...this.engineOptions, damageDetector: await this.damageDetector, ...(fusedCosine ? { fusedCosine } : {}) };
    const gallery = new GalleryService(storage, `${started.status.active.id}@${started.recognizerVersion}`, engineOptions);
    const legacy = (await this.ports.openLegacyStorage?.(opts.dbName)) ?? null;
    await gallery.load(legacy, (p) => onStartup?.({ phase: 'migrating', ...p }));
    const extractor: ExtractorPort = started.extractor;
    const libraryGallery = new GalleryService(storage, libraryModelKey(gallery.modelKey), engineOptions);
    await libraryGallery.load();
    this.photos ??= this.ports.openLibraryPhotos({ dbName: opts.dbName });
    this.matchedNap ??= this.loadMatchedNap();
    const library = new LibraryService(libraryGallery, await this.photos, extractor, this.ports, started.status.active.id, await this.matchedNap);
    // Faces an import left unplaced when the page went away mid-import join people now.
    if (Object.hasOwn(PEOPLE_THRESHOLDS, started.status.active.id)) await library.placeUnplaced();
    this.running = {
      started,
      gallery,
      imports: new ImportService(gallery, extractor, this.ports),
      queries: new QueryService(gallery, extractor, started.status.active.id),
      evaluation: new EvaluationRunner(gallery, extractor),
      library,
      libraryGallery,
    };
    return started.status;
  }

  /** A detector that fails to load leaves the threshold rule in charge; every search's alpha reason then says why. */
  private loadDamageDetector(): Promise<DamageDetectorSource> {
    return loadOptional(this.ports.loadDamageDetector?.bind(this.ports), 'the damage detector');
  }

  /** Directions that fail to load leave drawn pairs on the plain cosine; every matched search's note then says why. */
  private loadMatchedNap(): Promise<MatchedNapSource> {
    return loadOptional(this.ports.loadMatchedNap?.bind(this.ports), 'the nuisance directions');
  }

  galleryInfo(): GalleryInfo {
    return this.require().gallery.info();
  }

  galleryItems(label?: string): GalleryItemView[] {
    return this.require().gallery.items(label);
  }

  async thumbnail(key: string): Promise<Blob | undefined> {
    return this.require().gallery.thumbnail(key);
  }

  workerRestarts(): number {
    return this.running?.started.extractor.restarts ?? 0;
  }

  /** Refused unless the page was opened with ?testHooks=1 (the port passed in then is the only one that accepts). */
  injectExtractFaults(rules: readonly ExtractFaultRule[], jobTimeoutMs?: number): void {
    this.require().started.testHooks.injectExtractFaults(rules, jobTimeoutMs);
  }

  stageImportEntries(entries: readonly ImportEntry[], reset: boolean): number {
    return this.require().imports.stage(entries, reset);
  }

  importStaged(onProgress: (p: ImportProgress) => void): Promise<ImportProgress> {
    return this.require().imports.importStaged(onProgress);
  }

  importFiles(entries: readonly ImportEntry[], onProgress: (p: ImportProgress) => void): Promise<ImportProgress> {
    return this.require().imports.importFiles(entries, onProgress);
  }

  /** An import the last page left unfinished (closed or reloaded mid-import), reported once. */
  async takeInterruptedImport(): Promise<InterruptedImport | null> {
    const journal = await this.require().gallery.takeInterruptedImport();
    return journal ? { done: journal.done, total: journal.total } : null;
  }

  cancelImport(): void {
    this.running?.imports.cancel();
    this.running?.library.cancel();
  }

  importStagedLibrary(onProgress: (p: ImportProgress) => void): Promise<ImportProgress> {
    const { imports, library } = this.require();
    return library.importPhotos(imports.takeStaged(), onProgress);
  }

  libraryInfo(): LibraryInfo {
    return this.require().library.info();
  }

  libraryFaces(label?: string): LibraryFaceView[] {
    return this.require().library.faces(label);
  }

  async libraryPhoto(photoHash: string): Promise<LibraryPhotoView | null> {
    return (await this.require().library.photo(photoHash)) ?? null;
  }

  async libraryPhotoPreview(photoHash: string): Promise<StoredPhoto | null> {
    return (await this.require().library.storedPhoto(photoHash)) ?? null;
  }

  namePerson(label: string, name: string): Promise<string> {
    return this.require().library.namePerson(label, name);
  }

  mergePeople(from: string, into: string): Promise<void> {
    return this.require().library.mergePeople(from, into);
  }

  moveFaceOut(key: string): Promise<string> {
    return this.require().library.moveOut(key);
  }

  async searchLibrary(settings: RerankSettings): Promise<LibrarySearchView> {
    const { queries, library } = this.require();
    const view = await library.search(queries.currentFeatures(), settings, (kind) => queries.drawn(kind));
    this.libraryVia = new Map([...view.stage1, ...view.stage2].map((h) => [h.key, h.via]));
    return view;
  }

  /** The whole gallery of the active recognizer as one file. */
  async exportGallery(): Promise<Blob> {
    const { gallery } = this.require();
    return writeGalleryFile(gallery.modelKey, await gallery.exportAll());
  }

  /** Adds the faces of an exported gallery file; faces already present are skipped. Nothing is written unless the whole file checks out. */
  async importGalleryFile(fileName: string, file: Blob): Promise<{ added: number; skipped: number }> {
    const { gallery, started } = this.require();
    const { active, embeddingDim, patchGrid } = started.status;
    return gallery.addAll(await readGalleryFile(file, fileName, { modelKey: gallery.modelKey, recognizer: active.title, embeddingDim, patchGrid }));
  }

  removeItems(keys: readonly string[]): Promise<void> {
    return this.require().gallery.remove(keys);
  }

  removeIdentity(label: string): Promise<number> {
    return this.require().gallery.removeIdentity(label);
  }

  clearGallery(): Promise<void> {
    return this.require().gallery.clear();
  }

  setQuery(fileName: string, file: Blob, ood: OodTransform, faceIndex?: number, seed = 1): Promise<QueryView> {
    this.libraryVia = new Map();
    return this.require().queries.setQuery(fileName, file, ood, faceIndex, seed);
  }

  setQueryFromGallery(key: string): Promise<QueryView> {
    this.libraryVia = new Map();
    return this.require().queries.setQueryFromGallery(key);
  }

  runSearch(settings: RerankSettings): Promise<SearchView> {
    return this.require().queries.search(settings);
  }

  reblend(alpha: Alpha): SearchView {
    return this.require().queries.reblend(alpha);
  }

  async pairDetail(key: string, settings: RerankSettings): Promise<PairView> {
    const { queries, libraryGallery } = this.require();
    // Library faces (keyed by the library's model key) are looked up in the library.
    // A library face that the last search compared with the query drawn with an occluder is shown against that drawing.
    const via = this.libraryVia.get(key) ?? 'none';
    const query = via === 'none' ? undefined : { features: await queries.drawn(via), via };
    const view = await queries.pairDetail(key, settings, libraryGallery.entry(key) ? libraryGallery : undefined, query);
    // The plan and duals move to the page instead of being copied.
    return Comlink.transfer(view, [view.plan.buffer, view.u.buffer, view.v.buffer]);
  }

  evaluate(opts: EvalOptions, onProgress?: (p: EvalProgress) => void): Promise<EvalReport> {
    return this.require().evaluation.run(opts, onProgress);
  }

  cancelEvaluation(): void {
    this.running?.evaluation.cancel();
  }

  private require(): Running {
    if (!this.running) throw new AppError('internal', 'the engine is not initialised (its models are still loading, or loading failed)', 'Wait for the models to load, or reload the page.');
    return this.running;
  }
}

/** A model the app can work without: what the port loaded, or why there is none (a missing port or a failed load). */
async function loadOptional<T>(load: (() => Promise<T>) | undefined, what: string): Promise<{ readonly model: T } | { readonly unavailable: string }> {
  if (!load) return { unavailable: `this app was built without ${what}` };
  try {
    return { model: await load() };
  } catch (e) {
    return { unavailable: `${what} did not load (${e instanceof Error ? e.message : String(e)})` };
  }
}

/**
 * The app's one engine object, hosted in the engine worker: it owns the
 * extraction worker pool, the gallery store (IndexedDB) and the search engine
 * (src/engine, the same module the Node tests use). The UI reaches it only
 * through comlink (workers/engine.worker.ts).
 */
import { unzipSync } from 'fflate';
import * as Comlink from 'comlink';
import { AppError, toPlainError } from '../src/core/errors.ts';
import type { FaceFeatures, OodTransform, RerankSettings } from '../src/core/types.ts';
import type {
  EvalOptions,
  EvalProgress,
  EvalReport,
  MetricTriple,
  GalleryInfo,
  GalleryItemView,
  ImportProblem,
  ImportProgress,
  ModelsStatus,
  OrtBackendChoice,
  PairView,
  QueryView,
  RankedView,
  SearchView,
} from '../src/app/engineApi.ts';
import type { ExtractOutcome, ExtractedFace } from '../src/app/extractTypes.ts';
import { ALPHA_SWEEP, leaveOneOutCounts, stage2Labels, summarise, type EvalQueryScores } from '../src/app/evaluation.ts';
import type { RetrievalMetrics } from '../src/engine/metrics.ts';
import { guessQueryIdentity, identityFromPath, looksLikeImageName } from '../src/app/identity.ts';
import { SearchEngine } from '../src/engine/searchEngine.ts';
import type { ExtractFault, ExtractWorkerApi } from './extract.worker.ts';
import { WorkerPool, type PoolWorker } from './importQueue.ts';
import { GalleryDb } from './storage/galleryDb.ts';
import { faceKey, featuresToStored, storedToFeatures, type StoredFace } from '../src/app/storedFace.ts';
import { readGalleryFile, writeGalleryFile } from './storage/galleryFile.ts';

export interface ImportEntry {
  /** Path relative to what was dropped ("Name/Name_0001.jpg"), or a bare file name. */
  readonly path: string;
  readonly file: Blob;
}

export interface InitOptions {
  readonly ortBackend: OrtBackendChoice;
  readonly recognizerId?: string;
  readonly workers?: number;
  /** Test hook: a deliberately failing model file name, to exercise the error path. */
  readonly dbName?: string;
  /** Enables injectExtractFaults (the page passes it only with ?testHooks=1 in its address). */
  readonly testHooks?: boolean;
}

/** A fault to inject into the next `times` gallery extract jobs (of files whose path contains `file`, when given). */
export interface ExtractFaultRule {
  readonly kind: ExtractFault;
  readonly times: number;
  readonly file?: string;
}

const JOB_TIMEOUT_MS = 60_000;

async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const d = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(d), (b) => b.toString(16).padStart(2, '0')).join('');
}

function spawnExtractWorker(slot: number, init: (api: Comlink.Remote<ExtractWorkerApi>) => Promise<unknown>): Promise<PoolWorker<Comlink.Remote<ExtractWorkerApi>>> {
  const worker = new Worker(new URL('./extract.worker.ts', import.meta.url), { type: 'module', name: `extract-${slot}` });
  const api = Comlink.wrap<ExtractWorkerApi>(worker);
  const died = new Promise<string>((resolve) => {
    worker.addEventListener('error', (e) => {
      // Handled here: the pool replaces the worker; unhandled, it would be re-thrown in this (the engine) worker.
      e.preventDefault();
      resolve(e.message || 'worker error');
    });
  });
  return init(api).then(() => ({ api, died, terminate: () => worker.terminate() }));
}

/** Expands .zip entries into image entries, keeping their inner folders; junk inside is reported later by the decoder. */
async function expandZips(entries: readonly ImportEntry[], problems: ImportProblem[]): Promise<ImportEntry[]> {
  const out: ImportEntry[] = [];
  for (const e of entries) {
    if (!/\.zip$/i.test(e.path)) {
      out.push(e);
      continue;
    }
    try {
      const files = unzipSync(new Uint8Array(await e.file.arrayBuffer()));
      const zipRoot = e.path.replace(/\.zip$/i, '');
      for (const [inner, bytes] of Object.entries(files)) {
        if (inner.endsWith('/') || inner.startsWith('__MACOSX/') || /(^|\/)\./.test(inner)) continue;
        out.push({ path: `${zipRoot}/${inner}`, file: new Blob([bytes as Uint8Array<ArrayBuffer>]) });
      }
    } catch (err) {
      problems.push({ file: e.path, code: 'corrupt-image', message: `not a readable zip archive (${err instanceof Error ? err.message : String(err)})`, hint: 'Re-create the archive, or drop the folder itself.' });
    }
  }
  return out;
}

export class AppEngine {
  private pool: WorkerPool<Comlink.Remote<ExtractWorkerApi>> | undefined;
  private db: GalleryDb | undefined;
  private readonly search = new SearchEngine();
  private modelKey = '';
  private status: ModelsStatus | undefined;
  private labels = new Map<string, { label: string; fileName: string }>();
  private cancelRequested = false;
  private staged: ImportEntry[] = [];
  private query: { features: FaceFeatures; view: QueryView } | undefined;
  private lastResult: SearchView | undefined;
  private evalCancelled = false;
  private testHooks = false;
  private faults: { kind: ExtractFault; times: number; file?: string }[] = [];

  async init(opts: InitOptions): Promise<ModelsStatus> {
    this.pool?.terminate();
    this.testHooks = opts.testHooks === true;
    this.faults = [];
    const size = Math.max(1, Math.min(opts.workers ?? navigator.hardwareConcurrency ?? 2, 4));
    let first: ModelsStatus | undefined;
    this.pool = new WorkerPool({
      size,
      jobTimeoutMs: JOB_TIMEOUT_MS,
      spawn: (slot) =>
        spawnExtractWorker(slot, async (api) => {
          const s = await api.init(opts.ortBackend, opts.recognizerId);
          first ??= s;
        }),
    });
    await this.pool.start();
    this.status = first!;
    const version = await this.pool.withWorker((api) => api.recognizerVersion());
    this.modelKey = `${this.status.active.id}@${version}`;
    this.db ??= await GalleryDb.open(opts.dbName);
    await this.loadGallery();
    return this.status;
  }

  private async loadGallery(): Promise<void> {
    this.search.clear();
    this.labels.clear();
    const batch: { id: string; label: string; features: FaceFeatures }[] = [];
    await this.db!.forEach(this.modelKey, (f) => {
      batch.push({ id: f.key, label: f.label, features: storedToFeatures(f) });
      this.labels.set(f.key, { label: f.label, fileName: f.fileName });
    });
    if (batch.length) this.search.add(batch);
  }

  galleryInfo(): GalleryInfo {
    const counts = new Map<string, number>();
    for (const { label } of this.labels.values()) counts.set(label, (counts.get(label) ?? 0) + 1);
    const identities = [...counts].map(([label, count]) => ({ label, count })).sort((a, b) => a.label.localeCompare(b.label));
    return { modelKey: this.modelKey, count: this.labels.size, identities };
  }

  galleryItems(label?: string): GalleryItemView[] {
    const out: GalleryItemView[] = [];
    for (const [key, v] of this.labels) if (label === undefined || v.label === label) out.push({ key, ...v });
    return out.sort((a, b) => a.fileName.localeCompare(b.fileName));
  }

  async thumbnail(key: string): Promise<Blob | undefined> {
    return (await this.db!.get(key))?.thumbnail;
  }

  cancelImport(): void {
    this.cancelRequested = true;
  }

  /** Extraction workers replaced after a crash or a hang since the engine started. */
  workerRestarts(): number {
    return this.pool?.restarts ?? 0;
  }

  /**
   * Test hook, refused unless the engine was started with `testHooks`: the
   * next matching gallery extract jobs crash their worker or hang it, and
   * `jobTimeoutMs` (if given) shortens the per-image time limit so a hang is
   * noticed quickly. A retried job is a new job: it faults only while rules
   * still have `times` left.
   */
  injectExtractFaults(rules: readonly ExtractFaultRule[], jobTimeoutMs?: number): void {
    if (!this.testHooks) throw new AppError('invalid-argument', 'test hooks are off', 'Open the page with ?testHooks=1 to inject faults.');
    this.faults = rules.map((r) => ({ ...r }));
    if (jobTimeoutMs !== undefined) this.requirePool().setJobTimeout(jobTimeoutMs);
  }

  private takeFault(path: string): ExtractFault | undefined {
    const rule = this.faults.find((r) => r.times > 0 && (r.file === undefined || path.includes(r.file)));
    if (!rule) return undefined;
    rule.times--;
    return rule.kind;
  }

  /**
   * Files to import, sent in small batches: posting a File to a worker costs
   * the page's main thread about 1 ms, so a whole folder in one message froze
   * the page (200 files: a 220-260 ms task). `reset` starts a new batch list.
   */
  stageImportEntries(entries: readonly ImportEntry[], reset: boolean): number {
    if (reset) this.staged = [];
    this.staged.push(...entries);
    return this.staged.length;
  }

  /** Imports everything staged with stageImportEntries. */
  importStaged(onProgress: (p: ImportProgress) => void): Promise<ImportProgress> {
    const entries = this.staged;
    this.staged = [];
    return this.importFiles(entries, onProgress);
  }

  async importFiles(entries: readonly ImportEntry[], onProgress: (p: ImportProgress) => void): Promise<ImportProgress> {
    const pool = this.requirePool();
    this.cancelRequested = false;
    const problems: ImportProblem[] = [];
    const all = await expandZips(entries, problems);
    const images = all.filter((e) => {
      if (looksLikeImageName(e.path)) return true;
      problems.push({ file: e.path, code: 'not-an-image', message: 'not an image file (skipped by its name)', hint: 'Only JPEG, PNG, WebP, BMP and GIF images are indexed.' });
      return false;
    });
    const total = images.length;
    const t0 = performance.now();
    const stepSums: Record<string, number> = {};
    let done = 0;
    let added = 0;
    let skippedDuplicates = 0;
    /** Key -> the path of the first file of this import with that content. */
    const seen = new Map<string, string>();
    const progress = (finished: boolean): ImportProgress => {
      const elapsed = (performance.now() - t0) / 1000;
      const rate = done / Math.max(elapsed, 1e-3);
      const stepMs = Object.fromEntries(Object.entries(stepSums).map(([k, v]) => [k, v / Math.max(added, 1)]));
      return { done, total, added, skippedDuplicates, problems: [...problems], imagesPerSecond: rate, etaSeconds: rate > 0 ? (total - done) / rate : 0, finished, cancelled: this.cancelRequested, stepMs };
    };
    let lastReport = 0;
    const report = () => {
      const now = performance.now();
      if (now - lastReport > 150) {
        lastReport = now;
        onProgress(progress(false));
      }
    };
    onProgress(progress(false));

    const one = async (entry: ImportEntry) => {
      if (this.cancelRequested) return;
      try {
        const bytes = await entry.file.arrayBuffer();
        const hash = await sha256Hex(bytes);
        const key = faceKey(this.modelKey, hash);
        const first = seen.get(key);
        if (first !== undefined) {
          // Two files of this very import with the same bytes: say which, since the user may expect both.
          skippedDuplicates++;
          problems.push({ file: entry.path, code: 'duplicate-image', message: `the same image (identical content) as ${first}, which is processed instead`, hint: 'Nothing to do: each image is indexed once. Remove one copy if they are meant to be different photos.' });
          return;
        }
        // Claimed before the next await, so a second copy hashed meanwhile in another lane sees it.
        seen.set(key, entry.path);
        if (this.labels.has(key) || (await this.db!.has(key))) {
          skippedDuplicates++;
          return;
        }
        const outcome: ExtractOutcome = await pool.run<ExtractOutcome>(entry.path, (api) => api.extract(entry.path, bytes, { purpose: 'gallery', ood: 'none', seed: 0 }, this.takeFault(entry.path)));
        if (!outcome.ok) {
          problems.push({ file: entry.path, code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint });
          return;
        }
        if (this.cancelRequested) return;
        const label = identityFromPath(entry.path);
        await this.db!.put(featuresToStored(key, this.modelKey, hash, label, entry.path, outcome.face, Date.now()));
        this.search.add([{ id: key, label, features: outcome.face.features }]);
        this.labels.set(key, { label, fileName: entry.path });
        for (const [k, v] of Object.entries(outcome.face.timings)) stepSums[k] = (stepSums[k] ?? 0) + v;
        added++;
      } catch (e) {
        const p = toPlainError(e);
        problems.push({ file: entry.path, code: p.code, message: p.message, hint: p.hint });
        // A full disk stops the import: later images could not be saved either.
        if (p.code === 'storage-quota') this.cancelRequested = true;
      } finally {
        done++;
        report();
      }
    };
    // Keep every worker busy, plus one job decoding/hashing ahead.
    let next = 0;
    const lanes = Array.from({ length: pool.size + 1 }, async () => {
      while (next < images.length && !this.cancelRequested) await one(images[next++]);
    });
    await Promise.all(lanes);
    const final = progress(true);
    onProgress(final);
    return final;
  }

  /** The whole gallery of the active recognizer as one file. */
  async exportGallery(): Promise<Blob> {
    const faces: StoredFace[] = [];
    await this.db!.forEach(this.modelKey, (f) => faces.push(f));
    return writeGalleryFile(this.modelKey, faces);
  }

  /** Adds the faces of an exported gallery file; faces already present are skipped. */
  async importGalleryFile(fileName: string, file: Blob): Promise<{ added: number; skipped: number }> {
    const faces = await readGalleryFile(file, fileName, this.modelKey);
    let added = 0;
    for (const f of faces) {
      if (this.labels.has(f.key)) continue;
      await this.db!.put(f);
      this.search.add([{ id: f.key, label: f.label, features: storedToFeatures(f) }]);
      this.labels.set(f.key, { label: f.label, fileName: f.fileName });
      added++;
    }
    return { added, skipped: faces.length - added };
  }

  async removeItems(keys: readonly string[]): Promise<void> {
    await this.db!.delete(keys);
    this.search.remove(keys);
    for (const k of keys) this.labels.delete(k);
  }

  async removeIdentity(label: string): Promise<number> {
    const keys = [...this.labels].filter(([, v]) => v.label === label).map(([k]) => k);
    await this.removeItems(keys);
    return keys.length;
  }

  async clearGallery(): Promise<void> {
    await this.db!.clear(this.modelKey);
    this.search.clear();
    this.labels.clear();
  }

  /** Extracts the query face (the largest, or `faceIndex`) with an optional out-of-distribution transform. */
  async setQuery(fileName: string, file: Blob, ood: OodTransform, faceIndex?: number, seed = 1): Promise<QueryView> {
    const pool = this.requirePool();
    const bytes = await file.arrayBuffer();
    const outcome = await pool.run<ExtractOutcome>(fileName, (api) => api.extract(fileName, bytes, { purpose: 'query', ood, seed, faceIndex }));
    if (!outcome.ok) throw new AppError(outcome.error.code, outcome.error.message, outcome.error.hint, { file: outcome.error.file ?? fileName });
    const identities = new Set([...this.labels.values()].map((v) => v.label));
    const view: QueryView = {
      fileName,
      faces: outcome.face.faces,
      chosenIndex: outcome.face.chosenIndex,
      aligned: outcome.face.aligned,
      knownIdentity: guessQueryIdentity(fileName, identities),
    };
    this.query = { features: outcome.face.features, view };
    return view;
  }

  /** Uses a gallery image as the query (its stored features; the transform needs the pixels, so only 'none'). */
  async setQueryFromGallery(key: string): Promise<QueryView> {
    const f = await this.db!.get(key);
    if (!f) throw new AppError('unknown-id', `no gallery image ${key}`, 'Pick an image that is still in the gallery.');
    const view: QueryView = { fileName: f.fileName, faces: [], chosenIndex: 0, aligned: f.thumbnail, knownIdentity: f.label };
    this.query = { features: storedToFeatures(f), view };
    return view;
  }

  async runSearch(settings: RerankSettings): Promise<SearchView> {
    const q = this.requireQuery();
    if (this.labels.size === 0) throw new AppError('empty-gallery', 'the gallery is empty', 'Drop a folder of labelled faces first.');
    const r = await this.search.search(q.features, settings);
    this.lastResult = this.toView(r, settings.k);
    return this.lastResult;
  }

  /** Alpha only re-blends cached scores: no Sinkhorn runs. */
  reblend(alpha: number | 'sum'): SearchView {
    const r = this.search.reblend(alpha);
    this.lastResult = this.toView(r, this.lastResult?.k ?? 100);
    return this.lastResult;
  }

  async pairDetail(key: string, settings: RerankSettings): Promise<PairView> {
    const q = this.requireQuery();
    const d = await this.search.pairDetail(q.features, key, settings);
    const stored = await this.db!.get(key);
    if (!stored) throw new AppError('unknown-id', `no gallery image ${key}`, 'It may have been removed; run the query again.');
    const view: PairView = { key, grid: d.grid, plan: d.plan, u: d.u, v: d.v, sEmd: d.sEmd, iterations: d.iterations, marginalError: d.marginalError, galleryAligned: stored.thumbnail };
    return Comlink.transfer(view, [d.plan.buffer, d.u.buffer, d.v.buffer]);
  }

  cancelEvaluation(): void {
    this.evalCancelled = true;
  }

  /**
   * Leave-one-out identification over the gallery: every image of an identity
   * with >= 2 images is a query against all other gallery images. Query
   * transforms are applied to the stored aligned face. Stage 1 and the top-k's
   * s_emd are computed once; every alpha of the sweep only re-blends.
   */
  async evaluate(opts: EvalOptions, onProgress?: (p: EvalProgress) => void): Promise<EvalReport> {
    const pool = this.requirePool();
    this.evalCancelled = false;
    // The main settings first, then any extra variants: each query's features
    // (the expensive part for a transformed query) are computed once for all.
    const variants = [opts.settings, ...(opts.extraSettings ?? [])];
    const all = [...this.labels];
    const counts = leaveOneOutCounts(all.map(([, v]) => v.label));
    let candidates = all.filter(([, v]) => (counts.get(v.label) ?? 0) >= 1).sort((a, b) => a[1].fileName.localeCompare(b[1].fileName));
    if (opts.limit !== undefined && opts.limit < candidates.length) {
      const step = candidates.length / opts.limit;
      candidates = Array.from({ length: opts.limit }, (_, i) => candidates[Math.floor(i * step)]);
    }
    const maxR = Math.max(0, ...counts.values());
    const listLength = Math.max(...variants.map((s) => s.k), maxR) + 1;
    const perVariant = variants.map(() => ({ scores: [] as EvalQueryScores[], stage1Ms: 0, stage2Ms: 0, emdBackend: '' }));
    const queryFeatures = async (qi: number): Promise<FaceFeatures> => {
      const stored = (await this.db!.get(candidates[qi][0]))!;
      return opts.ood === 'none'
        ? storedToFeatures(stored)
        : pool.withWorker((api) => api.embedAligned(stored.thumbnail, stored.landmarks68 ?? new Float32Array(), opts.ood, opts.seed + qi));
    };
    // The next query's features are extracted (in an extraction worker) while this one is searched (here).
    let upcoming = candidates.length > 0 ? queryFeatures(0) : null;
    for (let qi = 0; qi < candidates.length && !this.evalCancelled; qi++) {
      const [key, meta] = candidates[qi];
      const features = await upcoming!;
      upcoming = qi + 1 < candidates.length ? queryFeatures(qi + 1) : null;
      for (let vi = 0; vi < variants.length; vi++) {
        const settings = variants[vi];
        const acc = perVariant[vi];
        // One extra candidate, since the query itself is still in the gallery; it is dropped below.
        const r = await this.search.search(features, { ...settings, k: settings.k + 1 }, { stage1Length: listLength });
        acc.stage1Ms += r.timings.stage1Ms;
        acc.stage2Ms += r.timings.stage2Ms;
        acc.emdBackend = r.backendUsed;
        const byStage1 = [...r.stage2].sort((a, b) => a.rankBefore - b.rankBefore).filter((e) => e.id !== key).slice(0, settings.k);
        acc.scores.push({
          queryKey: key,
          label: meta.label,
          stage1Labels: r.stage1.filter((h) => h.id !== key).map((h) => h.label),
          sCos: byStage1.map((e) => e.sCos),
          sEmd: byStage1.map((e) => e.sEmd),
        });
      }
      if (onProgress && (qi % 10 === 0 || qi === candidates.length - 1)) onProgress({ done: qi + 1, total: candidates.length });
    }
    // A cancelled run still lets its prefetch finish, so no extraction is left running (or failing) unobserved.
    if (upcoming) await upcoming;
    const reports = variants.map((settings, vi) => this.evalReport(opts, settings, perVariant[vi], counts, vi === 0 && opts.withRankings === true));
    return reports.length > 1 ? { ...reports[0], variants: reports.slice(1) } : reports[0];
  }

  private evalReport(
    opts: EvalOptions,
    settings: RerankSettings,
    acc: { scores: EvalQueryScores[]; stage1Ms: number; stage2Ms: number; emdBackend: string },
    counts: ReadonlyMap<string, number>,
    withRankings: boolean,
  ): EvalReport {
    const { scores } = acc;
    const main = summarise(scores, counts, settings.k, settings.alpha, settings.adaptiveAlpha);
    const triple = (m: RetrievalMetrics): MetricTriple => ({ p1: m.p1, rp: m.rPrecision, mapr: m.mapAtR });
    const n = Math.max(scores.length, 1);
    return {
      model: this.modelKey,
      grid: settings.grid,
      weights: settings.weighting,
      alpha: settings.alpha,
      adaptive_alpha: settings.adaptiveAlpha ?? null,
      k: settings.k,
      ood: opts.ood,
      sinkhorn: settings.sinkhorn.mode,
      n_queries: main.stage1.queries,
      gallery_size: this.labels.size,
      stage1: triple(main.stage1),
      stage2: triple(main.stage2),
      max_precision_at_k: main.stage1.maxPrecisionAtK,
      ms_per_query: { stage1: acc.stage1Ms / n, stage2: acc.stage2Ms / n },
      emd_backend: acc.emdBackend,
      alpha_sweep: ALPHA_SWEEP.map((alpha) => ({ alpha, stage2: triple(summarise(scores, counts, settings.k, alpha).stage2) })),
      cancelled: this.evalCancelled,
      ...(withRankings
        ? {
            rankings: scores.map((q) => ({
              query: this.labels.get(q.queryKey)?.fileName ?? q.queryKey,
              label: q.label,
              relevant: counts.get(q.label) ?? 0,
              stage1: q.stage1Labels,
              stage2: stage2Labels(q, settings.alpha, settings.adaptiveAlpha),
            })),
          }
        : {}),
    };
  }

  private toView(r: Awaited<ReturnType<SearchEngine['search']>>, k: number): SearchView {
    const meta = (id: string) => this.labels.get(id) ?? { label: '?', fileName: '?' };
    const stage1: RankedView[] = r.stage1.map((e) => ({ key: e.id, label: e.label, fileName: meta(e.id).fileName, score: e.score, sCos: e.score, rankBefore: e.rank, rankAfter: e.rank }));
    const stage2: RankedView[] = r.stage2.map((e) => ({ key: e.id, label: e.label, fileName: meta(e.id).fileName, score: e.score, sCos: e.sCos, sEmd: e.sEmd, rankBefore: e.rankBefore, rankAfter: e.rankAfter }));
    return {
      stage1,
      stage2,
      stage1Ms: r.timings.stage1Ms,
      stage2Ms: r.timings.stage2Ms,
      sinkhornBackend: r.backendUsed,
      fallbackReason: r.fallbackReason,
      galleryCount: this.labels.size,
      k,
      alpha: r.alpha,
      alphaReason: r.alphaReason,
    };
  }

  private requirePool() {
    if (!this.pool) throw new AppError('internal', 'the engine is not initialised', 'Reload the page.');
    return this.pool;
  }

  private requireQuery() {
    if (!this.query) throw new AppError('invalid-argument', 'no query yet', 'Drop a photo of a face as the query first.');
    return this.query;
  }
}

/**
 * The query face and its searches: extracts the query (or takes a gallery
 * face's stored features), runs the two-stage search against the gallery
 * and turns results into the small views the UI renders.
 */
import { AppError } from '../core/errors.ts';
import type { FaceFeatures, OodTransform, RerankSettings } from '../core/types.ts';
import type { SearchResult } from '../engine/searchEngine.ts';
import type { Alpha } from '../engine/rerank.ts';
import type { PairView, QueryView, RankedView, SearchView } from './engineApi.ts';
import type { GalleryService } from './galleryService.ts';
import { guessQueryIdentity } from './identity.ts';
import type { ExtractorPort } from './ports.ts';
import { storedToFeatures } from './storedFace.ts';
import { unknownPersonVerdict } from '../models/unknownPerson.ts';
import { decodeLibraryFaceName, UNPLACED_LABEL, unnamedPersonId } from '../library/libraryRecords.ts';

export class QueryService {
  private query: { features: FaceFeatures; view: QueryView } | undefined;
  /** The current query drawn with each occluder, made on first use (damage-matched library search). */
  private drawnVersions = new Map<OodTransform, Promise<FaceFeatures>>();
  private lastK = 100;

  constructor(
    private readonly gallery: GalleryService,
    private readonly extractor: ExtractorPort,
    /** The active recognizer or pipeline: its unknown-person thresholds judge the top-1. */
    private readonly recognizerId: string,
  ) {}

  /** Extracts the query face (the largest, or `faceIndex`) with an optional out-of-distribution transform. */
  async setQuery(fileName: string, file: Blob, ood: OodTransform, faceIndex?: number, seed = 1): Promise<QueryView> {
    const bytes = await file.arrayBuffer();
    const outcome = await this.extractor.extract(fileName, bytes, { purpose: 'query', ood, seed, faceIndex });
    if (!outcome.ok) throw new AppError(outcome.error.code, outcome.error.message, outcome.error.hint, { file: outcome.error.file ?? fileName });
    const view: QueryView = {
      fileName,
      faces: outcome.face.faces,
      chosenIndex: outcome.face.chosenIndex,
      aligned: outcome.face.aligned,
      knownIdentity: guessQueryIdentity(fileName, this.gallery.identities()),
      ...(outcome.face.notice ? { notice: outcome.face.notice } : {}),
    };
    this.setCurrent(outcome.face.features, view);
    return view;
  }

  /** A gallery face as the query (its stored features; a transform needs the photo's pixels, so none). */
  async setQueryFromGallery(key: string): Promise<QueryView> {
    const f = await this.gallery.get(key);
    if (!f) throw new AppError('unknown-id', `no gallery image ${key}`, 'Pick an image that is still in the gallery.');
    // A photo library's face: its photo and place in it; the person is an identity only once named.
    const ref = decodeLibraryFaceName(f.fileName);
    const named = f.label !== UNPLACED_LABEL && unnamedPersonId(f.label) === null;
    const view: QueryView = ref
      ? { fileName: `${ref.path} (face ${ref.faceIndex + 1})`, faces: [], chosenIndex: 0, aligned: f.thumbnail, ...(named ? { knownIdentity: f.label } : {}) }
      : { fileName: f.fileName, faces: [], chosenIndex: 0, aligned: f.thumbnail, knownIdentity: f.label };
    this.setCurrent(storedToFeatures(f), view);
    return view;
  }

  /** The current query's features (a photo-library search takes them too). */
  currentFeatures(): FaceFeatures {
    return this.requireQuery().features;
  }

  /**
   * The current query's aligned face drawn with an occluder (the evaluation's generators, placed by its landmarks) and
   * embedded again; made once per query and kind.
   */
  drawn(kind: OodTransform): Promise<FaceFeatures> {
    const q = this.requireQuery();
    const made = this.drawnVersions.get(kind);
    if (made) return made;
    const landmarks = q.features.landmarks68;
    if (!landmarks)
      return Promise.reject(
        new AppError('invalid-argument', `the query ${q.view.fileName} has no landmarks to draw a ${kind} by`, 'Drop the photo again: faces extracted by this version keep their landmarks.'),
      );
    const version = this.extractor.embedAligned(q.view.aligned, Float32Array.from(landmarks.flat()), kind, 1);
    this.drawnVersions.set(kind, version);
    // A failed drawing is not kept: the next search tries again.
    version.catch(() => this.drawnVersions.delete(kind));
    return version;
  }

  async search(settings: RerankSettings): Promise<SearchView> {
    const q = this.requireQuery();
    if (this.gallery.size === 0) throw new AppError('empty-gallery', 'the gallery is empty', 'Drop a folder of labelled faces first.');
    const r = await this.gallery.index.search(q.features, settings);
    this.lastK = settings.k;
    return this.toView(r, settings.k);
  }

  /** Another alpha over the last search's cached scores: no Sinkhorn runs. */
  reblend(alpha: Alpha): SearchView {
    return this.toView(this.gallery.index.reblend(alpha), this.lastK);
  }

  /** The transport plan between the query and one gallery face, for the flow view. */
  /** The query (or a drawing of it, `drawn`) against one face of `gallery` (the labelled gallery unless told: the photo library's faces have their own). */
  async pairDetail(key: string, settings: RerankSettings, gallery: GalleryService = this.gallery, drawn?: { features: FaceFeatures; via: OodTransform }): Promise<PairView> {
    const q = this.requireQuery();
    const d = await gallery.index.pairDetail(drawn?.features ?? q.features, key, settings);
    const stored = await gallery.get(key);
    if (!stored) throw new AppError('unknown-id', `no gallery image ${key}`, 'It may have been removed; run the query again.');
    return { key, grid: d.grid, plan: d.plan, u: d.u, v: d.v, sEmd: d.sEmd, iterations: d.iterations, marginalError: d.marginalError, galleryAligned: stored.thumbnail, via: drawn?.via ?? 'none' };
  }

  private toView(r: SearchResult, k: number): SearchView {
    const fileName = (id: string) => this.gallery.entry(id)?.fileName ?? '?';
    const stage1: RankedView[] = r.stage1.map((e) => ({ key: e.id, label: e.label, fileName: fileName(e.id), score: e.score, sCos: e.score, rankBefore: e.rank, rankAfter: e.rank }));
    const stage2: RankedView[] = r.stage2.map((e) => ({
      key: e.id,
      label: e.label,
      fileName: fileName(e.id),
      score: e.score,
      sCos: e.sCos,
      sEmd: e.sEmd,
      rankBefore: e.rankBefore,
      rankAfter: e.rankAfter,
    }));
    return {
      stage1,
      stage2,
      stage1Ms: r.timings.stage1Ms,
      stage2Ms: r.timings.stage2Ms,
      sinkhornBackend: r.backendUsed,
      fallbackReason: r.fallbackReason,
      stage2Workers: r.stage2Workers,
      galleryCount: this.gallery.size,
      k,
      alpha: r.alpha,
      alphaReason: r.alphaReason,
      unknownPerson: stage1.length > 0 ? unknownPersonVerdict(this.recognizerId, stage1[0].score) : null,
    };
  }

  private setCurrent(features: FaceFeatures, view: QueryView): void {
    this.query = { features, view };
    this.drawnVersions = new Map();
  }

  private requireQuery() {
    if (!this.query) throw new AppError('invalid-argument', 'no query yet', 'Drop a photo of a face as the query first.');
    return this.query;
  }
}

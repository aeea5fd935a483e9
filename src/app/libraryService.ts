/**
 * The photo library (issue 17): every face of every photo of a folder tree,
 * grouped into people by clustering, named by the user. Its faces are
 * ordinary stored faces of the library's own model key (libraryRecords.ts
 * says how photo, box and person fit in a record), in a GalleryService of
 * their own, so they persist, load and search like the labelled gallery.
 *
 * Import: files hashed, a photo already in the library skipped (dropping the
 * folder again resumes a cancelled or cut-short import), every face
 * extracted by the worker pool, a photo's faces written last to first. Face
 * 0 is the photo's "done" mark, so a photo is in the library with all its
 * faces or, after a crash mid-photo, done again next time (its other faces
 * are overwritten, same keys). Faces arrive unplaced (label ''); when the
 * import ends, or at the next start after a crash, new faces join existing
 * people or form new ones (clusterFaces.ts assignNewFaces), without
 * re-clustering the library.
 */
import { AppError, toPlainError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import { assignNewFaces } from '../library/clusterFaces.ts';
import { decodeLibraryFaceName, encodeLibraryFaceName, libraryFaceHash, UNPLACED_LABEL, unnamedPersonId, unnamedPersonLabel, validPersonName, type LibraryFaceRef } from '../library/libraryRecords.ts';
import { peopleThreshold } from '../library/peopleThreshold.ts';
import type { FaceFeatures, RerankSettings } from '../core/types.ts';
import { matchedLibrarySearch, type DrawnQuery, type MatchedHit, type MatchedNapSource, type MatchedSearchResult } from './matchedLibrarySearch.ts';
import type { ImportProblem, ImportProgress } from './engineApi.ts';
import type { LibraryPhotoFace } from './extractTypes.ts';
import type { GalleryService } from './galleryService.ts';
import { imageEntries, ImportRun, runInLanes, throttledReport, type ImportClock } from './importRun.ts';
import type { ExtractorPort, LibraryPhotosPort } from './ports.ts';
import { faceKey } from './storedFace.ts';
import type { ImportEntry } from './zipEntries.ts';
import type { StoredPhoto } from '../storage/photoStore.ts';

export interface PersonView {
  /** The person's label: their name, or `#n` until named. */
  readonly label: string;
  /** Null until the user names them. */
  readonly name: string | null;
  readonly count: number;
  /** A face to show for the person (the first in path order). */
  readonly coverKey: string;
}

export interface LibraryFaceView extends LibraryFaceRef {
  readonly key: string;
  /** The person's label ('' while not yet placed). */
  readonly label: string;
}

export interface LibraryInfo {
  readonly photos: number;
  readonly faces: number;
  /** Largest first. */
  readonly people: readonly PersonView[];
  /** Faces clustering has not placed yet. */
  readonly unplaced: number;
  /** Why the library is not grouped into people, when it cannot be (no threshold for the recognizer). */
  readonly groupingUnavailable?: string;
}

export interface LibraryPhotoView {
  readonly photoHash: string;
  readonly path: string;
  /** The frame the boxes are in (the decoded photo); null with no stored preview. */
  readonly width: number | null;
  readonly height: number | null;
  /** The downscaled photo; null for a photo imported before previews were kept. */
  readonly preview: Blob | null;
  /** In reading order. */
  readonly faces: readonly LibraryFaceView[];
}

/** A library face in a search's lists: the face and its photo, with the matched search's score, ranks and version of the query. */
export type LibraryHitView = LibraryFaceView & Omit<MatchedHit, 'id'>;

export type LibrarySearchView = MatchedSearchResult<LibraryHitView>;

export class LibraryService {
  private cancelRequested = false;

  constructor(
    private readonly gallery: GalleryService,
    private readonly photos: LibraryPhotosPort,
    private readonly extractor: ExtractorPort,
    private readonly clock: ImportClock,
    private readonly recognizerId: string,
    /** The drawn pairs' nuisance directions (src/models/matchedNap.ts), or why there are none. */
    private readonly matchedNap: MatchedNapSource = { unavailable: 'this app was built without the nuisance directions' },
  ) {}

  get modelKey(): string {
    return this.gallery.modelKey;
  }

  cancel(): void {
    this.cancelRequested = true;
  }

  /** Imports the photos of a dropped folder tree; `added` counts faces. Ends by placing the new faces into people. */
  async importPhotos(entries: readonly ImportEntry[], onProgress: (p: ImportProgress) => void): Promise<ImportProgress> {
    this.cancelRequested = false;
    const problems: ImportProblem[] = [];
    const photos = await imageEntries(entries, problems);
    const run = new ImportRun(photos.length, problems, this.clock, () => this.cancelRequested);
    const report = throttledReport(this.clock, (finished) => onProgress(run.progress(finished)));
    report(false);
    await runInLanes(
      photos,
      this.extractor.concurrency + 1,
      () => this.cancelRequested,
      async (photo) => {
        await this.importPhoto(photo, run);
        report(false);
      },
    );
    try {
      // Seconds for a large first import (the pair graph is O(faces²)): the page says what is going on.
      onProgress({ ...run.progress(false), phase: 'grouping' });
      await this.placeUnplaced();
    } catch (e) {
      const p = toPlainError(e);
      run.problems.push({ file: '(grouping into people)', code: p.code, message: p.message, hint: p.hint });
    }
    const final = run.progress(true);
    onProgress(final);
    return final;
  }

  private async importPhoto(entry: ImportEntry, run: ImportRun): Promise<void> {
    if (this.cancelRequested) return;
    try {
      const bytes = await entry.file.arrayBuffer();
      const photoHash = await sha256Hex(bytes);
      if (!run.claim(photoHash, entry.path, 'photo')) return;
      if (await this.alreadyIn(photoHash)) {
        run.skippedDuplicates++;
        return;
      }
      const outcome = await this.extractor.extractLibrary(entry.path, bytes, { alignedAs: this.gallery.thumbnailType });
      if (!outcome.ok) {
        run.problems.push({ file: entry.path, code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint });
        return;
      }
      if (this.cancelRequested) return;
      // Before its faces, so a face never lacks its photo; for a photo without faces, this alone marks it done.
      await this.photos.put(photoHash, { width: outcome.width, height: outcome.height, faces: outcome.faces.length, preview: outcome.preview });
      // Last to first: face 0 marks the photo done, so it is written once every other face is.
      for (let i = outcome.faces.length - 1; i >= 0; i--) await this.addFace(entry.path, photoHash, i, outcome.faces[i]);
      run.added += outcome.faces.length;
      if (outcome.notice) run.problems.push({ file: entry.path, code: outcome.notice.code, message: outcome.notice.message, hint: outcome.notice.hint });
      for (const [step, ms] of Object.entries(outcome.timings)) run.stepSums[step] = (run.stepSums[step] ?? 0) + ms;
    } catch (e) {
      const p = toPlainError(e);
      run.problems.push({ file: entry.path, code: p.code, message: p.message, hint: p.hint });
      if (p.code === 'storage-quota') this.cancelRequested = true;
    } finally {
      run.done++;
    }
  }

  /**
   * A photo is in when it is stored and either its face 0 is (written last) or it has no faces. One
   * imported before previews were kept is extracted again for its preview (its faces stay as they are).
   */
  private async alreadyIn(photoHash: string): Promise<boolean> {
    if (!this.photos.has(photoHash)) return false;
    if (await this.gallery.contains(faceKey(this.modelKey, await libraryFaceHash(photoHash, 0)))) return true;
    return (await this.photos.get(photoHash))?.faces === 0;
  }

  private async addFace(path: string, photoHash: string, faceIndex: number, face: LibraryPhotoFace): Promise<void> {
    const hash = await libraryFaceHash(photoHash, faceIndex);
    // Already there: written by an import cut short before this photo's face 0 (same bytes, same face).
    if (this.gallery.entry(faceKey(this.modelKey, hash))) return;
    const { x, y, width, height } = face.box;
    const f = face.features;
    await this.gallery.add({
      key: faceKey(this.modelKey, hash),
      modelKey: this.modelKey,
      contentHash: hash,
      label: UNPLACED_LABEL,
      fileName: encodeLibraryFaceName({ path, photoHash, faceIndex, box: [x, y, width, height] }),
      addedAt: this.clock.wallClock(),
      embedding: f.embedding,
      patches: f.patches,
      landmarks68: f.landmarks68 ? Float32Array.from(f.landmarks68.flat()) : null,
      cropSize: f.cropSize,
      ...(f.visibleEmbeddings ? { visibleEmbeddings: f.visibleEmbeddings } : {}),
      thumbnail: face.aligned,
    });
  }

  /**
   * Places every unplaced face: it joins the existing person it matches on
   * average (never one that already has a face of its photo), else new
   * people form among the unplaced faces. Returns how many faces were placed.
   */
  async placeUnplaced(): Promise<number> {
    // In path order, not arrival order (lanes finish in any order): the same photos give the same people and numbers.
    const faces = this.faceList().sort(libraryOrder);
    const unplaced = faces.filter((f) => f.label === UNPLACED_LABEL);
    if (unplaced.length === 0) return 0;
    const threshold = peopleThreshold(this.recognizerId);
    const placed = faces.filter((f) => f.label !== UNPLACED_LABEL);
    const personIndex = new Map<string, number>();
    const people: string[] = [];
    const clusterOf = placed.map((f) => {
      let i = personIndex.get(f.label);
      if (i === undefined) {
        i = people.length;
        personIndex.set(f.label, i);
        people.push(f.label);
      }
      return i;
    });
    const index = this.gallery.index;
    const dim = index.unitEmbeddings([unplaced[0].key]).length;
    const result = assignNewFaces(
      { embeddings: index.unitEmbeddings(placed.map((f) => f.key)), dim, photoOf: placed.map((f) => f.photoHash), clusterOf },
      { embeddings: index.unitEmbeddings(unplaced.map((f) => f.key)), photoOf: unplaced.map((f) => f.photoHash) },
      threshold,
    );
    let nextUnnamed = 1 + Math.max(0, ...people.map((l) => unnamedPersonId(l) ?? 0));
    const freshLabels = new Map<number, string>();
    const byLabel = new Map<string, string[]>();
    unplaced.forEach((f, i) => {
      const c = result.clusterOf[i];
      let label = c < people.length ? people[c] : freshLabels.get(c);
      if (label === undefined) {
        label = unnamedPersonLabel(nextUnnamed++);
        freshLabels.set(c, label);
      }
      pushTo(byLabel, label, f.key);
    });
    for (const [label, keys] of byLabel) await this.gallery.relabel(keys, label);
    return unplaced.length;
  }

  /**
   * Searches the library with a query face: the same two stages as the labelled gallery, hits as faces in photos.
   * With `drawn`, a clean query is also compared through versions of it drawn with each occluder (src/app/matchedLibrarySearch.ts).
   */
  async search(query: FaceFeatures, settings: RerankSettings, drawn: DrawnQuery | null = null): Promise<LibrarySearchView> {
    if (this.gallery.size === 0) throw new AppError('empty-gallery', 'the photo library is empty', 'Drop a folder of photos as a library first.');
    const r = await matchedLibrarySearch(this.gallery.index, query, settings, drawn, this.matchedNap);
    const face = (id: string) => {
      const e = this.gallery.entry(id);
      const ref = e ? decodeLibraryFaceName(e.fileName) : null;
      if (!e || !ref) throw unknownFace(id);
      return { key: id, label: e.label, ...ref };
    };
    const hit = (h: MatchedHit): LibraryHitView => ({ ...face(h.id), score: h.score, rankBefore: h.rankBefore, rankAfter: h.rankAfter, via: h.via });
    return { stage1: r.stage1.map(hit), stage2: r.stage2.map(hit), alpha: r.alpha, alphaReason: r.alphaReason, stage2Ms: r.stage2Ms, matching: r.matching };
  }

  info(): LibraryInfo {
    const faces = this.faceList();
    const photos = new Set(faces.map((f) => f.photoHash));
    const byLabel = new Map<string, LibraryFaceView[]>();
    for (const f of faces) if (f.label !== UNPLACED_LABEL) pushTo(byLabel, f.label, f);
    const people = [...byLabel].map(([label, members]) => ({
      label,
      name: unnamedPersonId(label) === null ? label : null,
      count: members.length,
      coverKey: members.reduce((a, b) => (libraryOrder(a, b) <= 0 ? a : b)).key,
    }));
    people.sort((a, b) => b.count - a.count || (unnamedPersonId(a.label) ?? -1) - (unnamedPersonId(b.label) ?? -1) || a.label.localeCompare(b.label));
    let groupingUnavailable: string | undefined;
    try {
      peopleThreshold(this.recognizerId);
    } catch (e) {
      groupingUnavailable = toPlainError(e).message;
    }
    return {
      photos: photos.size,
      faces: faces.length,
      people,
      unplaced: faces.filter((f) => f.label === UNPLACED_LABEL).length,
      ...(groupingUnavailable ? { groupingUnavailable } : {}),
    };
  }

  /** One person's faces (or every face), in path then reading order. */
  faces(label?: string): LibraryFaceView[] {
    return this.faceList()
      .filter((f) => label === undefined || f.label === label)
      .sort(libraryOrder);
  }

  /** A photo of the library with every face of it (and its person), for the photo view; undefined for a photo not in it. */
  async photo(photoHash: string): Promise<LibraryPhotoView | undefined> {
    const faces = this.faceList()
      .filter((f) => f.photoHash === photoHash)
      .sort(libraryOrder);
    if (faces.length === 0) return undefined;
    const stored = await this.storedPhoto(photoHash);
    // Libraries imported before previews were kept have boxes but no picture; the view then says how to get one.
    return { photoHash, path: faces[0].path, width: stored?.width ?? null, height: stored?.height ?? null, preview: stored?.preview ?? null, faces };
  }

  /** The stored photo (size, face count, preview), without looking at its faces. */
  storedPhoto(photoHash: string): Promise<StoredPhoto | undefined> {
    return this.photos.get(photoHash);
  }

  /** Names a person: every face of theirs takes the name. A name someone already has merges the two. Returns the name. */
  async namePerson(label: string, typed: string): Promise<string> {
    const name = validPersonName(typed);
    await this.gallery.relabel(this.keysOf(label), name);
    return name;
  }

  /** Every face of `from` becomes `into`'s. */
  async mergePeople(from: string, into: string): Promise<void> {
    this.keysOf(into);
    await this.gallery.relabel(this.keysOf(from), into);
  }

  /** Takes a face out of its person into a new unnamed person of its own; returns that person's label. */
  async moveOut(key: string): Promise<string> {
    const f = this.faceList().find((x) => x.key === key);
    if (!f) throw unknownFace(key);
    const used = this.faceList().map((x) => unnamedPersonId(x.label) ?? 0);
    const label = unnamedPersonLabel(1 + Math.max(0, ...used));
    await this.gallery.relabel([key], label);
    return label;
  }

  private keysOf(label: string): string[] {
    const keys = this.faceList()
      .filter((f) => f.label === label && label !== UNPLACED_LABEL)
      .map((f) => f.key);
    if (keys.length === 0) throw new AppError('unknown-id', `no person ${label} in the library`, 'Pick a person from the people list; it may have been merged or renamed.');
    return keys;
  }

  private faceList(): LibraryFaceView[] {
    const out: LibraryFaceView[] = [];
    for (const [key, e] of this.gallery.all()) {
      const ref = decodeLibraryFaceName(e.fileName);
      if (ref) out.push({ key, label: e.label, ...ref });
    }
    return out;
  }
}

/** Appends in place: copying a person's list per face would be quadratic in their size. */
function pushTo<T>(lists: Map<string, T[]>, key: string, item: T): void {
  const list = lists.get(key);
  if (list) list.push(item);
  else lists.set(key, [item]);
}

function libraryOrder(a: LibraryFaceView, b: LibraryFaceView): number {
  return a.path.localeCompare(b.path) || a.faceIndex - b.faceIndex;
}

function unknownFace(key: string): AppError {
  return new AppError('unknown-id', `no library face ${key}`, 'It may have been removed; pick a face from the list again.');
}

/**
 * Imports dropped files into the gallery: zips expanded, non-images refused
 * by name, each file hashed so the same content is indexed once (within this
 * import and across imports), features extracted by every worker at once,
 * each face saved as it finishes (so a reload keeps what was done, and a
 * journal on disk lets the next load say the import was cut short), progress
 * reported at most every 150 ms. A full disk stops the import: later images
 * could not be saved either.
 */
import { toPlainError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import type { ImportProblem, ImportProgress } from './engineApi.ts';
import type { GalleryService } from './galleryService.ts';
import { identityFromPath } from './identity.ts';
import { imageEntries, ImportRun, runInLanes, throttledReport, type ImportClock } from './importRun.ts';
import type { ExtractorPort } from './ports.ts';
import { faceKey, featuresToStored } from './storedFace.ts';
import type { ImportEntry } from './zipEntries.ts';

export class ImportService {
  private cancelRequested = false;
  private staged: ImportEntry[] = [];

  constructor(
    private readonly gallery: GalleryService,
    private readonly extractor: ExtractorPort,
    private readonly clock: ImportClock,
  ) {}

  cancel(): void {
    this.cancelRequested = true;
  }

  /**
   * Files arrive in small batches: posting a File to a worker costs the page's
   * main thread about 1 ms, so a whole folder in one message froze the page
   * (200 files: a 220-260 ms task). `reset` starts a new list.
   */
  stage(entries: readonly ImportEntry[], reset: boolean): number {
    if (reset) this.staged = [];
    this.staged.push(...entries);
    return this.staged.length;
  }

  importStaged(onProgress: (p: ImportProgress) => void): Promise<ImportProgress> {
    return this.importFiles(this.takeStaged(), onProgress);
  }

  /** The staged files, handed over once (a photo-library import takes them too). */
  takeStaged(): ImportEntry[] {
    const entries = this.staged;
    this.staged = [];
    return entries;
  }

  async importFiles(entries: readonly ImportEntry[], onProgress: (p: ImportProgress) => void): Promise<ImportProgress> {
    this.cancelRequested = false;
    const problems: ImportProblem[] = [];
    const images = await imageEntries(entries, problems);
    const run = new ImportRun(images.length, problems, this.clock, () => this.cancelRequested);
    const report = throttledReport(this.clock, (finished) => onProgress(run.progress(finished)));
    report(false);
    // On disk until the import ends: if the page goes away first, the next load says how far it got.
    const startedAt = this.clock.wallClock();
    const noteProgress = () => this.gallery.noteImportProgress({ total: run.total, done: run.done, startedAt });
    if (images.length > 0) await noteProgress();
    await runInLanes(
      images,
      this.extractor.concurrency + 1,
      () => this.cancelRequested,
      async (image) => {
        await this.importOne(image, run);
        await noteProgress();
        report(false);
      },
    );
    await this.gallery.endImport();
    const final = run.progress(true);
    onProgress(final);
    return final;
  }

  private async importOne(entry: ImportEntry, run: ImportRun): Promise<void> {
    if (this.cancelRequested) return;
    try {
      const bytes = await entry.file.arrayBuffer();
      const hash = await sha256Hex(bytes);
      const key = faceKey(this.gallery.modelKey, hash);
      if (!run.claim(key, entry.path, 'image')) return;
      if (await this.gallery.contains(key)) {
        run.skippedDuplicates++;
        return;
      }
      const outcome = await this.extractor.extract(entry.path, bytes, { purpose: 'gallery', ood: 'none', seed: 0, alignedAs: this.gallery.thumbnailType });
      if (!outcome.ok) {
        run.problems.push({ file: entry.path, code: outcome.error.code, message: outcome.error.message, hint: outcome.error.hint });
        return;
      }
      if (this.cancelRequested) return;
      await this.gallery.add(featuresToStored(key, this.gallery.modelKey, hash, identityFromPath(entry.path), entry.path, outcome.face, this.clock.wallClock()));
      run.added++;
      // Indexed, with a note the user should check (e.g. which face of a group photo): listed with the file, like a problem.
      const { notice } = outcome.face;
      if (notice) run.problems.push({ file: entry.path, code: notice.code, message: notice.message, hint: notice.hint });
      for (const [step, ms] of Object.entries(outcome.face.timings)) run.stepSums[step] = (run.stepSums[step] ?? 0) + ms;
    } catch (e) {
      const p = toPlainError(e);
      run.problems.push({ file: entry.path, code: p.code, message: p.message, hint: p.hint });
      if (p.code === 'storage-quota') this.cancelRequested = true;
    } finally {
      run.done++;
    }
  }
}

/**
 * The one place that finds recognizers in the manifest: a single recognizer
 * by id, every recognizer, the active recognizer or fused pipeline with its
 * native patch grid and embedding size, and the list the model picker shows.
 * A recognizer entry here always has its embedding and patch grids (the
 * manifest schema insists on both), so callers need no `!`.
 */
import { AppError } from '../core/errors.ts';
import type { FusedCosineLayout } from '../core/types.ts';
import { hasRecognizerOutputs, MANIFEST_FILE, type ModelEntry, type ModelManifest, type PatchGridSpec, type RecognizerOutputs } from './manifestSchema.ts';
import { FUSED_PIPELINES, fusedPipeline } from './pipelines.ts';

export type RecognizerEntry = ModelEntry & RecognizerOutputs;

/** The entry as a recognizer, or an AppError `model-load-failed` when it cannot be one. */
export function asRecognizerEntry(entry: ModelEntry): RecognizerEntry {
  if (!hasRecognizerOutputs(entry)) {
    throw new AppError(
      'model-load-failed',
      `model ${entry.id} (${entry.role}) is not a recognizer with an embedding and a patch grid`,
      'Choose a recognizer; if this one should be, rebuild the models with `npm run models`.',
      { file: MANIFEST_FILE },
    );
  }
  return entry;
}

/** The grid the recognizer's map has before any pooling (the first listed). */
export function nativePatchGrid(entry: RecognizerEntry): PatchGridSpec {
  return entry.patchGrids[0];
}

export function recognizerEntries(manifest: ModelManifest): RecognizerEntry[] {
  return manifest.models.filter((m): m is RecognizerEntry => hasRecognizerOutputs(m));
}

/** Every id the app can run as "the recognizer": the fused pipelines, then the manifest's recognizers. */
function selectableIds(manifest: ModelManifest): string[] {
  return [...FUSED_PIPELINES.map((p) => p.id), ...recognizerEntries(manifest).map((m) => m.id)];
}

function missingRecognizer(manifest: ModelManifest, id: string): AppError {
  return new AppError('model-missing', `no recognizer "${id}" in the manifest`, `Pick one of: ${selectableIds(manifest).join(', ')}; or rebuild with \`npm run models\`.`, { file: MANIFEST_FILE });
}

/** The manifest recognizer `id`, or an AppError `model-missing` listing what there is. */
export function recognizerEntry(manifest: ModelManifest, id: string): RecognizerEntry {
  const entry = recognizerEntries(manifest).find((m) => m.id === id);
  if (!entry) throw missingRecognizer(manifest, id);
  return entry;
}

export interface ActiveRecognizer {
  readonly id: string;
  readonly title: string;
  /** Manifest recognizers it runs (one, or a fused pipeline's primary then secondary). */
  readonly modelIds: readonly string[];
  readonly patchGrid: PatchGridSpec;
  readonly embeddingDim: number;
  /** A fused pipeline's embedding layout (the engine splits its cosine with it). */
  readonly fusedCosine?: FusedCosineLayout;
}

/** A manifest recognizer or a fused pipeline (./pipelines.ts), checked against the manifest. */
export function resolveRecognizer(manifest: ModelManifest, id: string): ActiveRecognizer {
  const fused = fusedPipeline(id);
  if (fused) {
    const primary = recognizerEntry(manifest, fused.primary);
    const secondary = recognizerEntry(manifest, fused.secondary);
    // The fused embedding is the two unit embeddings side by side; the patch map is the primary's.
    return {
      id: fused.id,
      title: fused.title,
      modelIds: [primary.id, secondary.id],
      patchGrid: nativePatchGrid(primary),
      embeddingDim: primary.embedding.dim + secondary.embedding.dim,
      fusedCosine: { secondaryDims: secondary.embedding.dim, secondaryWeight: fused.secondaryWeight },
    };
  }
  const single = recognizerEntry(manifest, id);
  return { id, title: single.title, modelIds: [id], patchGrid: nativePatchGrid(single), embeddingDim: single.embedding.dim };
}

/** The models a worker loads for `active`: every non-recognizer (detector, landmarks) and the recognizers it runs. */
export function modelsToLoad(manifest: ModelManifest, active: ActiveRecognizer): ModelEntry[] {
  return manifest.models.filter((m) => m.role !== 'recognizer' || active.modelIds.includes(m.id));
}

/** What the model picker lists: each fused pipeline whose two recognizers are built, then each recognizer. */
export function selectableRecognizers(manifest: ModelManifest): { readonly id: string; readonly title: string }[] {
  const built = new Set(recognizerEntries(manifest).map((m) => m.id));
  return [
    ...FUSED_PIPELINES.filter((p) => built.has(p.primary) && built.has(p.secondary)).map((p) => ({ id: p.id, title: p.title })),
    ...recognizerEntries(manifest).map((m) => ({ id: m.id, title: m.title })),
  ];
}

/** Shapes and paths shared by the pipeline study's scripts (issue 13). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MatchedNapSource } from '../../src/app/matchedLibrarySearch.ts';
import { MATCHED_NAP_FILE, parseMatchedNap } from '../../src/models/matchedNap.ts';
import { REPO_ROOT } from '../../tests/unit/face/helpers/data.ts';

export const VARIANTS = ['none', 'crop', 'mask', 'sunglasses'] as const;
export type Variant = (typeof VARIANTS)[number];
/** The variants dump.ts writes: all, or those named in STUDY_VARIANTS (comma-separated) to save time. */
export function dumpVariants(): readonly Variant[] {
  const only = process.env.STUDY_VARIANTS?.split(',');
  return only ? VARIANTS.filter((v) => only.includes(v)) : VARIANTS;
}
export interface DumpJob {
  readonly index: number;
  readonly path: string;
  readonly name: string;
}
/** One [embedding, patch map] pair per variant, in VARIANTS order. */
export type VariantFeatures = readonly (readonly [Float32Array, Float32Array])[];
/** What dumpWorker.ts sends back for one job: the features exist exactly when the image went through. */
export type DumpResult =
  | { readonly index: number; readonly ok: true; readonly refused: boolean; readonly fr: VariantFeatures; readonly mf: VariantFeatures }
  | { readonly index: number; readonly ok: false; readonly code: string };
/** A message from dumpWorker.ts: `ready` once its models are loaded, then one `out` per batch of jobs. */
export type DumpMessage = { readonly ready: true } | { readonly out: readonly DumpResult[] };
export const STUDY_DIR = join(REPO_ROOT, '.cache/study');
export const DIMS = { mfEmb: 512, mfPatch: 49 * 512, frEmb: 1024, frPatch: 49 * 1024 };
export const RECORD_FLOATS = DIMS.mfEmb + DIMS.mfPatch + DIMS.frEmb + DIMS.frPatch;

/** The app's shipped nuisance directions for the damage-matched search, read as its worker reads them. */
export function shippedMatchedNap(): MatchedNapSource {
  return { model: parseMatchedNap(readFileSync(join(REPO_ROOT, 'src/models/damage', MATCHED_NAP_FILE)), MATCHED_NAP_FILE) };
}

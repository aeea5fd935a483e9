/**
 * The shape of public/models/manifest.json, written by `npm run models`
 * (scripts/models/build.ts) and read by the worker at start-up.
 */
export type ModelRole = 'recognizer' | 'detector' | 'landmarks';

export interface ModelSource {
  /** npm package and version the weights come from. */
  readonly package: string;
  readonly version: string;
  /** File inside the package. */
  readonly file: string;
  readonly sha256: string;
  readonly licence: string;
}

export interface TensorSpec {
  readonly name: string;
  /** -1 marks a dynamic dimension (the batch). */
  readonly shape: readonly number[];
}

export interface PatchGridSpec {
  /** Graph output that holds the map, NCHW. */
  readonly output: string;
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

export interface ModelEntry {
  readonly id: string;
  readonly role: ModelRole;
  readonly title: string;
  /** Bumped whenever outputs could change; galleries are keyed by id + version. */
  readonly version: string;
  readonly file: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly source: ModelSource;
  readonly input: TensorSpec & { readonly layout: 'NCHW' | 'NHWC' };
  readonly channelOrder: 'RGB' | 'BGR' | 'GRAY';
  /** x_normalised = (x - mean[c]) / std[c], x in 0..255. */
  readonly normalisation: { readonly mean: readonly number[]; readonly std: readonly number[] };
  readonly outputs: readonly TensorSpec[];
  /** Recognizers only. */
  readonly embedding?: { readonly output: string; readonly dim: number };
  readonly patchGrids?: readonly PatchGridSpec[];
  /** Five points (left eye, right eye, nose, left mouth, right mouth) in input pixels. */
  readonly alignmentTemplate?: readonly (readonly [number, number])[];
  readonly notes?: string;
}

export interface ModelManifest {
  readonly schema: 1;
  readonly builtAt: string;
  readonly models: readonly ModelEntry[];
}

export function findModel(manifest: ModelManifest, id: string): ModelEntry | undefined {
  return manifest.models.find((m) => m.id === id);
}

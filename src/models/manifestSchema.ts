/**
 * The shape of public/models/manifest.json (written by `npm run models`,
 * scripts/models/build.ts), as a valibot schema: the app checks the file
 * against it before using any of it, and the types in ./manifest.ts are
 * derived from it, so the check and the types cannot drift apart. Bounds are
 * generous limits on what any recognizer here could have, there to stop a
 * damaged file early (a grid of -7 or 10^9 patches), not to describe today's
 * models.
 */
import * as v from 'valibot';
import { VISIBLE_DAMAGES } from '../core/types.ts';
import { parseJsonWithSchema } from '../core/validate.ts';

/** Model outputs and feature sizes above this are not a face recognizer. */
const MAX_CHANNELS = 8192;
/** Patch maps above 64 x 64 would make every EMD pair 16M cells. */
const MAX_GRID_SIDE = 64;
/** Tensor dimensions above 2^20 (a detector lists a few thousand anchors) mean a damaged file. */
const MAX_TENSOR_DIMENSION = 1 << 20;

const nonEmptyString = v.pipe(v.string(), v.nonEmpty('must not be empty'));
const sha256Hex = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be 64 lower-case hex digits (a sha256)'));
const count = (min: number, max: number) => v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`));
const finite = v.pipe(v.number(), v.finite('must be a finite number'));
const readonlyArray = <const TItem extends v.GenericSchema>(item: TItem) => v.pipe(v.array(item), v.readonly());

const ModelRoleSchema = v.picklist(['recognizer', 'detector', 'landmarks']);

const ModelSourceSchema = v.pipe(
  v.object({
    /** npm package and version the weights come from. */
    package: nonEmptyString,
    version: nonEmptyString,
    /** File inside the package. */
    file: nonEmptyString,
    sha256: sha256Hex,
    licence: nonEmptyString,
  }),
  v.readonly(),
);

/** A tensor dimension: -1 marks a dynamic one (the batch). */
const dimension = v.union([v.literal(-1), count(1, MAX_TENSOR_DIMENSION)], 'must be -1 (dynamic) or a whole number from 1');

const tensorEntries = { name: nonEmptyString, shape: readonlyArray(dimension) };
const TensorSpecSchema = v.pipe(v.object(tensorEntries), v.readonly());

const PatchGridSpecSchema = v.pipe(
  v.object({
    /** Graph output that holds the map, NCHW. */
    output: nonEmptyString,
    h: count(1, MAX_GRID_SIDE),
    w: count(1, MAX_GRID_SIDE),
    c: count(1, MAX_CHANNELS),
  }),
  v.readonly(),
);

const VisibleEmbeddingSpecSchema = v.pipe(
  v.object({
    /** Graph output: the embedding of only these rows of the native patch map. */
    output: nonEmptyString,
    /** The kind of damage whose query stage 2 compares by it. */
    damage: v.picklist(VISIBLE_DAMAGES),
    rows: v.pipe(v.array(count(0, MAX_GRID_SIDE)), v.minLength(1, 'needs a row'), v.readonly()),
  }),
  v.readonly(),
);

const EmbeddingSpecSchema = v.pipe(v.object({ output: nonEmptyString, dim: count(1, MAX_CHANNELS) }), v.readonly());

const point = v.pipe(v.tuple([finite, finite]), v.readonly());

export interface RecognizerOutputs {
  readonly role: 'recognizer';
  readonly embedding: EmbeddingSpec;
  /** The native grid first. */
  readonly patchGrids: readonly [PatchGridSpec, ...PatchGridSpec[]];
}

/** Whether the entry is a recognizer with an embedding and at least one patch grid (also for the build scripts' entries, which lack checksums). */
export function hasRecognizerOutputs<T extends { readonly role: ModelRole; readonly embedding?: EmbeddingSpec; readonly patchGrids?: readonly PatchGridSpec[] }>(
  entry: T,
): entry is T & RecognizerOutputs {
  return entry.role === 'recognizer' && entry.embedding !== undefined && entry.patchGrids !== undefined && entry.patchGrids.length > 0;
}

const plainFileName = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-][A-Za-z0-9._-]*$/, 'must be a plain file name (no folders)'));

const ModelEntrySchema = v.pipe(
  v.object({
    id: v.pipe(v.string(), v.regex(/^[a-z0-9][a-z0-9-]*$/, 'must be lower-case letters, digits and dashes')),
    role: ModelRoleSchema,
    title: nonEmptyString,
    /** Bumped whenever outputs could change; galleries are keyed by id + version. */
    version: nonEmptyString,
    // A bare name: the loader fetches /models/<file>, which must not reach outside that folder.
    file: plainFileName,
    sha256: sha256Hex,
    bytes: count(1, Number.MAX_SAFE_INTEGER),
    /**
     * The same model as a graph onnxruntime-web's WebGPU backend runs whole
     * (outputs identical; see scripts/models/onnxGraph.ts replacePrelu),
     * loaded instead of `file` when the session runs on WebGPU.
     */
    webgpu: v.optional(v.pipe(v.object({ file: plainFileName, sha256: sha256Hex, bytes: count(1, Number.MAX_SAFE_INTEGER) }), v.readonly())),
    source: ModelSourceSchema,
    input: v.pipe(v.object({ ...tensorEntries, layout: v.picklist(['NCHW', 'NHWC']) }), v.readonly()),
    channelOrder: v.picklist(['RGB', 'BGR', 'GRAY']),
    /** x_normalised = (x - mean[c]) / std[c], x in 0..255. */
    normalisation: v.pipe(
      v.object({
        mean: v.pipe(v.array(finite), v.minLength(1, 'needs a value per channel'), v.readonly()),
        std: v.pipe(
          v.array(
            v.pipe(
              finite,
              v.check((x) => x > 0, 'must be positive'),
            ),
          ),
          v.minLength(1, 'needs a value per channel'),
          v.readonly(),
        ),
      }),
      v.readonly(),
    ),
    outputs: readonlyArray(TensorSpecSchema),
    /** Recognizers only. */
    embedding: v.optional(EmbeddingSpecSchema),
    patchGrids: v.optional(readonlyArray(PatchGridSpecSchema)),
    /** Recognizers only: embeddings of the visible part of a damaged face (issue 13). */
    visibleEmbeddings: v.optional(readonlyArray(VisibleEmbeddingSpecSchema)),
    /** Five points (left eye, right eye, nose, left mouth, right mouth) in input pixels. */
    alignmentTemplate: v.optional(v.pipe(v.array(point), v.length(5, 'needs five points'), v.readonly())),
    notes: v.optional(v.string()),
  }),
  v.check((e) => e.role !== 'recognizer' || hasRecognizerOutputs(e), 'a recognizer needs an embedding and at least one patch grid'),
  v.readonly(),
);

function repeatedId(models: readonly { readonly id: string }[]): string | undefined {
  const seen = new Set<string>();
  for (const { id } of models) {
    if (seen.has(id)) return id;
    seen.add(id);
  }
  return undefined;
}

const ModelManifestSchema = v.pipe(
  v.object({
    schema: v.literal(1, 'must be 1 (the manifest format this app reads)'),
    builtAt: v.string(),
    models: v.pipe(
      v.array(ModelEntrySchema),
      v.minLength(1, 'lists no models'),
      v.check(
        (models) => repeatedId(models) === undefined,
        (issue) => `lists model id "${repeatedId(issue.input) ?? ''}" twice`,
      ),
      v.readonly(),
    ),
  }),
  v.readonly(),
);

export type ModelRole = v.InferOutput<typeof ModelRoleSchema>;
export type ModelSource = v.InferOutput<typeof ModelSourceSchema>;
export type PatchGridSpec = v.InferOutput<typeof PatchGridSpecSchema>;
type EmbeddingSpec = v.InferOutput<typeof EmbeddingSpecSchema>;
export type ModelEntry = v.InferOutput<typeof ModelEntrySchema>;
export type ModelManifest = v.InferOutput<typeof ModelManifestSchema>;

export const MANIFEST_FILE = 'models/manifest.json';

/** The manifest from its JSON text, checked; an AppError `model-load-failed` naming the field and value otherwise. */
export function parseManifest(text: string, file = MANIFEST_FILE): ModelManifest {
  return parseJsonWithSchema(ModelManifestSchema, text, {
    file,
    what: 'the model manifest',
    code: 'model-load-failed',
    hint: 'The manifest is damaged or from another version of the app. Rebuild it with `npm run models`.',
  });
}

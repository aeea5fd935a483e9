/**
 * index.json of a gallery export file, as a valibot schema. The file comes
 * from another machine or another person, so nothing in it is used before it
 * passes this check; the types the export writer fills are derived from the
 * same schema. The version is read first, on its own: a file from a newer app
 * may have a different shape, and "update the app" is the useful answer then,
 * not a list of unknown fields.
 *
 * Schema 1: the faces' metadata. Schema 2 adds each face's SHA-256 of its
 * features and thumbnail entries (and the writer adds index.sha256, the
 * SHA-256 of index.json itself), so an edited or damaged file is told apart
 * from a good one; schema-1 files are still read, without those checks.
 * Schema 3 adds each face's thumbnail type: the compact storage keeps JPEG
 * thumbnails (faces/NNNNNN.jpg), earlier exports are all PNG.
 */
import * as v from 'valibot';
import { AppError } from '../core/errors.ts';
import { VISIBLE_DAMAGES } from '../core/types.ts';
import { parseJsonWithSchema, validateWithSchema, type ValidationContext } from '../core/validate.ts';

export const GALLERY_FILE_FORMAT = 'deepface-emd-gallery';
export const GALLERY_FILE_SCHEMA = 4;

/** Feature sizes above these are not from a face recognizer: the file is damaged. */
const MAX_CHANNELS = 8192;
const MAX_GRID_SIDE = 64;
const MAX_LANDMARK_FLOATS = 2 * 1024;
const MAX_CROP_SIZE = 4096;

const sha256Hex = v.pipe(v.string(), v.regex(/^[0-9a-f]{64}$/, 'must be a SHA-256: 64 lower-case hex digits'));
const count = (min: number, max: number) => v.pipe(v.number(), v.integer('must be a whole number'), v.minValue(min, `must be at least ${min}`), v.maxValue(max, `must be at most ${max}`));
const nonEmptyString = v.pipe(v.string(), v.nonEmpty('must not be empty'));

/** One face as schema 1 describes it. */
const faceFields = {
  key: nonEmptyString,
  contentHash: nonEmptyString,
  label: v.string(),
  fileName: v.string(),
  /** Milliseconds since 1970. */
  addedAt: v.pipe(v.number(), v.finite('must be a finite number'), v.minValue(0, 'must not be negative')),
  /** Embedding floats. */
  dim: count(1, MAX_CHANNELS),
  h: count(1, MAX_GRID_SIDE),
  w: count(1, MAX_GRID_SIDE),
  c: count(1, MAX_CHANNELS),
  /** Landmark floats (x, y pairs), 0 when the face has none. */
  landmarks: v.pipe(
    count(0, MAX_LANDMARK_FLOATS),
    v.check((n) => n % 2 === 0, 'must be even (x, y pairs)'),
  ),
  cropSize: count(1, MAX_CROP_SIZE),
};

const GalleryIndexEntryV1Schema = v.pipe(v.object(faceFields), v.readonly());

const checksumFields = {
  /** SHA-256 of the face's faces/NNNNNN.f32 entry. */
  featuresSha256: sha256Hex,
  /** SHA-256 of the face's thumbnail entry. */
  thumbnailSha256: sha256Hex,
};
const GalleryIndexEntryV2Schema = v.pipe(v.object({ ...faceFields, ...checksumFields }), v.readonly());
const THUMBNAIL_TYPES = ['image/png', 'image/jpeg'] as const;
export type ThumbnailType = (typeof THUMBNAIL_TYPES)[number];
const thumbnailFields = { thumbnailType: v.picklist(THUMBNAIL_TYPES, `must be one of ${THUMBNAIL_TYPES.join(', ')}`) };
const GalleryIndexEntryV3Schema = v.pipe(v.object({ ...faceFields, ...checksumFields, ...thumbnailFields }), v.readonly());
/** Schema 4: the face's visible-part embeddings (issue 13), their floats after the landmarks in its .f32 entry, in this order. */
const GalleryIndexEntrySchema = v.pipe(
  v.object({
    ...faceFields,
    ...checksumFields,
    ...thumbnailFields,
    visible: v.pipe(
      v.array(v.pipe(v.object({ damage: v.picklist(VISIBLE_DAMAGES, `must be one of ${VISIBLE_DAMAGES.join(', ')}`), dim: count(1, MAX_CHANNELS) }), v.readonly())),
      v.maxLength(2, 'has at most one embedding per kind'),
      v.check((list) => new Set(list.map((e) => e.damage)).size === list.length, 'names a kind twice'),
      v.readonly(),
    ),
  }),
  v.readonly(),
);

const GalleryIndexHeaderSchema = v.object({
  format: v.literal(GALLERY_FILE_FORMAT, `must be "${GALLERY_FILE_FORMAT}"`),
  schema: count(1, Number.MAX_SAFE_INTEGER),
});

const indexFields = {
  format: v.literal(GALLERY_FILE_FORMAT, `must be "${GALLERY_FILE_FORMAT}"`),
  modelKey: nonEmptyString,
  exportedAt: v.string(),
};

const GalleryIndexV1Schema = v.pipe(v.object({ ...indexFields, schema: v.literal(1, 'must be 1'), faces: v.pipe(v.array(GalleryIndexEntryV1Schema), v.readonly()) }), v.readonly());

const GalleryIndexV2Schema = v.pipe(v.object({ ...indexFields, schema: v.literal(2, 'must be 2'), faces: v.pipe(v.array(GalleryIndexEntryV2Schema), v.readonly()) }), v.readonly());
const GalleryIndexV3Schema = v.pipe(v.object({ ...indexFields, schema: v.literal(3, 'must be 3'), faces: v.pipe(v.array(GalleryIndexEntryV3Schema), v.readonly()) }), v.readonly());
const GalleryIndexSchema = v.pipe(
  v.object({ ...indexFields, schema: v.literal(GALLERY_FILE_SCHEMA, `must be ${GALLERY_FILE_SCHEMA}`), faces: v.pipe(v.array(GalleryIndexEntrySchema), v.readonly()) }),
  v.readonly(),
);

/** A face as this app writes it. */
export type GalleryIndexEntry = v.InferOutput<typeof GalleryIndexEntrySchema>;
/** index.json as this app writes it. */
export type GalleryIndex = v.InferOutput<typeof GalleryIndexSchema>;
/** index.json of any schema this app reads: the current one, schema 2 (PNG thumbnails) or schema 1 (no checksums). */
export type ReadableGalleryIndex = GalleryIndex | v.InferOutput<typeof GalleryIndexV3Schema> | v.InferOutput<typeof GalleryIndexV2Schema> | v.InferOutput<typeof GalleryIndexV1Schema>;

function context(fileName: string): ValidationContext {
  return { file: fileName, what: 'the gallery index (index.json)', code: 'corrupt-archive', hint: 'The file is damaged or not a gallery export: choose a file made with “Export gallery”.' };
}

/**
 * index.json's text, checked: an AppError naming the file, the field and its
 * value when it is malformed, or asking for an app update when it is newer.
 */
export function parseGalleryIndex(text: string, fileName: string): ReadableGalleryIndex {
  const ctx = context(fileName);
  const json = parseJsonWithSchema(v.unknown(), text, ctx);
  const header = validateWithSchema(GalleryIndexHeaderSchema, json, ctx);
  if (header.schema > GALLERY_FILE_SCHEMA) {
    throw new AppError('invalid-argument', `the gallery file has schema ${header.schema}, newer than this app's ${GALLERY_FILE_SCHEMA}`, 'Update the app, then import it again.', { file: fileName });
  }
  if (header.schema === 1) return validateWithSchema(GalleryIndexV1Schema, json, ctx);
  if (header.schema === 2) return validateWithSchema(GalleryIndexV2Schema, json, ctx);
  if (header.schema === 3) return validateWithSchema(GalleryIndexV3Schema, json, ctx);
  return validateWithSchema(GalleryIndexSchema, json, ctx);
}

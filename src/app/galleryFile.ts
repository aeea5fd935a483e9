/**
 * The gallery as one portable file (a zip): index.json (schema, model key,
 * each face's metadata and the SHA-256 of its entries), index.sha256 (the
 * SHA-256 of index.json) and, per face, its features as raw little-endian
 * float32 and its aligned crop as stored (PNG, or JPEG from the compact storage). Importing it on another machine gives
 * the same results without re-indexing.
 *
 * The file may have been damaged on the way or edited, so reading it checks
 * everything before returning a single face: each entry's zip CRC, the
 * checksums (schema 2 and later), the features' shape against the active recognizer,
 * and every value (finite, and of a size a recognizer produces). The caller
 * writes nothing unless all of it passed, so a bad file imports nothing.
 */
import { strFromU8, strToU8, zipSync, type Zippable } from 'fflate';
import { AppError, toPlainError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';
import { GALLERY_FILE_FORMAT, GALLERY_FILE_SCHEMA, parseGalleryIndex, type GalleryIndex, type GalleryIndexEntry, type ReadableGalleryIndex, type ThumbnailType } from './galleryFileSchema.ts';
import type { StoredFace } from './storedFace.ts';
import { VISIBLE_DAMAGES, type VisibleDamage } from '../core/types.ts';
import { ZIP_LIMITS } from './zipEntries.ts';
import { formatBytes, readZipDirectory, readZipEntry, type ZipEntryRecord } from './zipReader.ts';

const INDEX_ENTRY = 'index.json';
const INDEX_CHECKSUM_ENTRY = 'index.sha256';
/** About 200,000 faces at ~500 bytes of metadata each: more than a browser gallery holds. */
const MAX_INDEX_BYTES = 100e6;
/** A hex SHA-256 and a line break, with room for a tool that adds a file name after it. */
const MAX_CHECKSUM_BYTES = 1024;
/** Faces carry 68 landmarks (x, y) or none. */
const LANDMARK_FLOATS = 68 * 2;
/**
 * Largest |value| accepted in embeddings, patch maps and landmarks. The
 * recognizers' outputs on real faces, masked, sunglasses and cropped ones
 * included, stay below 3 in embeddings and 8 in patch maps (measured on
 * paper-small, all three recognizers), and landmarks are pixel positions in a
 * crop of at most 4096 px. 1e4 leaves a wide margin for other recognizers,
 * while damage, which lands in a float's exponent bits as often as not,
 * shows as values like 9e5 or 1e30.
 */
const MAX_FEATURE_MAGNITUDE = 1e4;

const HINT_NOT_EXPORT = 'Choose a file made with “Export gallery”.';
const HINT_EXPORT_AGAIN = 'The file was damaged or edited after it was exported; nothing was imported. Export the gallery again on the machine it came from (or re-index the photos).';

/** What the active recognizer makes: a file's faces must be exactly this shape. */
export interface GalleryFileTarget {
  readonly modelKey: string;
  /** The recognizer's name, for messages. */
  readonly recognizer: string;
  readonly embeddingDim: number;
  readonly patchGrid: { readonly h: number; readonly w: number; readonly c: number };
}

function floatsToBytes(parts: readonly Float32Array[]): Uint8Array<ArrayBuffer> {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return new Uint8Array(out.buffer);
}

const faceEntryName = (i: number, ext: 'f32' | 'png' | 'jpg') => `faces/${String(i).padStart(6, '0')}.${ext}`;
const thumbnailExt = (type: ThumbnailType): 'png' | 'jpg' => (type === 'image/jpeg' ? 'jpg' : 'png');
/** The stored thumbnail's type as the export names it (anything not JPEG was written as PNG by every version). */
const thumbnailTypeOf = (blob: Blob): ThumbnailType => (blob.type === 'image/jpeg' ? 'image/jpeg' : 'image/png');

export async function writeGalleryFile(modelKey: string, faces: readonly StoredFace[]): Promise<Blob> {
  const files: Zippable = {};
  const index: GalleryIndexEntry[] = [];
  for (const [i, f] of faces.entries()) {
    const lm = f.landmarks68 ?? new Float32Array();
    const visible = VISIBLE_DAMAGES.flatMap((damage) => {
      const vec = f.visibleEmbeddings?.[damage];
      return vec ? [{ damage, vec }] : [];
    });
    const features = floatsToBytes([f.embedding, f.patches.data, lm, ...visible.map((x) => x.vec)]);
    const thumbnail = new Uint8Array(await f.thumbnail.arrayBuffer());
    const thumbnailType = thumbnailTypeOf(f.thumbnail);
    files[faceEntryName(i, 'f32')] = [features, { level: 0 }];
    files[faceEntryName(i, thumbnailExt(thumbnailType))] = [thumbnail, { level: 0 }];
    index.push({
      key: f.key,
      contentHash: f.contentHash,
      label: f.label,
      fileName: f.fileName,
      addedAt: f.addedAt,
      dim: f.embedding.length,
      h: f.patches.h,
      w: f.patches.w,
      c: f.patches.c,
      landmarks: lm.length,
      cropSize: f.cropSize,
      featuresSha256: await sha256Hex(features),
      thumbnailSha256: await sha256Hex(thumbnail),
      thumbnailType,
      visible: visible.map((x) => ({ damage: x.damage, dim: x.vec.length })),
    });
  }
  const head: GalleryIndex = { format: GALLERY_FILE_FORMAT, schema: GALLERY_FILE_SCHEMA, modelKey, exportedAt: new Date().toISOString(), faces: index };
  const indexBytes = strToU8(JSON.stringify(head));
  files[INDEX_ENTRY] = indexBytes;
  files[INDEX_CHECKSUM_ENTRY] = strToU8(`${await sha256Hex(indexBytes)}\n`);
  return new Blob([zipSync(files)], { type: 'application/zip' });
}

/** The visible-part embeddings laid out after `from`; a zero vector (nothing to compare) is damage. */
function visibleOf(
  floats: Float32Array,
  from: number,
  list: readonly { readonly damage: VisibleDamage; readonly dim: number }[],
  damaged: (why: string) => AppError,
): Partial<Record<VisibleDamage, Float32Array>> {
  const out: Partial<Record<VisibleDamage, Float32Array>> = {};
  let o = from;
  for (const { damage, dim } of list) {
    const vec = floats.slice(o, o + dim);
    if (vec.every((x) => x === 0)) throw damaged(`holds a zero ${damage} visible-part embedding`);
    out[damage] = vec;
    o += dim;
  }
  return out;
}

/** Index of the first value that is not finite or is larger than any recognizer output, or -1. */
function firstImplausible(values: Float32Array): number {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!(Math.abs(v) <= MAX_FEATURE_MAGNITUDE)) return i;
  }
  return -1;
}

/** Why this face's features cannot come from the active recognizer, or undefined. */
function shapeMismatch(e: ReadableGalleryIndex['faces'][number], target: GalleryFileTarget): string | undefined {
  const { h, w, c } = target.patchGrid;
  if (e.dim !== target.embeddingDim) return `a ${e.dim}-D embedding, but ${target.recognizer} makes ${target.embeddingDim}-D ones`;
  if (e.h !== h || e.w !== w || e.c !== c) return `a ${e.h}x${e.w}x${e.c} patch map, but ${target.recognizer} makes ${h}x${w}x${c} ones`;
  if (e.landmarks !== 0 && e.landmarks !== LANDMARK_FLOATS) return `${e.landmarks / 2} landmarks, but faces carry ${LANDMARK_FLOATS / 2} or none`;
  return undefined;
}

/**
 * Every face of an export file, checked as the module comment says. Throws
 * an AppError naming `fileName` and, where one is at fault, the entry and
 * the face; nothing is returned unless every face passed.
 */
export async function readGalleryFile(file: Blob, fileName: string, target: GalleryFileTarget): Promise<StoredFace[]> {
  const damaged = (why: string) => new AppError('corrupt-archive', why, HINT_EXPORT_AGAIN, { file: fileName });
  let records: ZipEntryRecord[];
  try {
    records = await readZipDirectory(file, fileName);
  } catch (e) {
    const p = toPlainError(e);
    throw new AppError(p.code, `not a gallery export: ${p.message}`, HINT_NOT_EXPORT, { file: fileName, cause: e });
  }
  const byName = new Map(records.map((r) => [r.name, r]));

  /** An entry's bytes; its declared size is judged before it is unpacked. */
  const readEntry = async (name: string, what: string, sizeOk: (size: number) => string | undefined): Promise<Uint8Array<ArrayBuffer>> => {
    const record = byName.get(name);
    if (!record) throw damaged(`entry ${name}${what} is missing`);
    const wrongSize = sizeOk(record.size);
    if (wrongSize) throw damaged(`entry ${name}${what} ${wrongSize}`);
    if (record.size > ZIP_LIMITS.ratioFloorBytes && record.size > record.compressedSize * ZIP_LIMITS.ratio) {
      throw new AppError(
        'archive-limit',
        `entry ${name}${what} would unpack ${formatBytes(record.compressedSize)} to ${formatBytes(record.size)}, over the ${ZIP_LIMITS.ratio}:1 limit (an export compresses its features barely at all)`,
        HINT_EXPORT_AGAIN,
        { file: fileName },
      );
    }
    return readZipEntry(file, record, { file: fileName, entry: `entry ${name}${what}`, hint: HINT_EXPORT_AGAIN });
  };
  const atMost = (limit: number) => (size: number) => (size > limit ? `declares ${formatBytes(size)}, more than the ${formatBytes(limit)} it can be` : undefined);

  if (!byName.has(INDEX_ENTRY)) throw new AppError('corrupt-archive', `not a gallery export: ${INDEX_ENTRY} is missing`, HINT_NOT_EXPORT, { file: fileName });
  const indexBytes = await readEntry(INDEX_ENTRY, '', atMost(MAX_INDEX_BYTES));
  // Checked before the index is parsed, so an edit is reported as an edit, not as whatever field it broke.
  if (byName.has(INDEX_CHECKSUM_ENTRY)) {
    const recorded = strFromU8(await readEntry(INDEX_CHECKSUM_ENTRY, '', atMost(MAX_CHECKSUM_BYTES)))
      .trim()
      .split(/\s/)[0];
    if (recorded !== (await sha256Hex(indexBytes))) throw damaged(`${INDEX_ENTRY} does not match the checksum written at export (${INDEX_CHECKSUM_ENTRY})`);
  }
  const index = parseGalleryIndex(strFromU8(indexBytes), fileName);
  if (index.schema >= 2 && !byName.has(INDEX_CHECKSUM_ENTRY)) throw damaged(`${INDEX_CHECKSUM_ENTRY} (the checksum of ${INDEX_ENTRY}) is missing`);
  if (index.modelKey !== target.modelKey) {
    throw new AppError(
      'invalid-argument',
      `the gallery file was made with recognizer ${index.modelKey}, but ${target.modelKey} is active`,
      'Switch to that recognizer (Advanced settings), or re-index the photos with this one.',
      { file: fileName },
    );
  }
  const count = index.faces.length;
  const faceName = (i: number, e: { fileName: string }) => ` (face ${i + 1} of ${count}, ${e.fileName})`;
  // Every face's shape first: a file from an edited or mismatched recognizer is refused before anything is unpacked.
  for (const [i, e] of index.faces.entries()) {
    const mismatch = shapeMismatch(e, target);
    if (mismatch) throw damaged(`${INDEX_ENTRY} describes face ${i + 1} of ${count} (${e.fileName}) with ${mismatch}`);
  }

  // Schema 1 files carry no checksums: their CRCs, shapes and values are still checked.
  const checksums = index.schema === 1 ? undefined : index.faces.map((e) => ({ features: e.featuresSha256, thumbnail: e.thumbnailSha256 }));
  // Schema 3 names each thumbnail's type; earlier exports hold PNGs.
  const thumbnailTypes: readonly ThumbnailType[] = index.schema >= 3 ? index.faces.map((e) => ('thumbnailType' in e ? e.thumbnailType : 'image/png')) : index.faces.map(() => 'image/png');
  const faces: StoredFace[] = [];
  for (const [i, e] of index.faces.entries()) {
    const what = faceName(i, e);
    const cells = e.h * e.w * e.c;
    // Schema 4: visible-part embeddings after the landmarks.
    const visible = index.schema === GALLERY_FILE_SCHEMA ? (e as GalleryIndexEntry).visible : [];
    const floatCount = e.dim + cells + e.landmarks + visible.reduce((n, x) => n + x.dim, 0);
    const featuresName = faceEntryName(i, 'f32');
    const thumbnailType = thumbnailTypes[i];
    const thumbnailName = faceEntryName(i, thumbnailExt(thumbnailType));
    const raw = await readEntry(featuresName, what, (size) =>
      size !== floatCount * 4 ? `holds ${size} bytes, but ${INDEX_ENTRY} describes ${floatCount} floats (${floatCount * 4} bytes)` : undefined,
    );
    // A PNG of the crop can always be stored in 4 bytes a pixel plus a filter byte a row; 1 MB more covers its chunks.
    const png = await readEntry(thumbnailName, what, atMost(e.cropSize * e.cropSize * 4 + e.cropSize + 1e6));
    const sums = checksums?.[i];
    if (sums) {
      if ((await sha256Hex(raw)) !== sums.features) throw damaged(`entry ${featuresName}${what} does not match its checksum in ${INDEX_ENTRY}`);
      if ((await sha256Hex(png)) !== sums.thumbnail) throw damaged(`entry ${thumbnailName}${what} does not match its checksum in ${INDEX_ENTRY}`);
    }
    const floats = new Float32Array(raw.buffer, raw.byteOffset, floatCount);
    const bad = firstImplausible(floats);
    if (bad >= 0) {
      const lmEnd = e.dim + cells + e.landmarks;
      const [part, at] =
        bad < e.dim ? ['embedding', bad] : bad < e.dim + cells ? ['patch map', bad - e.dim] : bad < lmEnd ? ['landmarks', bad - e.dim - cells] : ['visible-part embeddings', bad - lmEnd];
      throw damaged(`entry ${featuresName}${what} holds ${floats[bad]} at ${part} value ${at}, beyond anything a recognizer produces (|value| ≤ ${MAX_FEATURE_MAGNITUDE})`);
    }
    faces.push({
      key: e.key,
      modelKey: target.modelKey,
      contentHash: e.contentHash,
      label: e.label,
      fileName: e.fileName,
      addedAt: e.addedAt,
      embedding: floats.slice(0, e.dim),
      patches: { h: e.h, w: e.w, c: e.c, data: floats.slice(e.dim, e.dim + cells) },
      landmarks68: e.landmarks ? floats.slice(e.dim + cells, e.dim + cells + e.landmarks) : null,
      cropSize: e.cropSize,
      ...(visible.length ? { visibleEmbeddings: visibleOf(floats, e.dim + cells + e.landmarks, visible, (why) => damaged(`entry ${featuresName}${what} ${why}`)) } : {}),
      thumbnail: new Blob([png], { type: thumbnailType }),
    });
  }
  return faces;
}

/**
 * How one face's features become the bytes a FaceRecordStore keeps, in one of
 * two formats chosen per gallery:
 *
 * - `compact` (the app's): the stage-1 vector as int8 with a scale
 *   (src/engine/quant/int8Rows.ts) and the patch map through the patch codec
 *   (src/engine/quant/patchCodec.ts: 8 bits per value with a scale per patch,
 *   sparse patches as a bitmap; the default recognizer's map is ~90% zeros);
 * - `float32`: both exactly as the recognizer gave them (unit stage-1 vector),
 *   the reference `npm run eval -- --storage float32` compares against.
 *
 * A detail record: 1 byte format version, 2 bytes crop size, 1 byte landmark
 * count (0 or 68), the landmarks as float32 pairs, then (version 2) the
 * visible-part embeddings, then the patch map. The embeddings: 1 byte count,
 * then per embedding 1 byte damage kind (1 mask, 2 sunglasses), 2 bytes
 * dimension and the vector made unit length, stored like a stage-1 row of
 * the format. They come before the map so that stage 2 can read them
 * without decoding it. Version 1 records (before 2026-12-04) have none.
 * Version 3 (2026-12-05) adds, after them, the stage-1 vector at 16 bits a
 * value (src/engine/quant/int16Rows.ts): 2 bytes dimension (0: none), then
 * the row. Compact galleries write it, for stage 2 to re-score stage 1's top
 * k finely than the int8 rows in memory; float32 galleries' rows are exact
 * already and write 0.
 */
import { AppError } from '../core/errors.ts';
import { VISIBLE_DAMAGES, type PatchMap, type VisibleDamage, type VisibleEmbeddings } from '../core/types.ts';
import { decodePatchMap, decodePatchMapUnit, encodePatchMap } from '../engine/quant/patchCodec.ts';
import { faceDetailOf, type FaceDetail } from '../engine/faceDetails.ts';
import { landmarkPoints } from '../app/storedFace.ts';
import { decodeStage1Row, encodeStage1Row, stage1RowBytes as int8RowBytes } from '../engine/quant/int8Rows.ts';
import { decodeFineRow, encodeFineRow, fineRowBytes } from '../engine/quant/int16Rows.ts';
import { requireValidPatchMap } from '../engine/patchGrid.ts';
import { unitEmbedding } from '../engine/vectors.ts';
import { STORAGE_FORMATS, type StorageFormat } from './storageFormat.ts';

export interface DetailFields {
  readonly patches: PatchMap;
  /** 68 landmarks flattened x0,y0,x1,y1,... or null. */
  readonly landmarks68: Float32Array | null;
  readonly cropSize: number;
  readonly visibleEmbeddings?: VisibleEmbeddings;
  /** Writing: the face's stage-1 vector, kept at 16 bits (compact format). Reading: that row decoded (unit length), where the record has one. */
  readonly stage1Fine?: Float32Array;
}

const DETAIL_VERSION = 3;
const DETAIL_VERSIONS_READ = [1, 2, 3];
const HEADER_BYTES = 4;
const RAW_MAP_HEADER_BYTES = 6;

export function stage1RowBytes(format: StorageFormat, dim: number): number {
  return format === 'compact' ? int8RowBytes(dim) : dim * 4;
}

export function encodeStage1(format: StorageFormat, embedding: Float32Array): Uint8Array {
  if (format === 'compact') return encodeStage1Row(embedding);
  const unit = unitEmbedding(embedding, 'the stage-1 vector');
  return new Uint8Array(unit.buffer, unit.byteOffset, unit.byteLength).slice();
}

/** The unit stage-1 vector back (dequantised for `compact`). */
export function decodeStage1(format: StorageFormat, bytes: Uint8Array, dim: number): Float32Array {
  if (bytes.length !== stage1RowBytes(format, dim)) throw corrupt(`a stage-1 row of ${bytes.length} bytes (expected ${stage1RowBytes(format, dim)})`);
  if (format === 'compact') return decodeStage1Row(bytes, dim);
  return new Float32Array(bytes.slice().buffer);
}

export function encodeDetail(format: StorageFormat, f: DetailFields): Uint8Array {
  requireValidPatchMap(f.patches, 'the patch map to store');
  const lm = f.landmarks68;
  if (lm && lm.length !== 136) throw new AppError('invalid-argument', `a face has ${lm.length / 2} landmarks to store, not 68`, 'Extract the face again.');
  if (!Number.isInteger(f.cropSize) || f.cropSize < 1 || f.cropSize > 0xffff) throw new AppError('invalid-argument', `crop size ${f.cropSize} cannot be stored`, 'Extract the face again.');
  const map = format === 'compact' ? encodePatchMap(f.patches) : rawMapBytes(f.patches);
  const visible = encodeVisible(format, f.visibleEmbeddings);
  const fine = encodeFine(format, f.stage1Fine);
  const lmBytes = lm ? lm.byteLength : 0;
  const out = new Uint8Array(HEADER_BYTES + lmBytes + visible.length + fine.length + map.length);
  const view = new DataView(out.buffer);
  out[0] = DETAIL_VERSION;
  view.setUint16(1, f.cropSize, true);
  out[3] = lm ? 68 : 0;
  if (lm) for (let i = 0; i < lm.length; i++) view.setFloat32(HEADER_BYTES + 4 * i, lm[i], true);
  out.set(visible, HEADER_BYTES + lmBytes);
  out.set(fine, HEADER_BYTES + lmBytes + visible.length);
  out.set(map, HEADER_BYTES + lmBytes + visible.length + fine.length);
  return out;
}

function encodeFine(format: StorageFormat, vector: Float32Array | undefined): Uint8Array {
  if (format !== 'compact' || !vector) return new Uint8Array(2);
  if (vector.length > 0xffff) throw new AppError('invalid-argument', `a stage-1 vector of ${vector.length} dimensions cannot be stored`, 'Extract the face again.');
  const row = encodeFineRow(vector);
  const out = new Uint8Array(2 + row.length);
  new DataView(out.buffer).setUint16(0, vector.length, true);
  out.set(row, 2);
  return out;
}

function encodeVisible(format: StorageFormat, visible: VisibleEmbeddings | undefined): Uint8Array {
  const entries = VISIBLE_DAMAGES.flatMap((kind, i) => {
    const v = visible?.[kind];
    if (!v) return [];
    if (v.length > 0xffff) throw new AppError('invalid-argument', `a visible-part embedding of ${v.length} dimensions cannot be stored`, 'Extract the face again.');
    return [{ code: i + 1, dim: v.length, row: encodeStage1(format, v) }];
  });
  const out = new Uint8Array(1 + entries.reduce((n, e) => n + 3 + e.row.length, 0));
  const view = new DataView(out.buffer);
  out[0] = entries.length;
  let o = 1;
  for (const e of entries) {
    out[o] = e.code;
    view.setUint16(o + 1, e.dim, true);
    out.set(e.row, o + 3);
    o += 3 + e.row.length;
  }
  return out;
}

/** The unit visible-part embedding of one kind in a stored record (dequantised), or null where the record has none. */
export function readVisibleEmbedding(format: StorageFormat, bytes: Uint8Array, kind: VisibleDamage): Float32Array | null {
  return splitDetail(bytes, format, VISIBLE_ONLY).visibleEmbeddings[kind] ?? null;
}

/**
 * The record's stage-1 row at 16 bits a value (decoded, unit length), or null where it has none (float32 format, or
 * stored before version 3); decoded into `into` when it has the row's length.
 */
export function readFineStage1(format: StorageFormat, bytes: Uint8Array, into?: Float32Array): Float32Array | null {
  return splitDetail(bytes, format, FINE_ONLY, into).stage1Fine;
}

/**
 * What stage 2 reads of a candidate, straight from its record: for `compact`, the codes are decoded into unit
 * patches in one pass over the nonzeros (the same values as decodeDetail then faceDetailOf, bit for bit).
 * `reuse`: the arrays of a face the caller no longer needs, overwritten when the shapes match (compact format).
 * `extras` false: the map alone (no landmarks, no visible-part embeddings; the record is still checked whole).
 */
export function decodeFaceDetail(format: StorageFormat, bytes: Uint8Array, reuse?: FaceDetail, extras = true): FaceDetail {
  // The fine row goes into the spare face's array where it has one: stage 2 decodes 100 candidates a query.
  const { cropSize, landmarks68, mapBytes, visibleEmbeddings, stage1Fine } = splitDetail(bytes, format, extras ? ALL_EXTRAS : NO_EXTRAS, reuse?.stage1Fine);
  if (format === 'float32') return faceDetailOf({ patches: rawMapOfBytes(mapBytes), landmarks68: landmarkPoints(landmarks68), cropSize, visibleEmbeddings });
  const unit = decodePatchMapUnit(mapBytes, reuse);
  const fine = stage1Fine ? { stage1Fine } : {};
  return { unitPatches: unit.unitPatches, patchNorms: unit.patchNorms, unitAverage: unit.unitAverage, landmarks68: landmarkPoints(landmarks68), cropSize, visibleEmbeddings, ...fine };
}

/**
 * The record's patch map as the patch codec stores it (a view into `bytes`; the record's other parts are checked and
 * skipped), or null for the float32 format: stage 2 scores candidates from these bytes without decoding them
 * (CpuStage2Scorer.scoreEncodedMaps).
 */
export function patchCodecBytesOf(format: StorageFormat, bytes: Uint8Array): Uint8Array | null {
  const { mapBytes } = splitDetail(bytes, format, NO_EXTRAS);
  return format === 'compact' ? mapBytes : null;
}

export function decodeDetail(format: StorageFormat, bytes: Uint8Array): DetailFields {
  const { cropSize, landmarks68, mapBytes, visibleEmbeddings, stage1Fine } = splitDetail(bytes, format);
  const patches = format === 'compact' ? decodePatchMap(mapBytes) : rawMapOfBytes(mapBytes);
  return { patches, landmarks68, cropSize, visibleEmbeddings, ...(stage1Fine ? { stage1Fine } : {}) };
}

/** Which parts besides the map splitDetail decodes; the others are checked and skipped (null and none). */
interface Extras {
  readonly landmarks: boolean;
  readonly visible: boolean;
  readonly fine: boolean;
}
const ALL_EXTRAS: Extras = { landmarks: true, visible: true, fine: true };
const NO_EXTRAS: Extras = { landmarks: false, visible: false, fine: false };
// Stage 2 reads these two for each of its k candidates: decoding only the part asked for saves fresh arrays a candidate.
const VISIBLE_ONLY: Extras = { landmarks: false, visible: true, fine: false };
const FINE_ONLY: Extras = { landmarks: false, visible: false, fine: true };

function splitDetail(
  bytes: Uint8Array,
  format: StorageFormat,
  extras = ALL_EXTRAS,
  fineInto?: Float32Array,
): { cropSize: number; landmarks68: Float32Array | null; mapBytes: Uint8Array; visibleEmbeddings: VisibleEmbeddings; stage1Fine: Float32Array | null } {
  if (bytes.length < HEADER_BYTES || !DETAIL_VERSIONS_READ.includes(bytes[0])) throw corrupt(`a face record of ${bytes.length} bytes with version ${bytes[0] ?? 'none'}`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const cropSize = view.getUint16(1, true);
  const count = bytes[3];
  if (count !== 0 && count !== 68) throw corrupt(`a face record with ${count} landmarks`);
  const lmBytes = count * 8;
  if (bytes.length < HEADER_BYTES + lmBytes) throw corrupt('a face record cut short in its landmarks');
  const landmarks68 = count && extras.landmarks ? Float32Array.from({ length: count * 2 }, (_, i) => view.getFloat32(HEADER_BYTES + 4 * i, true)) : null;
  let o = HEADER_BYTES + lmBytes;
  const visibleEmbeddings: Partial<Record<VisibleDamage, Float32Array>> = {};
  if (bytes[0] >= 2) {
    if (o >= bytes.length) throw corrupt('a face record cut short before its visible-part embeddings');
    const n = bytes[o++];
    for (let i = 0; i < n; i++) {
      if (o + 3 > bytes.length) throw corrupt('a face record cut short in its visible-part embeddings');
      const kind = VISIBLE_DAMAGES[bytes[o] - 1];
      const dim = view.getUint16(o + 1, true);
      const rowBytes = stage1RowBytes(format, dim);
      if (!kind || dim === 0 || o + 3 + rowBytes > bytes.length) throw corrupt(`a face record with a visible-part embedding of kind ${bytes[o]} and ${dim} dimensions`);
      if (extras.visible) visibleEmbeddings[kind] = decodeStage1(format, bytes.subarray(o + 3, o + 3 + rowBytes), dim);
      o += 3 + rowBytes;
    }
  }
  let stage1Fine: Float32Array | null = null;
  if (bytes[0] >= 3) {
    if (o + 2 > bytes.length) throw corrupt('a face record cut short before its fine stage-1 row');
    const dim = view.getUint16(o, true);
    o += 2;
    if (dim > 0) {
      if (format !== 'compact' || o + fineRowBytes(dim) > bytes.length) throw corrupt(`a ${format} face record with a fine stage-1 row of ${dim} dimensions`);
      if (extras.fine) stage1Fine = decodeFineRow(bytes, dim, o, fineInto);
      o += fineRowBytes(dim);
    }
  }
  return { cropSize, landmarks68, mapBytes: bytes.subarray(o), visibleEmbeddings, stage1Fine };
}

function rawMapBytes(map: PatchMap): Uint8Array {
  const out = new Uint8Array(RAW_MAP_HEADER_BYTES + map.data.byteLength);
  const view = new DataView(out.buffer);
  view.setUint16(0, map.h, true);
  view.setUint16(2, map.w, true);
  view.setUint16(4, map.c, true);
  out.set(new Uint8Array(map.data.buffer, map.data.byteOffset, map.data.byteLength), RAW_MAP_HEADER_BYTES);
  return out;
}

function rawMapOfBytes(bytes: Uint8Array): PatchMap {
  if (bytes.length < RAW_MAP_HEADER_BYTES) throw corrupt('a float32 patch map without its header');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = view.getUint16(0, true);
  const w = view.getUint16(2, true);
  const c = view.getUint16(4, true);
  if (bytes.length !== RAW_MAP_HEADER_BYTES + h * w * c * 4) throw corrupt(`a ${h}x${w}x${c} float32 patch map of ${bytes.length} bytes`);
  const data = new Float32Array(bytes.slice(RAW_MAP_HEADER_BYTES).buffer);
  return { h, w, c, data };
}

function corrupt(what: string): AppError {
  return new AppError('storage-failed', `the stored gallery holds ${what}`, 'The gallery files are damaged: export what still loads, then clear the gallery and import again.');
}

/**
 * What stage 2's helper worker reads of a record sent to it, its format named in the message (an unknown name is
 * refused): the map as decodeFaceDetail decodes it, without the landmarks and visible-part embeddings, which the helper
 * never reads. Each of those would be fresh arrays per candidate (~20 us each on this VM, where fresh memory is slow to
 * fault in).
 */
export function decodeNamedFaceDetail(format: string, bytes: Uint8Array, reuse?: FaceDetail): FaceDetail {
  return decodeFaceDetail(knownFormat(format), bytes, reuse, false);
}

/** patchCodecBytesOf for a record sent to stage 2's helper worker, its format named in the message. */
export function namedPatchCodecBytes(format: string, bytes: Uint8Array): Uint8Array | null {
  return patchCodecBytesOf(knownFormat(format), bytes);
}

function knownFormat(format: string): StorageFormat {
  if (!(STORAGE_FORMATS as readonly string[]).includes(format))
    throw new AppError('invalid-argument', `stage 2 was sent faces stored as "${format}", which this build cannot read`, 'Reload the page so both workers run the same build.');
  return format as StorageFormat;
}

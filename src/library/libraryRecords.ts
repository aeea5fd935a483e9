/**
 * How a photo library's faces sit in the gallery storage (issue 17). Each
 * face is one ordinary stored face of the library's own model key, so it is
 * written atomically with everything it needs and searched by the same
 * engine. Two strings carry the library's own facts:
 * - the record's file name holds the photo's path, its content hash, the
 *   face's place in the photo's reading order and its box, so a face and
 *   where it came from are one record (no second file to keep in step);
 * - the record's label is the person: the name the user gave, or for a
 *   person not yet named `#` and a number; the empty label is a face
 *   clustering has not placed yet (an import cut short before it).
 * Names the user types cannot start with `#`, so the two never collide.
 */
import { AppError } from '../core/errors.ts';
import { sha256Hex } from '../core/hash.ts';

export interface LibraryFaceRef {
  /** The photo's path within the dropped folder. */
  readonly path: string;
  /** SHA-256 hex of the photo's bytes. */
  readonly photoHash: string;
  /** 0-based, in the photo's reading order (libraryFaces.ts). */
  readonly faceIndex: number;
  /** Detector box in photo pixels, rounded to whole pixels. */
  readonly box: readonly [x: number, y: number, width: number, height: number];
}

/** The library of recognizer `modelKey` is stored under its own key, beside the labelled gallery. */
export function libraryModelKey(modelKey: string): string {
  return `${modelKey}~library`;
}

// U+001F (unit separator): never in a file path a browser hands over.
const SEP = '\u001f';

export function encodeLibraryFaceName(ref: LibraryFaceRef): string {
  return [ref.path, ref.photoHash, String(ref.faceIndex), ref.box.map((v) => Math.round(v)).join(',')].join(SEP);
}

/** The face's photo and box, or null for a name that is not a library face's (e.g. written by another version). */
export function decodeLibraryFaceName(name: string): LibraryFaceRef | null {
  const parts = name.split(SEP);
  if (parts.length !== 4) return null;
  const [path, photoHash, index, boxText] = parts;
  const box = boxText.split(',').map(Number);
  const faceIndex = Number(index);
  if (!/^[0-9a-f]{64}$/.test(photoHash) || !Number.isInteger(faceIndex) || faceIndex < 0) return null;
  if (box.length !== 4 || !box.every(Number.isInteger) || box[2] <= 0 || box[3] <= 0) return null;
  return { path, photoHash, faceIndex, box: [box[0], box[1], box[2], box[3]] };
}

/** The record's content-hash slot for face `faceIndex` of a photo: one record per face, derived from the photo's hash. */
export function libraryFaceHash(photoHash: string, faceIndex: number): Promise<string> {
  return sha256Hex(new TextEncoder().encode(`${photoHash}:${faceIndex}`));
}

export const UNPLACED_LABEL = '';
const UNNAMED_PREFIX = '#';

export function unnamedPersonLabel(id: number): string {
  return `${UNNAMED_PREFIX}${id}`;
}

/** The number of an unnamed person's label, else null (a name, or a face not placed yet). */
export function unnamedPersonId(label: string): number | null {
  const digits = label.startsWith(UNNAMED_PREFIX) ? label.slice(UNNAMED_PREFIX.length) : '';
  return /^\d{1,15}$/.test(digits) ? Number(digits) : null;
}

export const MAX_PERSON_NAME_LENGTH = 100;

/** A name as typed, trimmed; refused when empty, too long or in the form kept for unnamed people. */
export function validPersonName(typed: string): string {
  const name = typed.trim().replace(/\s+/g, ' ');
  const hint = `Type a name of 1-${MAX_PERSON_NAME_LENGTH} characters that does not start with "${UNNAMED_PREFIX}".`;
  if (name.length === 0) throw new AppError('invalid-argument', 'the name is empty', hint);
  if (name.length > MAX_PERSON_NAME_LENGTH) throw new AppError('invalid-argument', `the name has ${name.length} characters`, hint);
  if (name.startsWith(UNNAMED_PREFIX)) throw new AppError('invalid-argument', `"${name}" starts with "${UNNAMED_PREFIX}", which marks people not yet named`, hint);
  return name;
}

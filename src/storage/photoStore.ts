/**
 * The photo library's photos (issue 17): a small preview of each photo (the
 * search results and the photo view draw every face's box on it), and the
 * photos that hold no face, so dropping the folder again does not decode
 * them again. One file per photo, named by its content hash, in a directory
 * of its own (the face record store's GalleryDirectory shape, so the unit
 * tests use the same in-memory files).
 *
 * File: "DFPH", u32 version, u32 photo width, u32 height (the frame the face
 * boxes are in), u32 face count, u32 preview length, u8 type length, the
 * preview's MIME type, the preview's bytes (none for a photo with no face).
 * No commit log: a file is content-addressed and checked whole on reading, so
 * one cut short by a crash reads as absent and is simply written again by the
 * next import; the photo's faces are written after it (face 0 last marks the
 * photo done, libraryService.ts), so a face never lacks its photo.
 */
import { AppError } from '../core/errors.ts';
import type { GalleryDirectory } from './randomAccessFile.ts';

const MAGIC = [0x44, 0x46, 0x50, 0x48]; // "DFPH"
const VERSION = 1;
const FIXED_HEADER = 4 + 5 * 4 + 1;
const HASH_NAME = /^[0-9a-f]{64}$/;

export interface StoredPhoto {
  /** The decoded photo's size, the frame of its faces' boxes. */
  readonly width: number;
  readonly height: number;
  readonly faces: number;
  /** Downscaled JPEG of the photo; null for a photo with no face (nothing to show). */
  readonly preview: Blob | null;
}

export interface PhotoToStore {
  readonly width: number;
  readonly height: number;
  readonly faces: number;
  readonly preview: Blob | null;
}

export function encodeStoredPhoto(photo: PhotoToStore, previewBytes: Uint8Array): Uint8Array {
  const type = new TextEncoder().encode(photo.preview?.type ?? '');
  if (type.length > 255) throw new AppError('invalid-argument', 'the preview type is too long', 'This is a bug; report it.');
  const out = new Uint8Array(FIXED_HEADER + type.length + previewBytes.length);
  const view = new DataView(out.buffer);
  out.set(MAGIC, 0);
  [VERSION, photo.width, photo.height, photo.faces, previewBytes.length].forEach((x, i) => view.setUint32(4 + 4 * i, x, true));
  out[FIXED_HEADER - 1] = type.length;
  out.set(type, FIXED_HEADER);
  out.set(previewBytes, FIXED_HEADER + type.length);
  return out;
}

/** The photo in `bytes`, or undefined when they are not one whole stored photo (cut short by a crash, damaged, another format). */
export function decodeStoredPhoto(bytes: Uint8Array): StoredPhoto | undefined {
  if (bytes.length < FIXED_HEADER || MAGIC.some((m, i) => bytes[i] !== m)) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const [version, width, height, faces, previewLength] = [0, 1, 2, 3, 4].map((i) => view.getUint32(4 + 4 * i, true));
  const typeLength = bytes[FIXED_HEADER - 1];
  if (version !== VERSION || bytes.length !== FIXED_HEADER + typeLength + previewLength) return undefined;
  if ((faces === 0) !== (previewLength === 0)) return undefined;
  const type = new TextDecoder().decode(bytes.subarray(FIXED_HEADER, FIXED_HEADER + typeLength));
  const preview = previewLength === 0 ? null : new Blob([bytes.slice(FIXED_HEADER + typeLength)], { type });
  return { width, height, faces, preview };
}

export class PhotoStore {
  private constructor(
    private readonly directory: GalleryDirectory,
    private readonly names: Set<string>,
  ) {}

  /** Lists the directory once; `has` then answers from memory (an import asks it for every photo). */
  static async open(directory: GalleryDirectory): Promise<PhotoStore> {
    return new PhotoStore(directory, new Set((await directory.names()).filter((n) => HASH_NAME.test(n))));
  }

  /** Whether a file exists for the photo (it may still be one cut short: `get` says). */
  has(photoHash: string): boolean {
    return this.names.has(photoHash);
  }

  async put(photoHash: string, photo: PhotoToStore): Promise<void> {
    if (!HASH_NAME.test(photoHash)) throw new AppError('invalid-argument', `not a photo hash: ${photoHash}`, 'This is a bug; report it.');
    const bytes = encodeStoredPhoto(photo, photo.preview ? new Uint8Array(await photo.preview.arrayBuffer()) : new Uint8Array(0));
    const file = await this.directory.open(photoHash);
    try {
      file.truncate(0);
      file.write(bytes, 0);
      file.flush();
    } finally {
      file.close();
    }
    this.names.add(photoHash);
  }

  async get(photoHash: string): Promise<StoredPhoto | undefined> {
    if (!this.names.has(photoHash)) return undefined;
    const file = await this.directory.open(photoHash);
    try {
      const bytes = new Uint8Array(file.size());
      const read = file.read(bytes, 0);
      return decodeStoredPhoto(bytes.subarray(0, read));
    } finally {
      file.close();
    }
  }
}

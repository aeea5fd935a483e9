/**
 * `shape.json` of a gallery directory: the recognizer's shapes (patch map and
 * stage-1 size), written once before the first face and read at start-up, so
 * an empty gallery needs no recognizer to load and a stored one knows its row
 * size before reading any record. Written whole and flushed before any face.
 */
import * as v from 'valibot';
import { AppError } from '../core/errors.ts';
import type { GalleryShape } from '../engine/galleryStore.ts';
import type { GalleryDirectory } from './randomAccessFile.ts';

const SHAPE_FILE = 'shape.json';
const positive = v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(65535));
const ShapeSchema = v.object({ h: positive, w: positive, c: positive, dim: positive });

export async function readGalleryShape(dir: GalleryDirectory): Promise<GalleryShape | null> {
  if (!(await dir.names()).includes(SHAPE_FILE)) return null;
  const file = await dir.open(SHAPE_FILE);
  try {
    const bytes = new Uint8Array(file.size());
    file.read(bytes, 0);
    if (bytes.length === 0) return null;
    const parsed = v.safeParse(ShapeSchema, safeJson(new TextDecoder().decode(bytes)));
    if (!parsed.success) {
      throw new AppError('storage-failed', `the stored gallery's ${SHAPE_FILE} is damaged (${parsed.issues[0].message})`, 'Clear the gallery and import it again (export first if it still loads).');
    }
    return parsed.output;
  } finally {
    file.close();
  }
}

export async function writeGalleryShape(dir: GalleryDirectory, shape: GalleryShape): Promise<void> {
  const file = await dir.open(SHAPE_FILE);
  try {
    const bytes = new TextEncoder().encode(JSON.stringify({ h: shape.h, w: shape.w, c: shape.c, dim: shape.dim }));
    file.truncate(0);
    file.write(bytes, 0);
    file.flush();
  } finally {
    file.close();
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // A torn write: valibot then names the missing fields.
    return null;
  }
}

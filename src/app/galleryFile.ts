/**
 * The gallery as one portable file (a zip): index.json (schema, model key,
 * each face's metadata) plus, per face, its features as raw little-endian
 * float32 and its aligned crop as PNG. Importing it on another machine gives
 * the same results without re-indexing.
 */
import { strFromU8, strToU8, unzipSync, zipSync, type Zippable } from 'fflate';
import { AppError } from '../core/errors.ts';
import { GALLERY_FILE_FORMAT, GALLERY_FILE_SCHEMA, parseGalleryIndex, type GalleryIndex, type GalleryIndexEntry } from './galleryFileSchema.ts';
import type { StoredFace } from './storedFace.ts';

function floatsToBytes(parts: readonly Float32Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const out = new Float32Array(total);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return new Uint8Array(out.buffer);
}

export async function writeGalleryFile(modelKey: string, faces: readonly StoredFace[]): Promise<Blob> {
  const files: Zippable = {};
  const index: GalleryIndexEntry[] = [];
  for (const [i, f] of faces.entries()) {
    const name = String(i).padStart(6, '0');
    const lm = f.landmarks68 ?? new Float32Array();
    files[`faces/${name}.f32`] = [floatsToBytes([f.embedding, f.patches.data, lm]), { level: 0 }];
    files[`faces/${name}.png`] = [new Uint8Array(await f.thumbnail.arrayBuffer()), { level: 0 }];
    index.push({ key: f.key, contentHash: f.contentHash, label: f.label, fileName: f.fileName, addedAt: f.addedAt, dim: f.embedding.length, h: f.patches.h, w: f.patches.w, c: f.patches.c, landmarks: lm.length, cropSize: f.cropSize });
  }
  const head: GalleryIndex = { format: GALLERY_FILE_FORMAT, schema: GALLERY_FILE_SCHEMA, modelKey, exportedAt: new Date().toISOString(), faces: index };
  files['index.json'] = strToU8(JSON.stringify(head));
  return new Blob([zipSync(files) as Uint8Array<ArrayBuffer>], { type: 'application/zip' });
}

export async function readGalleryFile(file: Blob, fileName: string, modelKey: string): Promise<StoredFace[]> {
  const bad = (why: string) => new AppError('corrupt-image', `not a gallery export: ${why}`, 'Choose a file made with “Export gallery”.', { file: fileName });
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(new Uint8Array(await file.arrayBuffer()));
  } catch (e) {
    throw bad(`unreadable zip (${e instanceof Error ? e.message : String(e)})`);
  }
  if (!files['index.json']) throw bad('index.json is missing');
  const index = parseGalleryIndex(strFromU8(files['index.json']), fileName);
  if (index.modelKey !== modelKey) {
    throw new AppError('invalid-argument', `the gallery file was made with recognizer ${index.modelKey}, but ${modelKey} is active`, 'Switch to that recognizer (Advanced settings), or re-index the photos with this one.', { file: fileName });
  }
  return index.faces.map((e, i) => {
    const name = String(i).padStart(6, '0');
    const raw = files[`faces/${name}.f32`];
    const png = files[`faces/${name}.png`];
    const need = e.dim + e.h * e.w * e.c + e.landmarks;
    if (!raw || !png || raw.byteLength !== need * 4) throw bad(`face ${i} (${e.fileName}) is incomplete`);
    const floats = new Float32Array(raw.slice().buffer);
    return {
      key: e.key,
      modelKey,
      contentHash: e.contentHash,
      label: e.label,
      fileName: e.fileName,
      addedAt: e.addedAt,
      embedding: floats.slice(0, e.dim),
      patches: { h: e.h, w: e.w, c: e.c, data: floats.slice(e.dim, e.dim + e.h * e.w * e.c) },
      landmarks68: e.landmarks ? floats.slice(e.dim + e.h * e.w * e.c) : null,
      cropSize: e.cropSize,
      thumbnail: new Blob([png as Uint8Array<ArrayBuffer>], { type: 'image/png' }),
    };
  });
}

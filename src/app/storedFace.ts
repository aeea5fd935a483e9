/**
 * One indexed face as the gallery storage keeps it, and the conversions to
 * and from the engine's features. Shared by the app services (src/app) and
 * every storage adapter (IndexedDB, the export file).
 */
import type { FaceFeatures, Point, VisibleEmbeddings } from '../core/types.ts';
import type { ExtractedFace } from './extractTypes.ts';

export interface StoredFace {
  readonly key: string;
  readonly modelKey: string;
  readonly contentHash: string;
  readonly label: string;
  readonly fileName: string;
  readonly addedAt: number;
  readonly embedding: Float32Array;
  readonly patches: { readonly h: number; readonly w: number; readonly c: number; readonly data: Float32Array };
  /** 68 landmarks in the aligned crop, flattened x0,y0,x1,y1,... */
  readonly landmarks68: Float32Array | null;
  readonly cropSize: number;
  /** Faces indexed since 2026-12-04 by a recognizer that gives them (issue 13's sunglasses stage 2). */
  readonly visibleEmbeddings?: VisibleEmbeddings;
  /** The aligned face as an encoded image (shown as a thumbnail and used by the flow view). */
  readonly thumbnail: Blob;
}

/** Records are keyed by model id@version + content hash: a gallery per recognizer, each file indexed once. */
export function faceKey(modelKey: string, contentHash: string): string {
  return faceKeyPrefix(modelKey) + contentHash;
}

/** What every key of one model's faces starts with. */
export function faceKeyPrefix(modelKey: string): string {
  return `${modelKey}|`;
}

/** The engine's view of a stored face (landmarks unflattened). */
export function storedToFeatures(f: StoredFace): FaceFeatures {
  return { embedding: f.embedding, patches: f.patches, landmarks68: landmarkPoints(f.landmarks68), cropSize: f.cropSize, ...(f.visibleEmbeddings ? { visibleEmbeddings: f.visibleEmbeddings } : {}) };
}

/** Flattened x0,y0,x1,y1,... landmarks as points. */
export function landmarkPoints(lm: Float32Array | null): readonly Point[] | undefined {
  return lm ? Array.from({ length: lm.length / 2 }, (_, i) => [lm[2 * i], lm[2 * i + 1]] as const) : undefined;
}

export function featuresToStored(key: string, modelKey: string, contentHash: string, label: string, fileName: string, face: ExtractedFace, addedAt: number): StoredFace {
  const f = face.features;
  return {
    key,
    modelKey,
    contentHash,
    label,
    fileName,
    addedAt,
    embedding: f.embedding,
    patches: f.patches,
    landmarks68: f.landmarks68 ? Float32Array.from(f.landmarks68.flat()) : null,
    cropSize: f.cropSize,
    ...(f.visibleEmbeddings ? { visibleEmbeddings: f.visibleEmbeddings } : {}),
    thumbnail: face.aligned,
  };
}

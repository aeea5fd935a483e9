/** What an extraction worker returns for one image: small metadata plus features that travel as transferables. */
import type { PlainError, PlainNotice } from '../core/errors.ts';
import type { FaceFeatures, OodTransform } from '../core/types.ts';

export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly score: number;
}

/**
 * How the aligned crop comes back: PNG (lossless: queries, and the float32 storage evaluation uses as its reference) or
 * JPEG at THUMBNAIL_JPEG_QUALITY, what the compact storage keeps. Encoding it once in the storage's own type spares the
 * extraction worker a PNG (~11 ms a face in Chromium on the 2-core VM) and the engine worker decoding and re-encoding it.
 */
export type AlignedImageType = 'image/png' | 'image/jpeg';

/** The compact storage's thumbnails: JPEG at this quality is ~8 kB for a 224 px face against ~70 kB of PNG. */
export const THUMBNAIL_JPEG_QUALITY = 0.9;

export interface ExtractOptions {
  /** A gallery image is indexed under the face it is labelled with, or refused when that is ambiguous; a query keeps every face and lets the user pick. */
  readonly purpose: 'gallery' | 'query';
  readonly faceIndex?: number;
  readonly ood: OodTransform;
  readonly seed: number;
  /** Default PNG. */
  readonly alignedAs?: AlignedImageType;
}

export interface ExtractedFace {
  readonly faces: readonly FaceBox[];
  readonly chosenIndex: number;
  readonly features: FaceFeatures;
  /** The aligned crop (after the query transform, if any), encoded as an image. */
  readonly aligned: Blob;
  /** Per-step timings in ms (decode, detect, landmarks, align, embed). */
  readonly timings: Readonly<Record<string, number>>;
  /** The image was used, but the user should check how (e.g. the central one of several faces was indexed): listed with the file. */
  readonly notice?: PlainNotice;
}

export type ExtractOutcome = { readonly ok: true; readonly face: ExtractedFace } | { readonly ok: false; readonly error: PlainError };

/** One face of a library photo (every face is kept; none is chosen). */
export interface LibraryPhotoFace {
  /** Detector box in photo pixels. */
  readonly box: FaceBox;
  readonly features: FaceFeatures;
  /** The aligned crop, encoded as an image. */
  readonly aligned: Blob;
}

/** A library photo: its faces in reading order (none is a valid answer), or why it could not be read. */
export type LibraryExtractOutcome =
  | {
      readonly ok: true;
      readonly width: number;
      readonly height: number;
      readonly faces: readonly LibraryPhotoFace[];
      /** The photo downscaled (workers/canvasImages.ts encodePhotoPreview), in the frame of width x height scaled by one factor; null when it has no face. */
      readonly preview: Blob | null;
      readonly timings: Readonly<Record<string, number>>;
      /** The photo was read, but the user should know something (e.g. a model moved from WebGPU to WASM): listed with the file. */
      readonly notice?: PlainNotice;
    }
  | { readonly ok: false; readonly error: PlainError };

/**
 * A query's outcome answered by a fresh worker after the first one crashed, hung or lost its GPU device
 * (src/app/workerPool.ts): the query says so, unless it already carries a notice of its own.
 */
export function withRetryNotice(outcome: ExtractOutcome, retriedBecause: string | undefined): ExtractOutcome {
  if (retriedBecause === undefined || !outcome.ok || outcome.face.notice) return outcome;
  const notice: PlainNotice = {
    code: 'worker-crashed',
    message: `${retriedBecause}; the photo was done again on a fresh worker`,
    hint: 'Nothing is lost. If the GPU keeps failing, choose the WASM backend.',
  };
  return { ...outcome, face: { ...outcome.face, notice } };
}

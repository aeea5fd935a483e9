/** What an extraction worker returns for one image: small metadata plus features that travel as transferables. */
import type { PlainError } from '../core/errors.ts';
import type { FaceFeatures, OodTransform } from '../core/types.ts';

export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly score: number;
}

export interface ExtractOptions {
  /** Gallery images with several faces are refused; a query keeps them all and lets the user pick. */
  readonly purpose: 'gallery' | 'query';
  readonly faceIndex?: number;
  readonly ood: OodTransform;
  readonly seed: number;
}

export interface ExtractedFace {
  readonly faces: readonly FaceBox[];
  readonly chosenIndex: number;
  readonly features: FaceFeatures;
  /** The aligned crop (after the query transform, if any), encoded as an image. */
  readonly aligned: Blob;
  /** Per-step timings in ms (decode, detect, landmarks, align, embed). */
  readonly timings: Readonly<Record<string, number>>;
}

export type ExtractOutcome = { readonly ok: true; readonly face: ExtractedFace } | { readonly ok: false; readonly error: PlainError };

/** Synthetic face features for engine tests: identities are a base map plus noise, so rankings mean something. */
import type { FaceFeatures, Point } from '../../../src/core/types.ts';
import { gaussian } from './references.ts';

export interface SyntheticShape {
  readonly h: number;
  readonly w: number;
  readonly c: number;
  readonly dim: number;
}

export function syntheticIdentity(rand: () => number, s: SyntheticShape) {
  return {
    patches: Float32Array.from({ length: s.h * s.w * s.c }, () => Math.max(0, gaussian(rand))),
    embedding: Float32Array.from({ length: s.dim }, () => gaussian(rand)),
  };
}

export function syntheticFace(rand: () => number, s: SyntheticShape, base: ReturnType<typeof syntheticIdentity>, noise = 0.6, withLandmarks = true): FaceFeatures {
  const landmarks: Point[] = Array.from({ length: 68 }, () => [20 + 72 * rand(), 20 + 72 * rand()] as const);
  return {
    embedding: base.embedding.map((x) => x + noise * gaussian(rand)),
    patches: { h: s.h, w: s.w, c: s.c, data: base.patches.map((x) => Math.max(0, x + noise * gaussian(rand))) },
    cropSize: 112,
    ...(withLandmarks ? { landmarks68: landmarks } : {}),
  };
}

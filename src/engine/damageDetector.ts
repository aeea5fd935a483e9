/**
 * What kind of damage a query face shows (issue 13): none, crop, mask or
 * sunglasses, read from its FaceRes patch map. The default pipeline's
 * alpha follows the answer: a clean query keeps its stage-1 order, a
 * damaged one is re-ranked with the weight its kind was cross-validated
 * for (bench/study/damagePolicy.ts, docs/RESULTS.md).
 *
 * Features, per patch position p of the 7x7 map: the cosine of the unit
 * patch with each class's unit mean patch at p (a lens where an eye
 * should be is closer to the sunglasses mean than to the clean one), and
 * the log of the raw patch's norm. A multinomial logistic regression on
 * the standardised features gives the class. Why so plain: on lfw-dev's
 * held-out identities it already labels 99.5% of clean and 99.8% of
 * damaged faces right, and it is 800 kB of means and 1k weights.
 *
 * File format (little-endian): "DFDD", u32 version 1, u32 header bytes,
 * the UTF-8 JSON header (classes, positions, channels, featureMean,
 * featureScale, weights, source), zero padding to a multiple of 4, then
 * classes x positions x channels float32 class means. The study writes it
 * (bench/study/damageDetectorFile.ts); the app only reads it.
 */
import { AppError } from '../core/errors.ts';
import type { PatchMap } from '../core/types.ts';

export const DAMAGE_CLASSES = ['none', 'crop', 'mask', 'sunglasses'] as const;
export type DamageClass = (typeof DAMAGE_CLASSES)[number];

export interface DamageDetectorModel {
  readonly positions: number;
  readonly channels: number;
  /** classes x positions x channels unit mean patches. */
  readonly classMeans: Float32Array;
  /** Per feature: subtracted, then divided by featureScale. */
  readonly featureMean: Float64Array;
  readonly featureScale: Float64Array;
  /** classes x (features + 1), the last column the bias. */
  readonly weights: Float64Array;
  /** How the model was made (command, data). */
  readonly source: string;
}

export interface DamageVerdict {
  readonly kind: DamageClass;
  readonly probabilities: Readonly<Record<DamageClass, number>>;
}

const MAGIC = 'DFDD';
const K = DAMAGE_CLASSES.length;

export function featureCount(positions: number): number {
  return (K + 1) * positions;
}

const modelError = (name: string, why: string) =>
  new AppError('model-load-failed', `damage detector ${name}: ${why}`, 'Run `node scripts/setup.mjs` again or reinstall the app; until then the default uses the stage-1 score rule for alpha.');

/** Per position: cosine with each class mean, then log norm (see the file comment). */
export function damageFeatures(model: DamageDetectorModel, map: PatchMap): Float64Array {
  const { positions: n, channels: c } = model;
  if (map.h * map.w !== n || map.c !== c)
    throw new AppError('invalid-argument', `the damage detector reads ${n} patches of ${c} channels, got ${map.h}x${map.w}x${map.c}`, 'Use it with the recognizer it was fitted for (FaceRes).');
  const f = new Float64Array(featureCount(n));
  for (let p = 0; p < n; p++) {
    let sq = 0;
    for (let j = 0; j < c; j++) sq += map.data[p * c + j] ** 2;
    const norm = Math.sqrt(sq);
    const inv = norm > 0 ? 1 / norm : 0;
    for (let k = 0; k < K; k++) {
      let d = 0;
      const o = (k * n + p) * c;
      for (let j = 0; j < c; j++) d += map.data[p * c + j] * model.classMeans[o + j];
      f[k * n + p] = d * inv;
    }
    f[K * n + p] = Math.log(norm + 1e-3);
  }
  return f;
}

/** Softmax of the linear scores of standardised features. */
export function classifyFeatures(model: DamageDetectorModel, features: Float64Array): DamageVerdict {
  const D = features.length;
  const z = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let t = model.weights[k * (D + 1) + D];
    for (let j = 0; j < D; j++) t += model.weights[k * (D + 1) + j] * ((features[j] - model.featureMean[j]) / model.featureScale[j]);
    z[k] = t;
  }
  const top = Math.max(...z);
  let sum = 0;
  for (let k = 0; k < K; k++) sum += z[k] = Math.exp(z[k] - top);
  let best = 0;
  for (let k = 1; k < K; k++) if (z[k] > z[best]) best = k;
  const probabilities = Object.fromEntries(DAMAGE_CLASSES.map((name, k) => [name, z[k] / sum])) as Record<DamageClass, number>;
  return { kind: DAMAGE_CLASSES[best], probabilities };
}

export function detectDamage(model: DamageDetectorModel, map: PatchMap): DamageVerdict {
  return classifyFeatures(model, damageFeatures(model, map));
}

/** Reads and checks a detector file; `name` is for messages. */
export function parseDamageDetector(bytes: ArrayBuffer | Uint8Array, name: string): DamageDetectorModel {
  const buf = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  if (buf.length < 12 || new TextDecoder().decode(buf.subarray(0, 4)) !== MAGIC) throw modelError(name, 'not a damage-detector file (bad magic)');
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  if (view.getUint32(4, true) !== 1) throw modelError(name, `unknown version ${view.getUint32(4, true)}`);
  const headerBytes = view.getUint32(8, true);
  if (12 + headerBytes > buf.length) throw modelError(name, 'truncated header');
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(new TextDecoder().decode(buf.subarray(12, 12 + headerBytes))) as Record<string, unknown>;
  } catch (e) {
    throw modelError(name, `header is not JSON (${(e as Error).message})`);
  }
  const positions = h.positions;
  const channels = h.channels;
  if (!Number.isInteger(positions) || !Number.isInteger(channels) || (positions as number) <= 0 || (channels as number) <= 0)
    throw modelError(name, 'positions and channels must be positive integers');
  if (JSON.stringify(h.classes) !== JSON.stringify(DAMAGE_CLASSES)) throw modelError(name, `classes ${JSON.stringify(h.classes)} are not ${DAMAGE_CLASSES.join(', ')}`);
  const D = featureCount(positions as number);
  const numbers = (key: string, length: number): Float64Array => {
    const v = h[key];
    if (!Array.isArray(v) || v.length !== length || !v.every((x) => typeof x === 'number' && Number.isFinite(x))) throw modelError(name, `${key} must be ${length} finite numbers`);
    return Float64Array.from(v as number[]);
  };
  const featureMean = numbers('featureMean', D);
  const featureScale = numbers('featureScale', D);
  if (featureScale.some((x) => x <= 0)) throw modelError(name, 'featureScale must be positive');
  const weights = numbers('weights', K * (D + 1));
  const start = 12 + Math.ceil(headerBytes / 4) * 4;
  const count = K * (positions as number) * (channels as number);
  if (buf.length !== start + 4 * count) throw modelError(name, `expected ${start + 4 * count} bytes, got ${buf.length} (truncated or not this model's file)`);
  const means = new DataView(buf.buffer, buf.byteOffset + start, 4 * count);
  const classMeans = Float32Array.from({ length: count }, (_, i) => means.getFloat32(4 * i, true));
  if (!classMeans.every(Number.isFinite)) throw modelError(name, 'class means hold non-finite values');
  return { positions: positions as number, channels: channels as number, classMeans, featureMean, featureScale, weights, source: typeof h.source === 'string' ? h.source : '' };
}

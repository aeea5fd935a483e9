/**
 * Five-point alignment templates for the converted recognizers, derived from
 * the ArcFace 112x112 template (scripts/models/faceplugin.ts) by one uniform
 * scale and a shift: the five points keep ArcFace's geometry, only the
 * framing (how much of the head the crop shows) changes per model.
 */
import { ARCFACE_112_TEMPLATE } from '../faceplugin.ts';

export type Template = readonly (readonly [number, number])[];

/**
 * The ArcFace template as it lies in a `cropSize` crop where ArcFace's
 * 112x112 square spans `arcFaceSide` pixels, centred horizontally, with its
 * centre `offsetY` pixels below the crop's centre (negative = above).
 */
export function arcFaceTemplateIn(cropSize: number, arcFaceSide: number, offsetY = 0): Template {
  const k = arcFaceSide / 112;
  const x0 = (cropSize - arcFaceSide) / 2;
  const y0 = (cropSize - arcFaceSide) / 2 + offsetY;
  return ARCFACE_112_TEMPLATE.map(([x, y]) => [round4(x0 + x * k), round4(y0 + y * k)] as const);
}

function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** Writes the damage detector's file (format: src/engine/damageDetector.ts); only the study makes models. */
import { DAMAGE_CLASSES, type DamageDetectorModel } from '../../src/engine/damageDetector.ts';

export function serialiseDamageDetector(model: DamageDetectorModel): Uint8Array {
  const header = new TextEncoder().encode(
    JSON.stringify({
      classes: DAMAGE_CLASSES,
      positions: model.positions,
      channels: model.channels,
      featureMean: Array.from(model.featureMean),
      featureScale: Array.from(model.featureScale),
      weights: Array.from(model.weights),
      source: model.source,
    }),
  );
  const padded = Math.ceil(header.length / 4) * 4;
  const out = new Uint8Array(12 + padded + model.classMeans.byteLength);
  const view = new DataView(out.buffer);
  out.set(new TextEncoder().encode('DFDD'), 0);
  view.setUint32(4, 1, true);
  view.setUint32(8, header.length, true);
  out.set(header, 12);
  const means = new DataView(out.buffer, 12 + padded);
  model.classMeans.forEach((x, i) => means.setFloat32(4 * i, x, true));
  return out;
}

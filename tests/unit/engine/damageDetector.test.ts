/**
 * The damage detector (src/engine/damageDetector.ts): its file format, its
 * features and softmax against independent float64 recomputations, and the
 * shipped model's readings of real faces: lfw-mini faces with the app's own
 * generators drawn on them, and the paper authors' own masked, sunglasses
 * and cropped faces (paper-small), which the model never saw.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import type { PatchMap } from '../../../src/core/types.ts';
import { serialiseDamageDetector } from '../../../bench/study/damageDetectorFile.ts';
import { classifyFeatures, DAMAGE_CLASSES, damageFeatures, detectDamage, featureCount, parseDamageDetector, type DamageDetectorModel } from '../../../src/engine/damageDetector.ts';
import { applyOod } from '../../../src/face/ood.ts';
import { decodeImageNode } from '../face/helpers/decodeNode.ts';
import { createPipeline } from '../face/helpers/models.ts';
import { listIdentityImages, REPO_ROOT } from '../face/helpers/data.ts';

const SHIPPED = join(REPO_ROOT, 'src/models/damage/faceres-damage.bin');

function randomModel(positions: number, channels: number, seed = 1): DamageDetectorModel {
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 2 - 1;
  const D = featureCount(positions);
  return {
    positions,
    channels,
    classMeans: Float32Array.from({ length: 4 * positions * channels }, rnd),
    featureMean: Float64Array.from({ length: D }, () => rnd() * 0.1),
    featureScale: Float64Array.from({ length: D }, () => 0.5 + Math.abs(rnd())),
    weights: Float64Array.from({ length: 4 * (D + 1) }, rnd),
    source: 'test',
  };
}

describe('damage detector file', () => {
  it('round-trips through serialise and parse', () => {
    const m = randomModel(3, 5);
    const back = parseDamageDetector(serialiseDamageDetector(m), 'round-trip');
    expect(back.positions).toBe(3);
    expect(back.channels).toBe(5);
    expect(Array.from(back.classMeans)).toEqual(Array.from(m.classMeans));
    expect(Array.from(back.weights)).toEqual(Array.from(m.weights));
    expect(back.source).toBe('test');
  });

  it('refuses a truncated file, another file, and a header that lies, naming the file', () => {
    const bytes = serialiseDamageDetector(randomModel(3, 5));
    const refuse = (b: Uint8Array, why: RegExp) => {
      let err: unknown;
      try {
        parseDamageDetector(b, 'x.bin');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(AppError);
      expect((err as AppError).code).toBe('model-load-failed');
      expect((err as AppError).message).toMatch(/x\.bin/);
      expect((err as AppError).message).toMatch(why);
      expect((err as AppError).hint.length).toBeGreaterThan(0);
    };
    refuse(bytes.subarray(0, bytes.length - 4), /expected \d+ bytes/);
    refuse(bytes.subarray(0, 20), /truncated header/);
    refuse(new TextEncoder().encode('<html>not found</html>'), /bad magic/);
    const json = new TextDecoder().decode(bytes.subarray(12, 12 + new DataView(bytes.buffer).getUint32(8, true)));
    const lying = JSON.parse(json) as { classes: string[] };
    lying.classes = ['none', 'mask', 'crop', 'sunglasses'];
    const header = new TextEncoder().encode(JSON.stringify(lying));
    const forged = new Uint8Array(12 + header.length);
    forged.set(bytes.subarray(0, 12));
    new DataView(forged.buffer).setUint32(8, header.length, true);
    forged.set(header, 12);
    refuse(forged, /classes/);
  });
});

describe('damage features and verdict', () => {
  it('equal a float64 recomputation: cosine with each class mean per position, then log norm; softmax of the standardised linear scores', () => {
    const n = 4;
    const c = 6;
    const m = randomModel(n, c, 7);
    const map: PatchMap = { h: 2, w: 2, c, data: Float32Array.from({ length: n * c }, (_, i) => Math.sin(i * 1.7) + 0.3) };
    const f = damageFeatures(m, map);
    for (let p = 0; p < n; p++) {
      const x = Array.from(map.data.subarray(p * c, (p + 1) * c));
      const norm = Math.hypot(...x);
      for (let k = 0; k < 4; k++) {
        const mean = Array.from(m.classMeans.subarray((k * n + p) * c, (k * n + p + 1) * c));
        const cos = x.reduce((s, v, j) => s + v * mean[j], 0) / norm;
        expect(f[k * n + p]).toBeCloseTo(cos, 10);
      }
      expect(f[4 * n + p]).toBeCloseTo(Math.log(norm + 1e-3), 12);
    }
    const D = f.length;
    const logits = [0, 1, 2, 3].map((k) => {
      let t = m.weights[k * (D + 1) + D];
      for (let j = 0; j < D; j++) t += m.weights[k * (D + 1) + j] * ((f[j] - m.featureMean[j]) / m.featureScale[j]);
      return t;
    });
    const z = logits.map((l) => Math.exp(l));
    const sum = z.reduce((a, b) => a + b, 0);
    const v = classifyFeatures(m, f);
    DAMAGE_CLASSES.forEach((name, k) => expect(v.probabilities[name]).toBeCloseTo(z[k] / sum, 10));
    expect(v.kind).toBe(DAMAGE_CLASSES[logits.indexOf(Math.max(...logits))]);
  });

  it('refuses a map of another shape', () => {
    expect(() => detectDamage(randomModel(4, 6), { h: 7, w: 7, c: 6, data: new Float32Array(49 * 6) })).toThrow(/reads 4 patches of 6 channels/);
  });
});

describe('the shipped detector on real faces', () => {
  let model: DamageDetectorModel;
  let setup: Awaited<ReturnType<typeof createPipeline>>;
  beforeAll(async () => {
    model = parseDamageDetector(readFileSync(SHIPPED), 'faceres-damage.bin');
    setup = await createPipeline('faceres');
  }, 120_000);

  it('reads the app generators on lfw-mini faces (drawn on the aligned face, as a query is) as what they are', async () => {
    const images = listIdentityImages('lfw-mini').slice(0, 8);
    const wrong: string[] = [];
    for (const [i, img] of images.entries()) {
      const a = await setup.pipeline.analyse(decodeImageNode(readFileSync(img.path), img.name), img.name);
      for (const [vi, kind] of DAMAGE_CLASSES.entries()) {
        const [f] = await setup.recognizer.embed([applyOod(kind, a, 1000 + i * 4 + vi).aligned]);
        const v = detectDamage(model, f.patches);
        if (v.kind !== kind) wrong.push(`${img.name} ${kind} read as ${v.kind}`);
      }
    }
    // 32 readings; on lfw-dev's held-out identities 99.5-100% per kind are right, so at most one slip.
    expect(wrong.length, wrong.join('; ')).toBeLessThanOrEqual(1);
  }, 300_000);

  it("reads the paper authors' own masked and sunglasses faces (paper-small, other generators, never seen) as such, and their clean faces as clean", async () => {
    const counts: Record<string, Record<string, number>> = {};
    for (const [folder, kind] of [
      ['lfw-align-128', 'none'],
      ['lfw-align-128-masked', 'mask'],
      ['lfw-align-128-glass', 'sunglasses'],
    ] as const) {
      const c: Record<string, number> = {};
      for (const img of listIdentityImages(`paper-small/${folder}`)) {
        const a = await setup.pipeline.analyse(decodeImageNode(readFileSync(img.path), img.name), img.name);
        const [f] = await setup.recognizer.embed([a.aligned]);
        const read = detectDamage(model, f.patches).kind;
        c[read] = (c[read] ?? 0) + 1;
      }
      counts[kind] = c;
    }
    // 10 faces each; all 30 were read right when this was written (their 70% crops are re-aligned by the app and read as clean).
    for (const kind of ['none', 'mask', 'sunglasses']) expect(counts[kind][kind] ?? 0, JSON.stringify(counts)).toBeGreaterThanOrEqual(9);
  }, 300_000);
});

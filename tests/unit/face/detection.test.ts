/**
 * Detection and alignment on real faces: 500 lfw-dev images (every 10th in
 * sorted order, 514 in all; cut to 500). The alignment check compares
 * the aligned eye centres with the recognizer template's eye points.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Point } from '../../../src/core/types.ts';
import { fivePointsFrom68 } from '../../../src/face/fivePoints.ts';
import { listIdentityImages } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { createPipeline, modelEntry, type PipelineSetup } from './helpers/models.ts';

let setup: PipelineSetup;
beforeAll(async () => {
  setup = await createPipeline();
});

describe('detection and alignment on 500 lfw-dev images', () => {
  it('finds a face in >= 99% and puts the eyes within 3 px of the template on average', async () => {
    const template = modelEntry('mobilefacenet-arcface').alignmentTemplate as readonly Point[];
    const files = listIdentityImages('lfw-dev')
      .filter((_, i) => i % 10 === 0)
      .slice(0, 500);
    expect(files.length).toBe(500);
    let found = 0;
    const eyeErrors: number[] = [];
    for (const f of files) {
      const image = decodeImageNode(new Uint8Array(readFileSync(f.path)), f.name);
      try {
        const a = await setup.pipeline.analyse(image, f.name);
        found++;
        expect(a.aligned.width).toBe(112);
        const [left, right] = fivePointsFrom68(a.landmarksAligned);
        eyeErrors.push(Math.hypot(left[0] - template[0][0], left[1] - template[0][1]), Math.hypot(right[0] - template[1][0], right[1] - template[1][1]));
      } catch (e) {
        if ((e as { code?: string }).code !== 'no-face') throw e;
      }
    }
    const meanEyeError = eyeErrors.reduce((s, v) => s + v, 0) / eyeErrors.length;
    console.log(`lfw-dev 500: faces found ${found}/500, mean eye-centre error ${meanEyeError.toFixed(2)} px`);
    expect(found / files.length).toBeGreaterThanOrEqual(0.99);
    expect(meanEyeError).toBeLessThanOrEqual(3);
  });
});

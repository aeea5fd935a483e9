/**
 * Issue 13's "patches in the embedding's space" (bench/study/projectedScores.ts):
 * MobileFaceNet's head read from the ONNX file and applied to each patch of
 * tensor 507 in float64 must add up to the embedding ONNX Runtime computes.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { projectPatches, readMobileFaceNetHead, type MobileFaceNetHead } from '../../../bench/study/projectedScores.ts';
import type { FaceFeatures } from '../../../src/core/types.ts';
import { dataPath } from '../face/helpers/data.ts';
import { decodeImageNode } from '../face/helpers/decodeNode.ts';
import { createPipeline } from '../face/helpers/models.ts';

let head: MobileFaceNetHead;
let faces: FaceFeatures[];
beforeAll(async () => {
  head = readMobileFaceNetHead();
  const setup = await createPipeline('mobilefacenet-arcface');
  const aligned = [];
  for (const n of ['Aaron_Sorkin/Aaron_Sorkin_0001.jpg', 'Abba_Eban/Abba_Eban_0001.jpg']) {
    aligned.push((await setup.pipeline.analyse(decodeImageNode(new Uint8Array(readFileSync(dataPath('lfw-dev', n))), n), n)).aligned);
  }
  faces = await setup.recognizer.embed(aligned);
}, 60_000);

describe('projected MobileFaceNet patches', () => {
  it('sum, with the head biases, to the embedding ONNX Runtime returns', () => {
    for (const f of faces) {
      const projected = projectPatches(head, f.patches.data);
      let worst = 0;
      let largest = 0;
      for (let o = 0; o < 512; o++) {
        // The depthwise bias passes through the 1x1 conv like any input; then its own bias.
        let s = head.linearBias[o];
        for (let ch = 0; ch < 512; ch++) s += head.linear[o * 512 + ch] * head.depthwiseBias[ch];
        for (let p = 0; p < 49; p++) s += projected[p * 512 + o];
        worst = Math.max(worst, Math.abs(s - f.embedding[o]));
        largest = Math.max(largest, Math.abs(f.embedding[o]));
      }
      expect(largest).toBeGreaterThan(0.1);
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('give each position its own share: the centre patches weigh more than the corners', () => {
    const norms = Array.from({ length: 49 }, (_, p) => Math.hypot(...projectPatches(head, faces[0].patches.data).subarray(p * 512, (p + 1) * 512)));
    expect(norms[24]).toBeGreaterThan(4 * norms[0]);
  });
});

describe("MobileFaceNet's visible-part embeddings (the model's extra outputs, issue 13)", () => {
  it.each([
    ['sunglasses', [4, 5, 6]],
    ['mask', [0, 1, 2]],
  ] as const)('%s: equal the head applied in float64 to the kept rows %j of tensor 507 alone', (kind, rows) => {
    for (const f of faces) {
      const got = f.visibleEmbeddings?.[kind];
      expect(got?.length).toBe(512);
      const kept = new Float64Array(head.depthwiseBias);
      for (const y of rows) for (let x = 0; x < 7; x++) for (let ch = 0; ch < 512; ch++) kept[ch] += head.depthwise[ch * 49 + y * 7 + x] * f.patches.data[(y * 7 + x) * 512 + ch];
      let worst = 0;
      let fromFull = 0;
      for (let o = 0; o < 512; o++) {
        let s = head.linearBias[o];
        for (let ch = 0; ch < 512; ch++) s += head.linear[o * 512 + ch] * kept[ch];
        worst = Math.max(worst, Math.abs(s - (got as Float32Array)[o]));
        fromFull = Math.max(fromFull, Math.abs(s - f.embedding[o]));
      }
      expect(worst).toBeLessThan(1e-5);
      // Not the whole face's embedding: the hidden rows matter.
      expect(fromFull).toBeGreaterThan(0.05);
    }
  });
});

/** Detector post-processing: IoU/NMS by hand, and what the graph's raw outputs are. */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { describe, expect, it } from 'vitest';
import { detectorInput, intersectionOverUnion, nonMaxSuppression, type DetectorView } from '../../../src/face/detector.ts';
import { ResampleScratch } from '../../../src/face/pixels.ts';
import { dataPath } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { loadSession, modelEntry } from './helpers/models.ts';

describe('IoU and NMS', () => {
  it('computes IoU of two boxes (10x10 boxes overlapping 5x10: 50 / 150)', () => {
    expect(intersectionOverUnion({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 5, y1: 0, x2: 15, y2: 10 })).toBeCloseTo(1 / 3, 12);
    expect(intersectionOverUnion({ x1: 0, y1: 0, x2: 10, y2: 10 }, { x1: 20, y1: 0, x2: 30, y2: 10 })).toBe(0);
  });

  it('keeps the best of overlapping boxes and every separate one, best first', () => {
    const kept = nonMaxSuppression(
      [
        { box: { x1: 0, y1: 0, x2: 10, y2: 10 }, score: 0.8 },
        { box: { x1: 1, y1: 0, x2: 11, y2: 10 }, score: 0.9 }, // IoU 0.82 with the first
        { box: { x1: 50, y1: 50, x2: 60, y2: 60 }, score: 0.7 },
        { box: { x1: 5, y1: 0, x2: 15, y2: 10 }, score: 0.75 }, // IoU 0.43 with the best
      ],
      0.4,
    );
    expect(kept.map((k) => k.score)).toEqual([0.9, 0.7]);
  });
});

describe('detectorInput in reused memory', () => {
  it('gives the floats of fresh arrays for every view, in any order, grey only where the picture is not', () => {
    const name = 'lfw-dev/Aaron_Sorkin/Aaron_Sorkin_0001.jpg';
    const image = decodeImageNode(new Uint8Array(readFileSync(dataPath(name))), name);
    const into = new Float32Array(3 * 320 * 240);
    const scratch = new ResampleScratch();
    // A zoomed-out view after a full one is where stale pixels would show: its grey border must be written again.
    const views: DetectorView[] = ['stretch', 3, { x: 40, y: 10, width: 160, height: 120 }, 2, 'stretch', 3];
    for (const view of views) {
      const fresh = detectorInput(image, 'RGB', view);
      const reused = detectorInput(image, 'BGR', view, { into, scratch });
      expect(reused).toBe(into);
      // BGR then RGB into the same memory: every channel plane is rewritten.
      expect(Array.from(detectorInput(image, 'RGB', view, { into, scratch }))).toEqual(Array.from(fresh));
    }
    // Independently of the fresh path: around the picture zoomed out to a third, the input is mid-grey (128 -> 1/128).
    const third = detectorInput(image, 'RGB', 3, { into, scratch });
    expect(third[0]).toBe(1 / 128);
    expect(third[2 * 320 * 240 + 320 * 240 - 1]).toBe(1 / 128);
    expect(() => detectorInput(image, 'RGB', 'stretch', { into: new Float32Array(10), scratch })).toThrow(/must hold 230400 floats/);
  });
});

describe('detector graph outputs', () => {
  it('gives boxes already decoded: corner form in 0..1 around the face (no priors needed)', async () => {
    const session = await loadSession(modelEntry('ultraface-detector'));
    const name = 'lfw-dev/Aaron_Sorkin/Aaron_Sorkin_0001.jpg';
    const image = decodeImageNode(new Uint8Array(readFileSync(dataPath(name))), name);
    const out = await session.run({ input: new ort.Tensor('float32', detectorInput(image, 'RGB'), [1, 3, 240, 320]) });
    const scores = out.scores.data as Float32Array;
    const boxes = out.boxes.data as Float32Array;
    expect(out.scores.dims).toEqual([1, 4420, 2]);
    let best = 0;
    for (let i = 1; i < 4420; i++) if (scores[2 * i + 1] > scores[2 * best + 1]) best = i;
    const [x1, y1, x2, y2] = boxes.subarray(4 * best, 4 * best + 4);
    expect(scores[2 * best + 1]).toBeGreaterThan(0.9);
    // LFW deep-funneled faces sit in the middle of the 250 px picture, about 100-150 px tall.
    expect(x1).toBeGreaterThan(0.1);
    expect(y1).toBeGreaterThan(0.05);
    expect(x2).toBeLessThan(0.9);
    expect(y2).toBeLessThan(0.95);
    expect(x1 < 0.5 && 0.5 < x2 && y1 < 0.5 && 0.5 < y2).toBe(true);
    expect(y2 - y1).toBeGreaterThan(0.35);
  });
});

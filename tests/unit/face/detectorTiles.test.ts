/** Tiles for pictures far from the detector's 4:3 input: where they go, and the faces the squeezed whole view misses. */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';
import { detectorTiles, TILE_OVERLAP, type DetectedFace, type FaceDetector } from '../../../src/face/detector.ts';
import { composeGroupPhoto } from '../library/helpers/groupPhoto.ts';
import { dataPath } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { createPipeline } from './helpers/models.ts';

describe('detectorTiles', () => {
  it('adds none for pictures the whole view squeezes by 1.5x or less (4:3, 3:2, 16:9, 2:1, 1:1)', () => {
    for (const [w, h] of [
      [320, 240],
      [300, 200],
      [1920, 1080],
      [2000, 1000],
      [250, 250],
    ]) {
      expect(detectorTiles(w, h), `${w}x${h}`).toEqual([]);
    }
  });

  it('covers a wide picture with 4:3 tiles of its full height, neighbours overlapping by >= 1/3, edge to edge', () => {
    for (const [w, h] of [
      [1000, 290],
      [811, 253],
      [5000, 300],
    ]) {
      const tiles = detectorTiles(w, h);
      expect(tiles.length).toBeGreaterThanOrEqual(2);
      for (const t of tiles) {
        expect(t.y).toBe(0);
        expect(t.height).toBe(h);
        expect(t.width / t.height).toBeCloseTo(4 / 3, 12);
      }
      expect(tiles[0].x).toBe(0);
      expect(tiles[tiles.length - 1].x + tiles[tiles.length - 1].width).toBeCloseTo(w, 9);
      for (let i = 1; i < tiles.length; i++) expect(tiles[i - 1].x + tiles[i - 1].width - tiles[i].x).toBeGreaterThanOrEqual(TILE_OVERLAP * tiles[i].width - 1e-9);
    }
  });

  it('covers a tall picture (a strip, a 3:4 portrait squeezed 1.78x) the same way down its height', () => {
    for (const [w, h] of [
      [290, 1000],
      [3000, 4000],
    ]) {
      const tiles = detectorTiles(w, h);
      expect(tiles.length).toBeGreaterThanOrEqual(2);
      for (const t of tiles) expect([t.x, t.width, t.height]).toEqual([0, w, w * 0.75]);
      expect(tiles[0].y).toBe(0);
      expect(tiles[tiles.length - 1].y + tiles[tiles.length - 1].height).toBeCloseTo(h, 9);
      for (let i = 1; i < tiles.length; i++) expect(tiles[i - 1].y + tiles[i - 1].height - tiles[i].y).toBeGreaterThanOrEqual(TILE_OVERLAP * tiles[i].height - 1e-9);
    }
  });
});

describe('FaceDetector.detect with tiles', () => {
  let detector: FaceDetector;
  beforeAll(async () => {
    ({ detector } = await createPipeline());
  });

  it('finds all four people of a strip (800x240) that the squeezed whole view mostly misses, each once', async () => {
    // LFW photos are centred on their labelled face.
    const names = ['Emanuel_Ginobili/Emanuel_Ginobili_0004.jpg', 'Tony_Shalhoub/Tony_Shalhoub_0003.jpg', 'Bernard_Kerik/Bernard_Kerik_0001.jpg', 'Strom_Thurmond/Strom_Thurmond_0002.jpg'];
    const sources = names.map((name) => {
      const image = decodeImageNode(new Uint8Array(readFileSync(dataPath('lfw-dev', name))), name);
      return { name, image, face: { x: image.width / 2 - 1, y: image.height / 2 - 1, width: 2, height: 2 } };
    });
    const strip = composeGroupPhoto(sources, { scales: [0.8, 0.8, 0.8, 0.8], cutLeft: 0, cutRight: 0, gap: 0 }, seededRandom(1));
    const around = (faces: readonly DetectedFace[], p: (typeof strip.placements)[number]) =>
      faces.filter((f) => f.box.x1 <= p.face.x && p.face.x + p.face.width <= f.box.x2 && f.box.y1 <= p.face.y && p.face.y + p.face.height <= f.box.y2).length;
    const whole = await detector.detect(strip.image);
    const tiled = await detector.detect(strip.image, { tiles: true });
    // Measured: the whole view finds 1 of the 4 (each face narrowed 2.5x).
    expect(strip.placements.filter((p) => around(whole, p) > 0).length).toBeLessThan(4);
    for (const p of strip.placements) expect(around(tiled, p), p.source.name).toBe(1);
  });
});

/** The whole path on real faces: several faces, no face, EXIF orientations, big photos, paper-small. */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import type { Point, RgbaImage } from '../../../src/core/types.ts';
import { boxArea } from '../../../src/face/detector.ts';
import type { FaceAnalysis } from '../../../src/face/pipeline.ts';
import { affineScale, applyAffine } from '../../../src/face/similarity.ts';
import { fivePointsFrom68 } from '../../../src/face/fivePoints.ts';
import { resizeImage } from '../../../src/face/pixels.ts';
import { dataPath } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { encodeJpeg, withExifOrientation } from './helpers/imageBytes.ts';
import { storedForOrientation } from './helpers/imageOps.ts';
import { createPipeline, modelEntry, type PipelineSetup } from './helpers/models.ts';
import { referenceCosine } from '../../support/vectors.ts';

let setup: PipelineSetup;
const template = () => modelEntry('mobilefacenet-arcface').alignmentTemplate as readonly Point[];
beforeAll(async () => {
  setup = await createPipeline();
});

const load = (rel: string) => decodeImageNode(new Uint8Array(readFileSync(dataPath(rel))), rel);

function eyeError(landmarksAligned: readonly Point[]): number {
  const [l, r] = fivePointsFrom68(landmarksAligned);
  const t = template();
  return (Math.hypot(l[0] - t[0][0], l[1] - t[0][1]) + Math.hypot(r[0] - t[1][0], r[1] - t[1][1])) / 2;
}

describe('FacePipeline', () => {
  it('keeps every face of a two-face picture and aligns the largest', async () => {
    const a = load('lfw-dev/Aaron_Sorkin/Aaron_Sorkin_0001.jpg');
    const b = resizeImage(load('lfw-dev/Abba_Eban/Abba_Eban_0001.jpg'), 150, 150);
    // Side by side on a grey canvas: a (250 px) on the left, b (150 px) on the right.
    const canvas: RgbaImage = { width: 420, height: 260, data: new Uint8ClampedArray(420 * 260 * 4).fill(128) };
    const put = (img: RgbaImage, ox: number, oy: number) => {
      for (let y = 0; y < img.height; y++) canvas.data.set(img.data.subarray(y * img.width * 4, (y + 1) * img.width * 4), ((oy + y) * 420 + ox) * 4);
    };
    put(a, 0, 5);
    put(b, 265, 55);
    const res = await setup.pipeline.analyse(canvas, 'two.jpg');
    expect(res.faces.length).toBeGreaterThanOrEqual(2);
    for (const f of res.faces) expect(f.landmarks68.length).toBe(68);
    const chosen = res.faces[res.chosenIndex];
    expect((chosen.box.x1 + chosen.box.x2) / 2).toBeLessThan(250); // the big face is on the left
    for (const f of res.faces) expect(boxArea(chosen.box)).toBeGreaterThanOrEqual(boxArea(f.box));
    const right = res.faces.findIndex((f) => (f.box.x1 + f.box.x2) / 2 > 265);
    expect(right).toBeGreaterThanOrEqual(0);
    const other = setup.pipeline.realign(canvas, res, right);
    expect(eyeError(other.landmarksAligned)).toBeLessThan(4);
  });

  it("reports 'no-face' naming the file for a picture without a face", async () => {
    const img: RgbaImage = { width: 200, height: 160, data: new Uint8ClampedArray(200 * 160 * 4) };
    for (let i = 0; i < 200 * 160; i++) img.data.set([(i * 7) % 200, 90, 160, 255], i * 4);
    const err = await setup.pipeline.analyse(img, 'wall.png').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('no-face');
    expect((err as AppError).message).toContain('wall.png');
  });

  it('gives the same aligned face for EXIF orientations 1-8 as for the upright image (cosine >= 0.99)', async () => {
    const uprightBytes = encodeJpeg(load('lfw-dev/Aaron_Sorkin/Aaron_Sorkin_0001.jpg'), 95);
    const upright = decodeImageNode(uprightBytes, 'upright.jpg');
    const uprightPixels = decodeImageNode(uprightBytes, 'upright.jpg');
    const ref = (await setup.pipeline.embed([await setup.pipeline.analyse(upright, 'upright.jpg')]))[0].embedding;
    for (let o = 1; o <= 8; o++) {
      const name = `orientation-${o}.jpg`;
      const bytes = withExifOrientation(encodeJpeg(storedForOrientation(uprightPixels, o), 95), o);
      const decoded = decodeImageNode(bytes, name);
      const emb = (await setup.pipeline.embed([await setup.pipeline.analyse(decoded, name)]))[0].embedding;
      const cos = referenceCosine(ref, emb);
      expect(cos, `orientation ${o}: cosine ${cos.toFixed(4)}`).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('aligns a big photo (4x enlarged) to the same face as the original (cosine >= 0.98)', async () => {
    const small = load('lfw-dev/Abba_Eban/Abba_Eban_0001.jpg');
    const big = resizeImage(small, 1000, 1000);
    const [fs, fb] = await setup.pipeline.embed([await setup.pipeline.analyse(small, 's.jpg'), await setup.pipeline.analyse(big, 'b.jpg')]);
    expect(referenceCosine(fs.embedding, fb.embedding)).toBeGreaterThanOrEqual(0.98);
  });
});

describe('paper-small: the authors’ aligned faces and their masked / sunglasses versions', () => {
  const root = () => dataPath('paper-small');
  const names = () => readdirSync(join(root(), 'lfw-align-128')).flatMap((id) => readdirSync(join(root(), 'lfw-align-128', id)).map((f) => `${id}/${f}`));
  const originals = new Map<string, FaceAnalysis>();

  it('lfw-align-128 (originals): every face is detected and aligned, eyes within 3 px of the template on average', async () => {
    const errors: number[] = [];
    for (const n of names()) {
      const a = await setup.pipeline.analyse(load(`paper-small/lfw-align-128/${n}`), n);
      originals.set(n, a);
      errors.push(eyeError(a.landmarksAligned));
    }
    expect(errors.length).toBe(10);
    console.log(`lfw-align-128: eye-centre error (px) ${errors.map((e) => e.toFixed(1)).join(' ')}`);
    expect(errors.reduce((s, e) => s + e, 0) / errors.length).toBeLessThanOrEqual(3);
  });

  // The overlays were drawn on the same aligned pictures, so a good alignment of
  // a variant puts the template's five points where the original's alignment puts them.
  for (const version of ['lfw-align-128-masked', 'lfw-align-128-glass']) {
    it(`${version}: every face is detected and aligned like its unoccluded original`, async () => {
      const disagreement: number[] = [];
      for (const n of names()) {
        const a = await setup.pipeline.analyse(load(`paper-small/${version}/${n}`), n);
        const o = originals.get(n);
        if (!o) throw new Error('the originals test must run first');
        const scale = affineScale(o.transform); // source px -> aligned px
        const d = template().map((t) => {
          const p = applyAffine(a.inverse, t);
          const q = applyAffine(o.inverse, t);
          return Math.hypot(p[0] - q[0], p[1] - q[1]) * scale;
        });
        disagreement.push(d.reduce((s, v) => s + v, 0) / d.length);
      }
      console.log(`${version}: five-point disagreement with the original (aligned px) ${disagreement.map((e) => e.toFixed(1)).join(' ')}`);
      expect(disagreement.reduce((s, e) => s + e, 0) / disagreement.length).toBeLessThanOrEqual(6);
      expect(Math.max(...disagreement)).toBeLessThanOrEqual(12);
    });
  }
});

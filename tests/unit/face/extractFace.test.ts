/**
 * extractFace on lfw-dev photos the app used to refuse for the gallery
 * ("several faces of similar size"): a detector false positive is dropped,
 * a background face no longer hides the central labelled one, a truly
 * ambiguous photo is still refused, and queries still list every real face.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import type { RgbaImage } from '../../../src/core/types.ts';
import { boxArea } from '../../../src/face/detector.ts';
import { extractFace, type ExtractedFeatures } from '../../../src/face/extractFace.ts';
import { centreOffset, CENTRAL_FACE_MAX_OFFSET } from '../../../src/face/galleryFaceChoice.ts';
import { referenceCosine } from '../../support/vectors.ts';
import { dataPath } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { createPipeline, type PipelineSetup } from './helpers/models.ts';

let setup: PipelineSetup;
beforeAll(async () => {
  setup = await createPipeline();
});

const load = (name: string): RgbaImage => decodeImageNode(new Uint8Array(readFileSync(dataPath('lfw-dev', name))), name);
const gallery = (image: RgbaImage, name: string) => extractFace(setup.pipeline, image, name, { purpose: 'gallery', ood: 'none', seed: 0 });
const query = (image: RgbaImage, name: string, faceIndex?: number) => extractFace(setup.pipeline, image, name, { purpose: 'query', faceIndex, ood: 'none', seed: 0 });
const edgeBox = (f: ExtractedFeatures['faces'][number]) => ({ x1: f.x, y1: f.y, x2: f.x + f.width, y2: f.y + f.height });
const chosenBox = (r: ExtractedFeatures) => edgeBox(r.faces[r.chosenIndex]);

describe('extractFace on gallery photos with several detections', () => {
  it('Eddie_Murray_0001: drops the sign at the right edge (a sliver) and indexes the one face without a notice', async () => {
    const name = 'Eddie_Murray/Eddie_Murray_0001.jpg';
    const image = load(name);
    // Today's detections: the face and a tall thin box over the sign, of similar area.
    const analysed = await setup.pipeline.analyse(image, name);
    expect(analysed.faces).toHaveLength(2);
    const [a, b] = analysed.faces.map((f) => boxArea(f.box)).sort((x, y) => y - x);
    expect(b).toBeGreaterThan(0.7 * a);

    const r = await gallery(image, name);
    expect(r.faces).toHaveLength(1);
    expect(r.notice).toBeUndefined();
    expect(r.faces[0].width / r.faces[0].height).toBeGreaterThan(0.6);
    // A query is not offered the sliver either.
    expect((await query(image, name)).faces).toHaveLength(1);
  });

  it('Whoopi_Goldberg_0001: indexes the central face, not the larger one beside it, and says so', async () => {
    const name = 'Whoopi_Goldberg/Whoopi_Goldberg_0001.jpg';
    const image = load(name);
    const r = await gallery(image, name);
    expect(r.notice).toMatchObject({ code: 'several-faces-indexed-central', message: expect.stringContaining('indexed the central one') });
    expect(r.notice?.hint.length).toBeGreaterThan(20);
    expect(centreOffset(chosenBox(r), image.width, image.height)).toBeLessThan(CENTRAL_FACE_MAX_OFFSET);
    const largest = r.faces.reduce((best, f, i) => (f.width * f.height > r.faces[best].width * r.faces[best].height ? i : best), 0);
    expect(r.chosenIndex).not.toBe(largest);

    // A query keeps every face and defaults to the largest, as before; picking the central face gives the gallery's features.
    const q = await query(image, name);
    expect(q.faces).toEqual(r.faces);
    expect(q.chosenIndex).toBe(largest);
    expect(q.notice).toBeUndefined();
    const picked = await query(image, name, r.chosenIndex);
    expect(referenceCosine(picked.features.embedding, r.features.embedding)).toBeGreaterThan(0.9999);
  });

  it('John_McEnroe_0001: still refuses two similar faces about equally near the centre', async () => {
    const name = 'John_McEnroe/John_McEnroe_0001.jpg';
    const err = await gallery(load(name), name).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'several-faces', file: name });
    expect((err as AppError).message).toMatch(/2 faces of similar size/);
    expect((err as AppError).hint).toMatch(/crop/i);
  });

  it('refuses an out-of-range face pick by name', async () => {
    const name = 'Eddie_Murray/Eddie_Murray_0001.jpg';
    const err = await query(load(name), name, 1).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'invalid-argument', file: name });
  });
});

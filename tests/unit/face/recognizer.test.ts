/** Recognizer batching and layout, against the ONNX session run directly. */
import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-web';
import { beforeAll, describe, expect, it } from 'vitest';
import type { RgbaImage } from '../../../src/core/types.ts';
import { Recognizer } from '../../../src/face/recognizer.ts';
import { dataPath } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { createPipeline, loadSession, modelEntry } from './helpers/models.ts';
import { referenceCosine } from '../../support/vectors.ts';

let faces: RgbaImage[];
let recognizer: Recognizer;
beforeAll(async () => {
  const setup = await createPipeline();
  recognizer = setup.recognizer;
  faces = [];
  for (const n of ['Aaron_Sorkin/Aaron_Sorkin_0001.jpg', 'Abba_Eban/Abba_Eban_0001.jpg', 'Aaron_Sorkin/Aaron_Sorkin_0002.jpg']) {
    const path = dataPath('lfw-dev', n);
    faces.push((await setup.pipeline.analyse(decodeImageNode(new Uint8Array(readFileSync(path)), n), n)).aligned);
  }
});

describe('Recognizer', () => {
  it('normalises as the manifest says: (x - 127) / 128, RGB planes', () => {
    const img: RgbaImage = { width: 112, height: 112, data: new Uint8ClampedArray(112 * 112 * 4) };
    for (let i = 0; i < 112 * 112; i++) img.data.set([255, 127, 0, 255], i * 4);
    const x = recognizer.toInput([img]);
    const plane = 112 * 112;
    expect([x[0], x[plane], x[2 * plane]]).toEqual([1, 0, -127 / 128]);
  });

  it('returns the network embedding and the 7x7x512 map transposed to patch-major', async () => {
    const entry = modelEntry('mobilefacenet-arcface');
    const session = await loadSession(entry);
    const direct = await session.run({ input: new ort.Tensor('float32', recognizer.toInput([faces[1]]), [1, 3, 112, 112]) });
    const nchw = direct['507'].data as Float32Array;
    const [f] = await recognizer.embed([faces[1]]);
    expect([f.patches.h, f.patches.w, f.patches.c, f.cropSize]).toEqual([7, 7, 512, 112]);
    expect(Array.from(f.embedding)).toEqual(Array.from(direct.output.data as Float32Array));
    for (const [ch, y, x] of [
      [0, 0, 0],
      [5, 3, 6],
      [511, 6, 6],
      [200, 6, 0],
    ]) {
      expect(f.patches.data[(y * 7 + x) * 512 + ch]).toBe(nchw[ch * 49 + y * 7 + x]);
    }
  });

  it('gives the same features batched as one by one, and same-person faces are closer', async () => {
    const batched = await recognizer.embed(faces);
    for (let i = 0; i < faces.length; i++) {
      const [single] = await recognizer.embed([faces[i]]);
      expect(referenceCosine(single.embedding, batched[i].embedding)).toBeGreaterThan(0.99999);
    }
    // Faces 0 and 2 are Aaron Sorkin, face 1 is Abba Eban.
    expect(referenceCosine(batched[0].embedding, batched[2].embedding)).toBeGreaterThan(referenceCosine(batched[0].embedding, batched[1].embedding) + 0.2);
  });

  it('one face after another (its input array reused), or two at once, gives each face the features of a fresh recognizer', async () => {
    const fresh = async (face: RgbaImage) => (await new Recognizer(await loadSession(modelEntry('mobilefacenet-arcface')), modelEntry('mobilefacenet-arcface')).embed([face]))[0];
    const expected = await Promise.all(faces.map(fresh));
    const one = new Recognizer(await loadSession(modelEntry('mobilefacenet-arcface')), modelEntry('mobilefacenet-arcface'));
    const inTurn = [];
    for (const i of [0, 1, 2, 0]) inTurn.push({ i, f: (await one.embed([faces[i]]))[0] });
    // Two calls in flight at once: the second must not write into the array the first one's run reads.
    const together = await Promise.all([one.embed([faces[1]]), one.embed([faces[2]])]);
    inTurn.push({ i: 1, f: together[0][0] }, { i: 2, f: together[1][0] });
    for (const { i, f } of inTurn) {
      expect(Array.from(f.embedding)).toEqual(Array.from(expected[i].embedding));
      expect(Array.from(f.patches.data)).toEqual(Array.from(expected[i].patches.data));
    }
  });
});

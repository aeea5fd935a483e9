/**
 * The fused pipeline's feature path (src/face/fusedRecognizer.ts) on real
 * faces, against independent recomputations: the framing square from the
 * templates' own construction, the secondary's features against the same
 * recognizer aligned straight from the photo, and the fused embedding's dot
 * product against the weighted sum of the two cosines computed separately.
 */
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { fuseEmbeddings, framingRect, FusedRecognizer } from '../../../src/face/fusedRecognizer.ts';
import { alignFace } from '../../../src/face/pipeline.ts';
import { Recognizer } from '../../../src/face/recognizer.ts';
import { seededRandom } from '../../../src/core/random.ts';
import type { Point } from '../../../src/core/types.ts';
import { dataPath, listIdentityImages } from './helpers/data.ts';
import { decodeImageNode } from './helpers/decodeNode.ts';
import { createPipeline, loadSession, modelEntry, type PipelineSetup } from './helpers/models.ts';
import { referenceCosine } from '../../support/vectors.ts';

let faceres: PipelineSetup;
let mfn: Recognizer;
beforeAll(async () => {
  faceres = await createPipeline('faceres');
  const e = modelEntry('mobilefacenet-arcface');
  mfn = new Recognizer(await loadSession(e), e);
});

describe('framingRect', () => {
  it("puts MobileFaceNet's 112 square where FaceRes's template construction put ArcFace's (190 px, centred in 224)", () => {
    const r = framingRect(modelEntry('faceres').alignmentTemplate as readonly Point[], modelEntry('mobilefacenet-arcface').alignmentTemplate as readonly Point[], 112);
    // scripts/models/tfjs/recognizerTemplates.ts: arcFaceTemplateIn(224, 190, 0), i.e. offset (224 - 190) / 2.
    expect(r.x).toBeCloseTo(17, 3);
    expect(r.y).toBeCloseTo(17, 3);
    expect(r.width).toBeCloseTo(190, 3);
    expect(r.height).toBeCloseTo(190, 3);
  });
  it('refuses templates that differ by a rotation', () => {
    const a: Point[] = [
      [0, 0],
      [10, 0],
      [5, 5],
    ];
    const b: Point[] = [
      [0, 0],
      [0, 10],
      [-5, 5],
    ];
    expect(() => framingRect(a, b, 10)).toThrow(/rotation/);
  });
});

describe('fuseEmbeddings', () => {
  it('makes the dot product the weighted sum of cosines (closed form on random vectors)', () => {
    const random = seededRandom(7);
    const rnd = () => random() * 2 - 1;
    const v = (n: number) => Float32Array.from({ length: n }, rnd);
    const [a1, a2, b1, b2] = [v(5), v(5), v(9), v(9)];
    const w = 0.3;
    const f1 = fuseEmbeddings(a1, b1, Math.sqrt(w), Math.sqrt(1 - w));
    const f2 = fuseEmbeddings(a2, b2, Math.sqrt(w), Math.sqrt(1 - w));
    let dot = 0;
    for (let i = 0; i < f1.length; i++) dot += f1[i] * f2[i];
    expect(dot).toBeCloseTo(w * referenceCosine(a1, a2) + (1 - w) * referenceCosine(b1, b2), 6);
    expect(Math.hypot(...f1)).toBeCloseTo(1, 6);
  });
});

describe('FusedRecognizer on real faces', () => {
  it("gives the primary's patch map and a fused embedding whose parts match each recognizer alone", async () => {
    const images = listIdentityImages('lfw-mini').slice(0, 6);
    const w = 0.4;
    const fused = new FusedRecognizer(faceres.recognizer, mfn, { secondaryWeight: w });
    const mfnTemplate = modelEntry('mobilefacenet-arcface').alignmentTemplate as readonly Point[];
    const rows: { fused: Float32Array; fr: Float32Array; mfDirect: Float32Array; patches: Float32Array }[] = [];
    for (const im of images) {
      const image = decodeImageNode(readFileSync(dataPath('lfw-mini', im.name)), im.name);
      const a = await faceres.pipeline.analyse(image, im.name);
      const [f] = await fused.embed([a.aligned]);
      const [fr] = await faceres.recognizer.embed([a.aligned]);
      // Independent path for the secondary: aligned straight from the photo to its own 112 template.
      const direct = alignFace(image, a.faces[a.chosenIndex].landmarks68, mfnTemplate, 112);
      const [mf] = await mfn.embed([direct.aligned]);
      expect(f.patches.data).toEqual(fr.patches.data);
      expect(f.embedding.length).toBe(512 + 1024);
      rows.push({ fused: f.embedding, fr: fr.embedding, mfDirect: mf.embedding, patches: f.patches.data });
    }
    for (const r of rows) {
      // FaceRes part: exactly its own unit embedding, scaled by sqrt(1 - w).
      const frPart = r.fused.subarray(512);
      expect(referenceCosine(frPart, r.fr)).toBeGreaterThan(0.999999);
      expect(Math.hypot(...frPart)).toBeCloseTo(Math.sqrt(1 - w), 5);
      // MobileFaceNet part: seen through FaceRes's crop instead of its own warp, nearly the same face vector.
      expect(referenceCosine(r.fused.subarray(0, 512), r.mfDirect)).toBeGreaterThan(0.95);
    }
    // Pairwise: the fused dot product is w cos_mfn + (1 - w) cos_faceres, within float32.
    for (let i = 0; i < rows.length; i++) {
      for (let j = i + 1; j < rows.length; j++) {
        let dot = 0;
        for (let d = 0; d < rows[i].fused.length; d++) dot += rows[i].fused[d] * rows[j].fused[d];
        const cm = referenceCosine(rows[i].fused.subarray(0, 512), rows[j].fused.subarray(0, 512));
        const cr = referenceCosine(rows[i].fr, rows[j].fr);
        expect(dot).toBeCloseTo(w * cm + (1 - w) * cr, 5);
      }
    }
  }, 120_000);
});

/**
 * Whole-model parity of the converted FaceRes: the ONNX graph (run by
 * onnxruntime-web) against the original TF.js graph model executed by
 * @tensorflow/tfjs-converter on the CPU backend, on real faces. TF.js reads
 * the package's model.json and float16 weights itself.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import { readSource } from '../../../scripts/models/sources.ts';
import { FACERES_INPUT_SIZE, FACERES_TF_TENSORS, buildFaceres } from '../../../scripts/models/tfjs/buildFaceres.ts';
import { TFJS_SOURCES } from '../../../scripts/models/tfjs/tfjsSources.ts';
import { referenceCosine } from '../../support/vectors.ts';
import { maxAbs, maxAbsDiff, nchwToNhwc } from './helpers/compare.ts';
import { runOnnx } from './helpers/onnxRun.ts';
import { loadRealFaces, toNchwNormalised, type RgbFace } from './helpers/realFaces.ts';
import { loadGraphModelFromMemory, type GraphModelFiles } from './helpers/tfjsGraphModel.ts';

const FACES = 6;
const TOLERANCE = 1e-4;
const S = FACERES_INPUT_SIZE;

/** The TF.js graph's own input: NHWC, normalised per the manifest entry, channels in its order. */
function tfInput(faces: readonly RgbFace[], mean: readonly number[], std: readonly number[], order: 'RGB' | 'BGR'): tf.Tensor4D {
  const nchw = toNchwNormalised(faces, mean, std, order);
  return tf.tensor4d(nchwToNhwc(nchw, [faces.length, 3, S, S]), [faces.length, S, S, 3]);
}

describe('faceres ONNX vs the TF.js graph model (tfjs-converter, CPU)', () => {
  const faces = loadRealFaces(S, FACES);
  let onnx: Record<string, { data: Float32Array; dims: readonly number[] }>;
  let ref: { embedding: Float32Array; patches: Float32Array };

  beforeAll(async () => {
    const built = buildFaceres();
    const { mean, std } = built.entry.normalisation;
    const order = built.entry.channelOrder as 'RGB' | 'BGR';
    onnx = await runOnnx(built.bytes, { input: { data: toNchwNormalised(faces, mean, std, order), dims: [FACES, 3, S, S] } });
    const files = JSON.parse(new TextDecoder().decode(readSource(TFJS_SOURCES.faceresGraph))) as GraphModelFiles;
    const model = await loadGraphModelFromMemory(files, readSource(TFJS_SOURCES.faceresWeights));
    const x = tfInput(faces, mean, std, order);
    const [e, p] = model.execute(x, [FACERES_TF_TENSORS.embedding, FACERES_TF_TENSORS.patches]) as tf.Tensor[];
    ref = { embedding: e.dataSync() as Float32Array, patches: p.dataSync() as Float32Array };
    for (const t of [x, e, p]) t.dispose();
    model.dispose();
  });

  it('embedding equals TF.js within 1e-4 on real faces', () => {
    const d = maxAbsDiff(onnx.embedding.data, ref.embedding);
    console.log(`faceres embedding max |diff| ${d.toExponential(2)} (max |value| ${maxAbs(ref.embedding).toFixed(3)})`);
    expect(maxAbs(ref.embedding)).toBeGreaterThan(0.01);
    expect(d).toBeLessThan(TOLERANCE);
  });

  it('patch map equals TF.js conv_pw_13_relu/clip_by_value within 1e-4', () => {
    const d = maxAbsDiff(nchwToNhwc(onnx.patches.data, [FACES, 1024, 7, 7]), ref.patches);
    console.log(`faceres patches max |diff| ${d.toExponential(2)} (max |value| ${maxAbs(ref.patches).toFixed(3)})`);
    expect(d).toBeLessThan(TOLERANCE);
  });

  it('the embedding is the mean of the patch map (so patch and global features agree)', () => {
    const mean = new Float32Array(FACES * 1024);
    for (let i = 0; i < FACES * 1024; i++) {
      let s = 0;
      for (let p = 0; p < 49; p++) s += onnx.patches.data[i * 49 + p];
      mean[i] = s / 49;
    }
    expect(maxAbsDiff(mean, onnx.embedding.data)).toBeLessThan(1e-5);
  });

  it('same-person faces are closer than different-person ones', () => {
    const e = (i: number) => onnx.embedding.data.subarray(i * 1024, (i + 1) * 1024);
    for (let i = 0; i < FACES; i += 2) {
      expect(faces[i].identity).toBe(faces[i + 1].identity);
      const same = referenceCosine(e(i), e(i + 1));
      for (let j = 0; j < FACES; j++) if (faces[j].identity !== faces[i].identity) expect(same).toBeGreaterThan(referenceCosine(e(i), e(j)));
    }
  });
});

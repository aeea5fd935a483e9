/**
 * Whole-model parity of the converted dlib ResNet: the ONNX graph (run by
 * onnxruntime-web) against face-api's own FaceRecognitionNet (run by TF.js on
 * the CPU backend) on real faces. face-api's weights are decoded by TF.js
 * itself, so the reference shares no code with the converter.
 */
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { buildDlibResnet } from '../../../scripts/models/tfjs/buildDlibResnet.ts';
import { referenceCosine } from '../../support/vectors.ts';
import { maxAbs, maxAbsDiff, nchwToNhwc } from './helpers/compare.ts';
import { dlibReferenceMaps } from './helpers/dlibReference.ts';
import { loadFaceApiRecognitionNet, type FaceApiRecognitionNet } from './helpers/faceApiNet.ts';
import { runOnnx } from './helpers/onnxRun.ts';
import { loadRealFaces, toNchwNormalised, toNhwc } from './helpers/realFaces.ts';

// face-api's no-bundle build imports the umbrella @tensorflow/tfjs and two GPU backends; give it tfjs-core + CPU instead.
vi.mock('@tensorflow/tfjs/dist/index.js', () => import('./helpers/tfjsForFaceApi.ts'));
vi.mock('@tensorflow/tfjs-backend-webgl/dist/index.js', () => ({}));
vi.mock('@tensorflow/tfjs-backend-wasm/dist/index.js', () => ({}));

const FACES = 6;
const TOLERANCE = 1e-4;

describe('dlib-resnet ONNX vs face-api FaceRecognitionNet (TF.js CPU)', () => {
  const faces = loadRealFaces(150, FACES);
  let onnx: Record<string, { data: Float32Array; dims: readonly number[] }>;
  let net: FaceApiRecognitionNet;
  let descriptors: Float32Array[];

  beforeAll(async () => {
    await tf.setBackend('cpu');
    const built = buildDlibResnet();
    const { mean, std } = built.entry.normalisation;
    onnx = await runOnnx(built.bytes, { input: { data: toNchwNormalised(faces, mean, std, 'RGB'), dims: [FACES, 3, 150, 150] } });
    net = await loadFaceApiRecognitionNet();
    const inputs = faces.map((f) => tf.tensor4d(f.rgb, [1, 150, 150, 3]));
    descriptors = await net.computeFaceDescriptor(inputs);
    inputs.forEach((t) => t.dispose());
  });

  it('embedding equals face-api computeFaceDescriptor within 1e-4 on real faces', () => {
    const diffs = descriptors.map((ref, i) => {
      expect(maxAbs(ref)).toBeGreaterThan(0.01); // a real descriptor, not zeros
      return maxAbsDiff(onnx.embedding.data.subarray(i * 128, (i + 1) * 128), ref);
    });
    console.log(`dlib-resnet embedding max |diff| per face: ${diffs.map((d) => d.toExponential(2)).join(', ')}`);
    expect(Math.max(...diffs)).toBeLessThan(TOLERANCE);
  });

  it('patch maps equal the TF.js intermediate maps within 1e-4', () => {
    const ref = dlibReferenceMaps(net.params, toNhwc(faces), FACES);
    // The written-out forward pass must reproduce face-api's own descriptor, or its maps prove nothing.
    descriptors.forEach((d, i) => expect(maxAbsDiff(ref.embedding.subarray(i * 128, (i + 1) * 128), d)).toBeLessThan(1e-6));
    const d8 = maxAbsDiff(nchwToNhwc(onnx.patches8.data, [FACES, 128, 8, 8]), ref.patches8);
    const d4 = maxAbsDiff(nchwToNhwc(onnx.patches4.data, [FACES, 256, 4, 4]), ref.patches4);
    console.log(
      `dlib-resnet patches8 max |diff| ${d8.toExponential(2)} (max |value| ${maxAbs(ref.patches8).toFixed(2)}), ` + `patches4 ${d4.toExponential(2)} (max |value| ${maxAbs(ref.patches4).toFixed(2)})`,
    );
    expect(d8).toBeLessThan(TOLERANCE);
    expect(d4).toBeLessThan(TOLERANCE);
  });

  it('same-person faces are closer than different-person ones (a face descriptor, not only equal to one)', () => {
    const e = (i: number) => onnx.embedding.data.subarray(i * 128, (i + 1) * 128);
    for (let i = 0; i < FACES; i += 2) {
      expect(faces[i].identity).toBe(faces[i + 1].identity);
      const same = referenceCosine(e(i), e(i + 1));
      for (let j = 0; j < FACES; j++) if (faces[j].identity !== faces[i].identity) expect(same).toBeGreaterThan(referenceCosine(e(i), e(j)));
    }
  });
});

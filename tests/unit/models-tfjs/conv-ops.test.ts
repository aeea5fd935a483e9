/**
 * Converter op mappings vs TF.js (tfjs-core CPU kernels) on random inputs:
 * TF "SAME" padding (asymmetric, stride 2 on even and odd sizes), VALID,
 * depthwise filter layout, pooling, and folding per-channel affine steps
 * (bias, scale, batch norm) into the conv weights.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { batchNormAffine, composeAffine } from '../../../scripts/models/tfjs/folding.ts';
import { samePadding } from '../../../scripts/models/tfjs/layout.ts';
import { avgPool, conv2d, depthwiseConv2d, maxPool } from '../../../scripts/models/tfjs/tfOps.ts';
import { maxAbsDiff, randomFloats } from './helpers/compare.ts';
import { runEmitter } from './helpers/opGraph.ts';

const TOL = 1e-5;

beforeAll(async () => {
  await tf.setBackend('cpu');
});

function tfRun(f: () => tf.Tensor): { data: Float32Array; shape: number[] } {
  const t = f();
  const out = { data: t.dataSync() as Float32Array, shape: t.shape };
  t.dispose();
  return out;
}

describe('samePadding (TF SAME as explicit pads)', () => {
  it('puts the odd pixel after: stride 2 on an even size pads 0 before, 1 after', () => {
    expect(samePadding(224, 3, 2)).toEqual([0, 1]);
    expect(samePadding(8, 3, 2)).toEqual([0, 1]);
    expect(samePadding(7, 3, 2)).toEqual([1, 1]);
    expect(samePadding(7, 4, 1)).toEqual([1, 2]);
    expect(samePadding(8, 1, 2)).toEqual([0, 0]);
  });
});

describe('conv2d vs tf.conv2d', () => {
  const cases: { size: [number, number]; k: [number, number]; stride: number; padding: 'SAME' | 'VALID' }[] = [
    { size: [8, 8], k: [3, 3], stride: 2, padding: 'SAME' }, // even size, stride 2: pads 0/1
    { size: [7, 7], k: [3, 3], stride: 2, padding: 'SAME' }, // odd size, stride 2: pads 1/1
    { size: [8, 7], k: [3, 3], stride: 2, padding: 'SAME' }, // even rows, odd columns
    { size: [6, 6], k: [4, 4], stride: 1, padding: 'SAME' }, // even kernel: pads 1/2
    { size: [9, 9], k: [5, 5], stride: 2, padding: 'SAME' },
    { size: [10, 10], k: [7, 7], stride: 2, padding: 'VALID' },
    { size: [9, 9], k: [3, 3], stride: 2, padding: 'VALID' },
  ];
  for (const { size, k, stride, padding } of cases) {
    it(`${size.join('x')} input, ${k.join('x')} kernel, stride ${stride}, ${padding}`, async () => {
      const [h, w] = size;
      const cin = 3;
      const cout = 5;
      const x = randomFloats(2 * h * w * cin, h * 100 + w + stride);
      const f = randomFloats(k[0] * k[1] * cin * cout, 7 + k[0]);
      const fShape = [k[0], k[1], cin, cout];
      const ref = tfRun(() => tf.conv2d(tf.tensor4d(x, [2, h, w, cin]), tf.tensor4d(f, fShape as [number, number, number, number]), stride, padding === 'SAME' ? 'same' : 'valid'));
      const ours = await runEmitter(x, [2, h, w, cin], (b, v) => conv2d(b, v, f, fShape, { strides: [stride, stride], padding }, 'conv'));
      expect(ours.shape).toEqual(ref.shape);
      expect(maxAbsDiff(ours.data, ref.data)).toBeLessThan(TOL);
    });
  }

  it('a symmetric pad would be wrong: the test can tell', async () => {
    // Same case as "8x8, stride 2, SAME" but with pads 1/1 forced: the outputs must differ from TF.
    const x = randomFloats(8 * 8 * 3, 1);
    const f = randomFloats(3 * 3 * 3 * 4, 2);
    const ref = tfRun(() => tf.conv2d(tf.tensor4d(x, [1, 8, 8, 3]), tf.tensor4d(f, [3, 3, 3, 4]), 2, 'same'));
    const wrong = await runEmitter(x, [1, 8, 8, 3], (b, v) => conv2d(b, v, f, [3, 3, 3, 4], { strides: [2, 2], padding: [1, 1, 1, 1] }, 'conv'));
    expect(maxAbsDiff(wrong.data, ref.data)).toBeGreaterThan(0.1);
  });
});

describe('depthwiseConv2d vs tf.depthwiseConv2d ([H,W,C,M] -> [C*M,1,H,W], group C)', () => {
  for (const { size, stride, m } of [
    { size: 8, stride: 2, m: 1 },
    { size: 7, stride: 2, m: 2 },
    { size: 6, stride: 1, m: 3 },
  ]) {
    it(`${size}x${size}, stride ${stride}, channel multiplier ${m}`, async () => {
      const c = 4;
      const x = randomFloats(2 * size * size * c, size + m);
      const f = randomFloats(3 * 3 * c * m, 11 + m);
      const ref = tfRun(() => tf.depthwiseConv2d(tf.tensor4d(x, [2, size, size, c]), tf.tensor4d(f, [3, 3, c, m]), stride, 'same'));
      const ours = await runEmitter(x, [2, size, size, c], (b, v) => depthwiseConv2d(b, v, f, [3, 3, c, m], { strides: [stride, stride], padding: 'SAME' }, 'dw'));
      expect(ours.shape).toEqual(ref.shape);
      expect(maxAbsDiff(ours.data, ref.data)).toBeLessThan(TOL);
    });
  }
});

describe('pooling vs tf.maxPool / tf.avgPool', () => {
  for (const { size, k, stride, padding } of [
    { size: 8, k: 3, stride: 2, padding: 'SAME' as const },
    { size: 7, k: 3, stride: 2, padding: 'SAME' as const }, // SAME average must not count the padding
    { size: 72, k: 3, stride: 2, padding: 'VALID' as const }, // dlib stem: 72 -> 35
    { size: 35, k: 2, stride: 2, padding: 'VALID' as const }, // dlib shortcut: 35 -> 17
  ]) {
    it(`${size}x${size}, ${k}x${k}/${stride} ${padding}`, async () => {
      const x = randomFloats(size * size * 3, size * 3 + k);
      const t = () => tf.tensor4d(x, [1, size, size, 3]);
      const pad = padding === 'SAME' ? 'same' : 'valid';
      const refMax = tfRun(() => tf.maxPool(t(), k, stride, pad));
      const refAvg = tfRun(() => tf.avgPool(t(), k, stride, pad));
      const max = await runEmitter(x, [1, size, size, 3], (b, v) => maxPool(b, v, [k, k], [stride, stride], padding, 'max'));
      const avg = await runEmitter(x, [1, size, size, 3], (b, v) => avgPool(b, v, [k, k], [stride, stride], padding, 'avg'));
      expect(max.shape).toEqual(refMax.shape);
      expect(maxAbsDiff(max.data, refMax.data)).toBeLessThan(TOL);
      expect(maxAbsDiff(avg.data, refAvg.data)).toBeLessThan(TOL);
    });
  }
});

describe('folding bias, scale layer and batch norm into the conv', () => {
  it('conv + bias, * scale + shift (face-api scale layer), then batch norm equals TF.js run step by step', async () => {
    const [h, w, cin, cout] = [9, 9, 3, 6];
    const x = randomFloats(h * w * cin, 21);
    const f = randomFloats(3 * 3 * cin * cout, 22);
    const bias = randomFloats(cout, 23);
    const scale = randomFloats(cout, 24).map((v) => 2 + v);
    const shift = randomFloats(cout, 25);
    const gamma = randomFloats(cout, 26).map((v) => 1 + 0.5 * v);
    const beta = randomFloats(cout, 27);
    const mean = randomFloats(cout, 28);
    const variance = randomFloats(cout, 29).map((v) => 0.5 + Math.abs(v));
    const eps = 1e-3;
    const ref = tfRun(() => {
      let y: tf.Tensor4D = tf.add(tf.conv2d(tf.tensor4d(x, [1, h, w, cin]), tf.tensor4d(f, [3, 3, cin, cout]), 1, 'same'), tf.tensor1d(bias));
      y = tf.add(tf.mul(y, tf.tensor1d(scale)), tf.tensor1d(shift));
      return tf.batchNorm(y, tf.tensor1d(mean), tf.tensor1d(variance), tf.tensor1d(beta), tf.tensor1d(gamma), eps);
    });
    const affine = composeAffine(
      composeAffine({ scale: new Float64Array(cout).fill(1), shift: Float64Array.from(bias) }, { scale: Float64Array.from(scale), shift: Float64Array.from(shift) }),
      batchNormAffine(gamma, beta, mean, variance, eps),
    );
    const ours = await runEmitter(x, [1, h, w, cin], (b, v) => conv2d(b, v, f, [3, 3, cin, cout], { strides: [1, 1], padding: 'SAME', affine }, 'conv'));
    expect(maxAbsDiff(ours.data, ref.data)).toBeLessThan(TOL);
  });
});

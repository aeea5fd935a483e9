/**
 * A small hand-written manifest in the format `npm run models` writes: two
 * recognizers (the fused pipeline's pair), a detector and a landmark model.
 * Tests take a fresh copy and damage one field.
 */
const hex = (digit: string) => digit.repeat(64);

const source = { package: 'some-package', version: '1.0.0', file: 'model/x.onnx', sha256: hex('a'), licence: 'MIT' };

export function manifestFixture() {
  return {
    schema: 1,
    builtAt: '2026-01-01T00:00:00.000Z',
    buildKey: 'extra keys are allowed',
    models: [
      {
        id: 'faceres',
        role: 'recognizer',
        title: 'FaceRes',
        version: '1',
        file: 'faceres.onnx',
        sha256: hex('1'),
        bytes: 1000,
        source,
        input: { name: 'input', shape: [-1, 3, 224, 224], layout: 'NCHW' },
        channelOrder: 'BGR',
        normalisation: { mean: [103.9, 116.8, 123.7], std: [1, 1, 1] },
        outputs: [
          { name: 'embedding', shape: [-1, 1024] },
          { name: 'patches', shape: [-1, 1024, 7, 7] },
        ],
        embedding: { output: 'embedding', dim: 1024 },
        patchGrids: [{ output: 'patches', h: 7, w: 7, c: 1024 }],
        alignmentTemplate: [
          [80, 100],
          [144, 100],
          [112, 130],
          [85, 160],
          [139, 160],
        ],
      },
      {
        id: 'mobilefacenet-arcface',
        role: 'recognizer',
        title: 'MobileFaceNet',
        version: '1',
        file: 'mobilefacenet-arcface.onnx',
        sha256: hex('2'),
        bytes: 2000,
        source,
        input: { name: 'input', shape: [-1, 3, 112, 112], layout: 'NCHW' },
        channelOrder: 'RGB',
        normalisation: { mean: [127, 127, 127], std: [128, 128, 128] },
        outputs: [
          { name: 'output', shape: [-1, 512] },
          { name: '507', shape: [-1, 512, 7, 7] },
        ],
        embedding: { output: 'output', dim: 512 },
        patchGrids: [
          { output: '507', h: 7, w: 7, c: 512 },
          { output: 'pooled', h: 4, w: 4, c: 512 },
        ],
      },
      {
        id: 'ultraface-detector',
        role: 'detector',
        title: 'Detector',
        version: '1',
        file: 'face-detector.onnx',
        sha256: hex('3'),
        bytes: 3000,
        source,
        input: { name: 'input', shape: [1, 3, 240, 320], layout: 'NCHW' },
        channelOrder: 'RGB',
        normalisation: { mean: [127, 127, 127], std: [128, 128, 128] },
        outputs: [{ name: 'boxes', shape: [1, 4420, 4] }],
      },
      {
        id: 'pfld-landmarks68',
        role: 'landmarks',
        title: 'Landmarks',
        version: '1',
        file: 'face-landmarks68.onnx',
        sha256: hex('4'),
        bytes: 4000,
        source,
        input: { name: 'input', shape: [1, 1, 64, 64], layout: 'NCHW' },
        channelOrder: 'GRAY',
        normalisation: { mean: [0], std: [256] },
        outputs: [{ name: 'landmarks', shape: [1, 136] }],
      },
    ],
  };
}

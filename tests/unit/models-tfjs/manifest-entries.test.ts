/**
 * The two converted recognizers' manifest entries describe their ONNX
 * graphs: input/output names and shapes as declared in the graph, patch
 * grids listed (dlib: 8x8x128 before 4x4x256), five-point templates inside
 * the crop, and pinned sources.
 */
import { describe, expect, it } from 'vitest';
import onnxProto from 'onnx-proto';
import { buildDlibResnet } from '../../../scripts/models/tfjs/buildDlibResnet.ts';
import { buildFaceres } from '../../../scripts/models/tfjs/buildFaceres.ts';
import { arcFaceTemplateIn } from '../../../scripts/models/tfjs/templates.ts';
import { ARCFACE_112_TEMPLATE } from '../../../scripts/models/faceplugin.ts';
import { hasRecognizerOutputs } from '../../../src/models/manifestSchema.ts';
import { required } from '../../support/required.ts';

function graphSignature(bytes: Uint8Array): Record<string, number[]> {
  const g = required(onnxProto.onnx.ModelProto.decode(bytes).graph, 'the graph of the built model');
  const sig: Record<string, number[]> = {};
  for (const v of [...(g.input ?? []), ...(g.output ?? [])]) {
    const name = required(v.name, 'the name of a graph input or output');
    const shape = required(v.type?.tensorType?.shape, `the tensor shape of graph value ${name}`);
    sig[name] = (shape.dim ?? []).map((d) => (d.dimParam ? -1 : Number(d.dimValue)));
  }
  return sig;
}

describe.each([
  ['dlib-resnet', buildDlibResnet, 150],
  ['faceres', buildFaceres, 224],
] as const)('%s manifest entry', (id, build, size) => {
  const { entry, bytes } = build();
  const sig = graphSignature(bytes);

  it('names the graph input and outputs with their shapes, batch dynamic', () => {
    expect(entry.id).toBe(id);
    expect(entry.role).toBe('recognizer');
    expect(sig[entry.input.name]).toEqual([-1, 3, size, size]);
    expect(entry.input.shape).toEqual([-1, 3, size, size]);
    for (const o of entry.outputs) expect(sig[o.name]).toEqual([...o.shape]);
    expect(Object.keys(sig).sort()).toEqual([entry.input.name, ...entry.outputs.map((o) => o.name)].sort());
  });

  it('embedding and patch grids point at outputs of the right size', () => {
    if (!hasRecognizerOutputs(entry)) throw new Error(`${id} has no embedding or no patch grid`);
    expect(entry.outputs.find((o) => o.name === entry.embedding.output)?.shape).toEqual([-1, entry.embedding.dim]);
    for (const p of entry.patchGrids) expect(sig[p.output]).toEqual([-1, p.c, p.h, p.w]);
  });

  it('has a five-point template inside the crop and three normalisation values', () => {
    expect(entry.alignmentTemplate).toHaveLength(5);
    for (const [x, y] of entry.alignmentTemplate ?? []) {
      expect(x).toBeGreaterThan(0);
      expect(x).toBeLessThan(size);
      expect(y).toBeGreaterThan(0);
      expect(y).toBeLessThan(size);
    }
    expect(entry.normalisation.mean).toHaveLength(3);
    expect(entry.normalisation.std).toHaveLength(3);
    expect(entry.source.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

describe('dlib-resnet patch grids', () => {
  it('lists 8x8x128 first, then 4x4x256', () => {
    expect(buildDlibResnet().entry.patchGrids?.map((p) => [p.h, p.w, p.c])).toEqual([
      [8, 8, 128],
      [4, 4, 256],
    ]);
  });
});

describe('arcFaceTemplateIn', () => {
  it('is the ArcFace template itself at 112 / 112 / 0, and scales about the crop centre', () => {
    expect(arcFaceTemplateIn(112, 112, 0).map((p) => [...p])).toEqual(ARCFACE_112_TEMPLATE.map((p) => [...p]));
    const t = arcFaceTemplateIn(224, 224, 0);
    t.forEach(([x, y], i) => {
      expect(x).toBeCloseTo(ARCFACE_112_TEMPLATE[i][0] * 2, 3);
      expect(y).toBeCloseTo(ARCFACE_112_TEMPLATE[i][1] * 2, 3);
    });
    const shifted = arcFaceTemplateIn(150, 112, -10);
    expect(shifted[0][1]).toBeCloseTo(ARCFACE_112_TEMPLATE[0][1] + 19 - 10, 3);
  });
});

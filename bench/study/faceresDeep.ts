/**
 * Issue 13's fourth-recognizer direction, measured: Human's `faceres-deep`
 * (same MobileNet layout as `faceres`, 224 px, float32 weights, 1024-D
 * `global_pooling/Mean` of the 7x7x1024 map), converted by the project's
 * TF.js converter and compared with FaceRes on the same aligned faces.
 *
 * `npx tsx bench/study/faceresDeep.ts --part 0/2` (and 1/2) embeds every
 * image of the identities in cross-validation fold 0 (tables.ts's
 * identityFold) with faceres-deep, for each query variant, drawn exactly as
 * dump.ts drew them (same seeds), into .cache/study/deep-{part}.json;
 * `npx tsx bench/study/faceresDeep.ts --report` then prints leave-one-out
 * P@1 on that subset for faceres-deep and for FaceRes (the dump's features
 * of the same faces), gallery = the subset's undamaged faces.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-web';
import type { ModelSource } from '../../src/models/manifest.ts';
import { applyOod } from '../../src/face/ood.ts';
import { Recognizer } from '../../src/face/recognizer.ts';
import { unitEmbedding } from '../../src/engine/vectors.ts';
import { FACERES_INPUT_SIZE, FACERES_OUTPUTS, FACERES_TF_TENSORS, buildFaceres } from '../../scripts/models/tfjs/buildFaceres.ts';
import { convertGraphModel } from '../../scripts/models/tfjs/graphModelConverter.ts';
import type { TfGraphModelJson } from '../../scripts/models/tfjs/tfGraph.ts';
import { readJsonSource, readPinnedWeights } from '../../scripts/models/tfjs/tfjsFiles.ts';
import { HUMAN_MODELS } from '../../scripts/models/tfjs/tfjsSources.ts';
import { decodeImageNode } from '../../tests/unit/face/helpers/decodeNode.ts';
import { dataPath } from '../../tests/unit/face/helpers/data.ts';
import { createPipeline } from '../../tests/unit/face/helpers/models.ts';
import { readMeta, readVariant } from './features.ts';
import { cosineMatrix, studySetup } from './setup.ts';
import { STUDY_DIR, VARIANTS } from './shared.ts';
import { identityFold } from './tables.ts';

const DEEP_GRAPH: ModelSource = { ...HUMAN_MODELS, file: 'models/faceres-deep.json', sha256: 'a98d8d87d533afeb6064822d33c80d45c5eaca4a436cef11c9c2084fff0c0dfe' };
const DEEP_WEIGHTS: ModelSource = { ...HUMAN_MODELS, file: 'models/faceres-deep.bin', sha256: 'b0ea2cc4805891a0f22dc57b06b57806b967831305c40818400fda40aec341f4' };

function buildDeep(): Uint8Array {
  const graph = readJsonSource<TfGraphModelJson>(DEEP_GRAPH);
  const weights = readPinnedWeights(graph.weightsManifest, { 'faceres-deep.bin': DEEP_WEIGHTS });
  const s = FACERES_INPUT_SIZE;
  const converted = convertGraphModel({
    name: 'faceres-deep',
    graph,
    weights,
    input: { tfName: FACERES_TF_TENSORS.input, onnxName: 'input', height: s, width: s, channels: 3 },
    outputs: [
      { tfName: FACERES_TF_TENSORS.embedding, onnxName: FACERES_OUTPUTS.embedding },
      { tfName: FACERES_TF_TENSORS.patches, onnxName: FACERES_OUTPUTS.patches },
    ],
  });
  if (converted.outputShapes[FACERES_OUTPUTS.embedding]?.join(',') !== '-1,1024') throw new Error(`faceres-deep: embedding shape ${converted.outputShapes[FACERES_OUTPUTS.embedding]}`);
  return converted.bytes;
}

/** Dump rows (meta.json indices) of the fold-0 identities' gallery images. */
function subsetRows(): number[] {
  const s = studySetup();
  return s.galleryRows.filter((_, p) => identityFold(s.labels[p]) === 0);
}

async function embedPart(part: number, parts: number): Promise<void> {
  const meta = readMeta();
  const rows = subsetRows().filter((_, i) => i % parts === part);
  const setup = await createPipeline('faceres');
  ort.env.wasm.numThreads = 1;
  const bytes = buildDeep();
  const deepEntry = { ...buildFaceres().entry, id: 'faceres-deep', file: 'faceres-deep.onnx', sha256: DEEP_WEIGHTS.sha256, bytes: bytes.length };
  const deep = new Recognizer(await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }), deepEntry);
  const out: { row: number; emb: number[][] }[] = [];
  const t0 = Date.now();
  for (const row of rows) {
    const name = meta.images[row].name;
    const image = decodeImageNode(readFileSync(dataPath('lfw-dev', name)), name);
    const a = await setup.pipeline.analyse(image, name);
    const faces = VARIANTS.map((v, i) => applyOod(v, a, row * 4 + i + 1));
    const f = await deep.embed(faces.map((x) => x.aligned));
    out.push({ row, emb: f.map((x) => Array.from(x.embedding)) });
    if (out.length % 20 === 0) process.stderr.write(`\r${out.length}/${rows.length} ${((Date.now() - t0) / 1000).toFixed(0)} s  `);
  }
  writeFileSync(join(STUDY_DIR, `deep-${part}.json`), JSON.stringify(out));
}

function report(): void {
  const s = studySetup();
  const byRow = new Map<number, number[][]>();
  for (let part = 0; existsSync(join(STUDY_DIR, `deep-${part}.json`)); part++) {
    for (const r of JSON.parse(readFileSync(join(STUDY_DIR, `deep-${part}.json`), 'utf8')) as { row: number; emb: number[][] }[]) byRow.set(r.row, r.emb);
  }
  const rows = subsetRows().filter((r) => byRow.has(r));
  const labels = rows.map((r) => s.labels[s.galleryRows.indexOf(r)]);
  const count = new Map<string, number>();
  for (const l of labels) count.set(l, (count.get(l) ?? 0) + 1);
  const queries = rows.map((_, i) => i).filter((i) => (count.get(labels[i]) ?? 0) >= 2);
  const deepOf = (vi: number) => {
    const m = new Float32Array(rows.length * 1024);
    rows.forEach((r, i) => m.set(unitEmbedding(Float32Array.from(byRow.get(r)?.[vi] ?? []), 'faceres-deep'), i * 1024));
    return m;
  };
  const p1 = (q: Float32Array, g: Float32Array) => {
    const cm = cosineMatrix(q, g, 1024);
    let hit = 0;
    for (const i of queries) {
      let best = -Infinity;
      let bj = -1;
      for (let j = 0; j < rows.length; j++) if (j !== i && cm[i * rows.length + j] > best) [best, bj] = [cm[i * rows.length + j], j];
      if (labels[bj] === labels[i]) hit++;
    }
    return ((100 * hit) / queries.length).toFixed(2);
  };
  const deepGallery = deepOf(0);
  const frGallery = readVariant('none', rows, false).fr.emb;
  process.stdout.write(`fold-0 subset: ${rows.length} faces, ${queries.length} queries (stage-1 P@1, leave-one-out)\n`);
  VARIANTS.forEach((v, vi) => {
    const frQ = readVariant(v, rows, false).fr.emb;
    process.stdout.write(`${v.padEnd(11)} FaceRes ${p1(frQ, frGallery)}  faceres-deep ${p1(deepOf(vi), deepGallery)}\n`);
  });
}

/** The converted graph against TF.js running the package's own files, on real faces. */
async function parity(): Promise<void> {
  const tf = await import('@tensorflow/tfjs-core');
  const { loadGraphModelFromMemory } = await import('../../tests/unit/models-tfjs/helpers/tfjsGraphModel.ts');
  const { loadRealFaces, toNchwNormalised } = await import('../../tests/unit/models-tfjs/helpers/realFaces.ts');
  const { runOnnx } = await import('../../tests/unit/models-tfjs/helpers/onnxRun.ts');
  const { maxAbs, maxAbsDiff, nchwToNhwc } = await import('../../tests/unit/models-tfjs/helpers/compare.ts');
  const S = FACERES_INPUT_SIZE;
  const faces = loadRealFaces(S, 4);
  const { mean, std } = buildFaceres().entry.normalisation;
  const nchw = toNchwNormalised(faces, mean, std, 'BGR');
  const onnx = await runOnnx(buildDeep(), { input: { data: nchw, dims: [faces.length, 3, S, S] } });
  const files = readJsonSource<Parameters<typeof loadGraphModelFromMemory>[0]>(DEEP_GRAPH);
  const { readSource } = await import('../../scripts/models/sources.ts');
  const model = await loadGraphModelFromMemory(files, readSource(DEEP_WEIGHTS));
  const x = tf.tensor4d(nchwToNhwc(nchw, [faces.length, 3, S, S]), [faces.length, S, S, 3]);
  const e = model.execute(x, FACERES_TF_TENSORS.embedding) as import('@tensorflow/tfjs-core').Tensor;
  const ref = e.dataSync() as Float32Array;
  process.stdout.write(`faceres-deep embedding: max |ONNX - TF.js| ${maxAbsDiff(onnx[FACERES_OUTPUTS.embedding].data, ref).toExponential(2)}, max |value| ${maxAbs(ref).toFixed(3)}\n`);
}

const args = process.argv;
if (args[1]?.endsWith('faceresDeep.ts')) {
  if (args.includes('--report')) report();
  else if (args.includes('--parity')) await parity();
  else {
    const i = args.indexOf('--part');
    const [part, parts] = (i > 0 ? args[i + 1] : '0/1').split('/').map(Number);
    await embedPart(part, parts);
  }
}

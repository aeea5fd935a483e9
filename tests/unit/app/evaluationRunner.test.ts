import { describe, expect, it } from 'vitest';
import { EvaluationRunner, evenlySpaced } from '../../../src/app/evaluationRunner.ts';
import { GalleryService } from '../../../src/app/galleryService.ts';
import { faceKey, type StoredFace } from '../../../src/app/storedFace.ts';
import { DEFAULT_SETTINGS, type RerankSettings } from '../../../src/core/types.ts';
import { featureCount } from '../../../src/engine/damageDetector.ts';
import { fuseEmbeddings } from '../../../src/face/fusedRecognizer.ts';
import { CHANNELS, EMBED_DIM, FakeExtractor, GRID, MemoryStorage, syntheticEmbedding, syntheticFeatures } from '../../support/appPorts.ts';
import { required } from '../../support/required.ts';

const MODEL = 'test@v1';
/** Ann and Dan share an embedding axis (see tests/support/appPorts.ts), so some of their queries go wrong. */
const PEOPLE: [string, number][] = [
  ['Ann', 4],
  ['Bob', 3],
  ['Cid', 2],
  ['Dan', 1],
  ['Eve', 3],
];

function stored(identity: string, variant: number): StoredFace {
  const f = syntheticFeatures(identity, variant);
  return {
    key: faceKey(MODEL, `${identity}-${variant}`),
    modelKey: MODEL,
    contentHash: `${identity}-${variant}`,
    label: identity,
    fileName: `${identity}/${identity}_${variant}.jpg`,
    addedAt: 1,
    embedding: f.embedding,
    patches: f.patches,
    landmarks68: new Float32Array(136),
    cropSize: f.cropSize,
    thumbnail: new Blob([`aligned:${identity}:${variant}:none`]),
  };
}

async function setup() {
  const storage = new MemoryStorage();
  const faces = PEOPLE.flatMap(([name, n]) => Array.from({ length: n }, (_, v) => stored(name, v)));
  for (const f of faces) await storage.put(f);
  const gallery = new GalleryService(storage, MODEL, { accelerator: null });
  await gallery.load();
  const extractor = new FakeExtractor();
  return { faces, gallery, extractor, runner: new EvaluationRunner(gallery, extractor) };
}

/** Leave-one-out by brute-force float64 cosine, written from the metrics' definitions. */
function bruteForce(faces: readonly StoredFace[]) {
  const cos = (a: Float32Array, b: Float32Array) => {
    let d = 0,
      na = 0,
      nb = 0;
    for (let i = 0; i < a.length; i++) ((d += a[i] * b[i]), (na += a[i] * a[i]), (nb += b[i] * b[i]));
    return d / Math.sqrt(na * nb);
  };
  const queries = faces.filter((q) => faces.some((g) => g !== q && g.label === q.label)).sort((a, b) => a.fileName.localeCompare(b.fileName));
  let p1 = 0,
    mapr = 0;
  const rankings = queries.map((q) => {
    const ranked = faces
      .filter((g) => g !== q)
      .map((g) => ({ label: g.label, s: cos(q.embedding, g.embedding) }))
      .sort((a, b) => b.s - a.s)
      .map((g) => g.label);
    const r = faces.filter((g) => g !== q && g.label === q.label).length;
    p1 += ranked[0] === q.label ? 1 : 0;
    let hits = 0,
      ap = 0;
    for (let i = 0; i < r; i++) if (ranked[i] === q.label) ap += ++hits / (i + 1);
    mapr += ap / r;
    return { query: q.fileName, ranked };
  });
  return { n: queries.length, p1: p1 / queries.length, mapr: mapr / queries.length, rankings };
}

const fixedAlpha = (alpha: number): RerankSettings => ({ ...DEFAULT_SETTINGS, k: 5, alpha, adaptiveAlpha: null });

describe('EvaluationRunner (leave-one-out)', () => {
  it('stage 1 equals a brute-force leave-one-out, queries only with a second image, the query never in its own list', async () => {
    const { faces, runner } = await setup();
    const report = await runner.run({ ood: 'none', settings: fixedAlpha(0), seed: 1, withRankings: true });
    const expected = bruteForce(faces);
    expect(expected.p1).toBeLessThan(1); // the data has mistakes to find
    expect(report.n_queries).toBe(expected.n);
    expect(report.gallery_size).toBe(faces.length);
    expect(report.stage1.p1).toBeCloseTo(100 * expected.p1, 8); // reports are in percent
    expect(report.stage1.mapr).toBeCloseTo(100 * expected.mapr, 8);
    expect(report.rankings?.map((r) => r.query)).toEqual(expected.rankings.map((r) => r.query));
    for (const [i, r] of (report.rankings ?? []).entries()) expect(r.stage1.slice(0, 5)).toEqual(expected.rankings[i].ranked.slice(0, 5));
    // alpha 0 is s_cos alone: stage 2 ranks as stage 1.
    expect(report.stage2).toEqual(report.stage1);
    expect(report.alpha_sweep.map((a) => a.alpha)).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(report.cancelled).toBe(false);
  });

  it('a limit takes evenly spaced queries; variants reuse each query’s features', async () => {
    const { runner, extractor } = await setup();
    const report = await runner.run({ ood: 'mask', settings: fixedAlpha(0), seed: 7, limit: 4, extraSettings: [fixedAlpha(1)] });
    expect(report.n_queries).toBe(4);
    expect(report.variants?.map((v) => v.alpha)).toEqual([1]);
    expect(report.variants?.[0].n_queries).toBe(4);
    // One transformed query per evaluated image, seeded seed + query index, shared by both variants.
    expect(extractor.embedCalls).toEqual([0, 1, 2, 3].map((i) => ({ ood: 'mask', seed: 7 + i })));
  });

  it('cancel stops after the current query and says so', async () => {
    const { runner } = await setup();
    const report = await runner.run({ ood: 'none', settings: fixedAlpha(0.7), seed: 1 }, (p) => {
      if (p.done === 1) runner.cancel();
    });
    expect(report.cancelled).toBe(true);
    expect(report.n_queries).toBe(1);
  });

  it("a fused gallery's rule re-weighs the two cosines of each query the detector reads as damaged, as a search does", async () => {
    // Each face's vector is fused from two "recognizers": the synthetic embedding (secondary, 8-D) and a differently drifting one (primary).
    const layout = { secondaryDims: EMBED_DIM, secondaryWeight: 0.4 };
    const sec = (name: string, v: number) => syntheticEmbedding(name, v);
    const pri = (name: string, v: number) => syntheticEmbedding(name, 2 * v + 1).reverse();
    const storage = new MemoryStorage();
    const faces = PEOPLE.flatMap(([name, n]) => Array.from({ length: n }, (_, v) => ({ ...stored(name, v), embedding: fuseEmbeddings(sec(name, v), pri(name, v), Math.sqrt(0.4), Math.sqrt(0.6)) })));
    for (const f of faces) await storage.put(f);
    const D = featureCount(GRID * GRID);
    const weights = new Float64Array(4 * (D + 1));
    weights[2 * (D + 1) + D] = 5; // every map reads as masked
    const model = {
      positions: GRID * GRID,
      channels: CHANNELS,
      classMeans: new Float32Array(4 * GRID * GRID * CHANNELS),
      featureMean: new Float64Array(D),
      featureScale: new Float64Array(D).fill(1),
      weights,
      source: 'test',
    };
    const gallery = new GalleryService(storage, MODEL, { accelerator: null, damageDetector: { model }, fusedCosine: layout });
    await gallery.load();
    const runner = new EvaluationRunner(gallery, new FakeExtractor());
    // Alpha 0 for a masked query and all the cosine weight on the secondary: stage 2 orders the top k by the secondary's cosine alone.
    const rule = { threshold: 0, clean: 0, damaged: 0, byDamage: { none: 0, crop: 0, mask: 0, sunglasses: 0 }, secondaryCosineByDamage: { mask: 1 } };
    const report = await runner.run({ ood: 'none', settings: { ...DEFAULT_SETTINGS, k: 5, adaptiveAlpha: rule }, seed: 1, withRankings: true });
    const cos = (a: Float32Array, b: Float32Array) => a.reduce((t, x, i) => t + x * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
    const byFile = new Map(faces.map((f) => [f.fileName, f]));
    let changed = 0;
    for (const r of report.rankings ?? []) {
      const q = required(byFile.get(r.query), r.query);
      const [name, v] = [q.label, Number(/_(\d+)\.jpg$/.exec(q.fileName)?.[1])];
      const others = faces.filter((g) => g !== q);
      const fused = (g: StoredFace) => cos(q.embedding, g.embedding);
      const top = [...others].sort((a, b) => fused(b) - fused(a)).slice(0, 5);
      const secondaryOf = (g: StoredFace) => cos(sec(name, v), sec(g.label, Number(/_(\d+)\.jpg$/.exec(g.fileName)?.[1])));
      const expected = [...top].sort((a, b) => secondaryOf(b) - secondaryOf(a)).map((g) => g.label);
      expect(r.stage2.slice(0, 5)).toEqual(expected);
      if (expected.join() !== top.map((g) => g.label).join()) changed++;
    }
    expect(changed).toBeGreaterThan(0); // the re-weighing moved some query's list
    expect(report.damage_read).toEqual({ mask: report.n_queries });
  });

  it('evenlySpaced is deterministic and keeps the first item', () => {
    expect(evenlySpaced([0, 1, 2, 3, 4, 5, 6, 7, 8, 9], 4)).toEqual([0, 2, 5, 7]);
    expect(evenlySpaced([1, 2], 5)).toEqual([1, 2]);
    expect(evenlySpaced([1, 2, 3])).toEqual([1, 2, 3]);
  });
});

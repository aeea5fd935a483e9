import { describe, expect, it } from 'vitest';
import type { AppError } from '../../../src/core/errors.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { DEFAULT_SETTINGS, type FaceFeatures, type RerankSettings } from '../../../src/core/types.ts';
import { featureCount, type DamageDetectorModel } from '../../../src/engine/damageDetector.ts';
import { SearchEngine } from '../../../src/engine/searchEngine.ts';
import { fuseEmbeddings } from '../../../src/face/fusedRecognizer.ts';
import { CpuStage2Scorer, type Stage2Accelerator } from '../../../src/engine/stage2Batch.ts';
import { authorsSinkhorn, directPool } from './references.ts';
import { syntheticFace, syntheticIdentity } from './syntheticFaces.ts';
import { required } from '../../support/required.ts';

const shape = { h: 7, w: 7, c: 16, dim: 16 };
// A fixed alpha unless a test sets the adaptive rule (the default preset's is checked in its own test).
const settings = (over: Partial<RerankSettings> = {}): RerankSettings => ({ ...DEFAULT_SETTINGS, k: 10, backend: 'cpu', adaptiveAlpha: null, ...over });

function buildGallery(seed = 1, identities = 8, perIdentity = 3) {
  const rand = seededRandom(seed);
  const bases = Array.from({ length: identities }, () => syntheticIdentity(rand, shape));
  const items = bases.flatMap((b, id) => Array.from({ length: perIdentity }, (_, t) => ({ id: `p${id}_${t}`, label: `person${id}`, features: syntheticFace(rand, shape, b) })));
  const query = syntheticFace(rand, shape, bases[2]);
  return { items, query, bases, rand };
}

/** Independent s_emd for APC weights and the reference loop: float64 everywhere, written from the method doc. */
function independentApcReference(q: FaceFeatures, g: FaceFeatures, grid: number): number {
  const c = q.patches.c;
  const n = grid * grid;
  const unitRows = (x: Float64Array) => {
    const out = new Float64Array(x.length);
    for (let i = 0; i < x.length / c; i++) {
      const norm = Math.hypot(...x.subarray(i * c, (i + 1) * c));
      for (let t = 0; t < c; t++) out[i * c + t] = x[i * c + t] / Math.max(norm, 1e-12);
    }
    return out;
  };
  const meanUnit = (f: FaceFeatures) => {
    const hw = f.patches.h * f.patches.w;
    const m = new Float64Array(c);
    for (let p = 0; p < hw; p++) for (let t = 0; t < c; t++) m[t] += f.patches.data[p * c + t] / hw;
    return unitRows(m);
  };
  const qg = unitRows(directPool(q.patches.data, q.patches.h, q.patches.w, c, grid));
  const gg = unitRows(directPool(g.patches.data, g.patches.h, g.patches.w, c, grid));
  const dot = (a: Float64Array, i: number, b: Float64Array, j: number) => {
    let s = 0;
    for (let t = 0; t < c; t++) s += a[i * c + t] * b[j * c + t];
    return s;
  };
  const weights = (own: Float64Array, partner: Float64Array) => {
    const raw = Array.from({ length: n }, (_, i) => Math.max(0, dot(own, i, partner, 0)));
    const sum = raw.reduce((a, b) => a + b, 0);
    return raw.map((x) => x / (sum + 1e-7));
  };
  const u = weights(qg, meanUnit(g));
  const v = weights(gg, meanUnit(q));
  // The authors' orientation: row = gallery patch, their u = gallery weights, v = query weights.
  // (This used to pass the query on the rows, the transposed problem the old reference mode solved.)
  const d = Array.from({ length: n * n }, (_, x) => 1 - dot(gg, Math.floor(x / n), qg, x % n));
  return authorsSinkhorn(d, n, v, u, 0.05).sim;
}

function errorCode(f: () => unknown): Promise<string> {
  return Promise.resolve()
    .then(f)
    .then(
      () => 'no error',
      (e) => (e as AppError).code,
    );
}

describe('SearchEngine', () => {
  it('stage 1 + stage 2 (APC, reference) agree with independent float64 computations, native and pooled grids', async () => {
    const { items, query } = buildGallery();
    const engine = new SearchEngine({ accelerator: null });
    engine.add(items);
    expect(engine.size).toBe(24);
    for (const grid of [7, 4]) {
      const r = await engine.search(query, settings({ grid }));
      expect(r.backendUsed).toBe('cpu');
      expect(r.stage2).toHaveLength(10);
      for (const hit of r.stage2) {
        const g = required(
          items.find((i) => i.id === hit.id),
          `gallery item ${hit.id}`,
        ).features;
        expect(Math.abs(hit.sEmd - independentApcReference(query, g, grid))).toBeLessThan(1e-5);
        expect(hit.score).toBeCloseTo(0.7 * hit.sEmd + 0.3 * hit.sCos, 12);
      }
      // Sorted by the blend, ranks 1..k after, ranks before = stage-1 ranks.
      for (let i = 1; i < r.stage2.length; i++) expect(r.stage2[i - 1].score).toBeGreaterThanOrEqual(r.stage2[i].score);
      expect(r.stage2.map((h) => h.rankAfter)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
      for (const h of r.stage2) expect(r.stage1[h.rankBefore - 1].id).toBe(h.id);
    }
  });

  it('stage-1 list is the exact cosine ranking, longer than k on request; ranks after k stay', async () => {
    const { items, query } = buildGallery(2);
    const engine = new SearchEngine({ accelerator: null });
    engine.add(items);
    const r = await engine.search(query, settings({ k: 5 }), { stage1Length: 24 });
    const unit = (v: Float32Array) => Array.from(v, (x) => x / Math.hypot(...v));
    const qe = unit(query.embedding);
    const want = items.map((it, idx) => ({ id: it.id, idx, s: unit(it.features.embedding).reduce((a, x, t) => a + x * qe[t], 0) })).sort((a, b) => b.s - a.s || a.idx - b.idx);
    expect(r.stage1.map((h) => h.id)).toEqual(want.map((w) => w.id));
    expect(r.stage2).toHaveLength(5);
    expect(new Set(r.stage2.map((h) => h.id))).toEqual(new Set(want.slice(0, 5).map((w) => w.id)));
  });

  it('reblend(alpha) re-blends cached scores, giving what a fresh search with that alpha gives', async () => {
    const { items, query } = buildGallery(3);
    // A counting accelerator (answering with the CPU scorer) shows reblend runs no Sinkhorn.
    const cpu = new CpuStage2Scorer();
    let batches = 0;
    const counting: Stage2Accelerator = { name: 'webgpu', ready: async () => null, scoreBatch: async (b) => (batches++, cpu.scoreBatch(b)) };
    const engine = new SearchEngine({ accelerator: counting });
    engine.add(items);
    await engine.search(query, settings({ alpha: 0.7, backend: 'webgpu' }));
    for (const alpha of [0, 0.3, 1, 'sum'] as const) {
      const before = batches;
      const re = engine.reblend(alpha);
      expect(batches).toBe(before);
      expect(re.backendUsed).toBe('webgpu');
      const again = await engine.search(query, settings({ alpha, backend: 'webgpu' }));
      expect(re.stage2.map((h) => [h.id, h.score])).toEqual(again.stage2.map((h) => [h.id, h.score]));
      expect(re.alpha).toBe(alpha);
    }
  });

  it('searches started together (an accelerator that awaits) each get the scores they get alone', async () => {
    const { items, query, bases, rand } = buildGallery(5);
    const other = syntheticFace(rand, shape, bases[5]);
    const cpu = new CpuStage2Scorer();
    // Reads the batch only after a pause, as the GPU path does after awaiting its device.
    const slow: Stage2Accelerator = { name: 'webgpu', ready: async () => null, scoreBatch: async (b) => (await new Promise((r) => setTimeout(r, 5)), cpu.scoreBatch(b)) };
    const engine = new SearchEngine({ accelerator: slow });
    engine.add(items);
    const s = settings({ alpha: 1, backend: 'webgpu' });
    const alone = [await engine.search(query, s), await engine.search(other, s)];
    const together = await Promise.all([engine.search(query, s), engine.search(other, s)]);
    together.forEach((r, i) => expect(r.stage2.map((h) => [h.id, h.sEmd])).toEqual(alone[i].stage2.map((h) => [h.id, h.sEmd])));
  });

  it("an adaptive alpha rule picks each query's alpha from its stage-1 top-1 and ranks as that fixed alpha would", async () => {
    const { items, query } = buildGallery(5);
    const engine = new SearchEngine({ accelerator: null });
    engine.add(items);
    const plain = await engine.search(query, settings({ alpha: 0.3 }));
    const top1 = plain.stage1[0].score;
    for (const [threshold, expected] of [
      [top1 - 1e-6, 0.1],
      [top1 + 1e-6, 0.9],
    ] as const) {
      const rule = { threshold, clean: 0.1, damaged: 0.9 };
      const r = await engine.search(query, settings({ alpha: 0.3, adaptiveAlpha: rule }));
      expect(r.alpha).toBe(expected);
      expect(r.alphaReason).toMatch(expected === 0.1 ? /clean/ : /damaged/);
      const fixed = await engine.search(query, settings({ alpha: expected }));
      expect(r.stage2.map((h) => [h.id, h.score])).toEqual(fixed.stage2.map((h) => [h.id, h.score]));
      expect(fixed.alphaReason).toBe('');
    }
  });

  it('a rule by damage kind takes the alpha of what the detector reads in the query, and says so; a detector that cannot read the map falls back to the score rule', async () => {
    const { items, query } = buildGallery(6);
    // Zero weights and a bias of 5 for "mask": every map reads as masked with p = e^5 / (e^5 + 3).
    const model = (channels: number): DamageDetectorModel => {
      const D = featureCount(49);
      const weights = new Float64Array(4 * (D + 1));
      weights[2 * (D + 1) + D] = 5;
      return { positions: 49, channels, classMeans: new Float32Array(4 * 49 * channels), featureMean: new Float64Array(D), featureScale: new Float64Array(D).fill(1), weights, source: 'test' };
    };
    const rule = { threshold: -1, clean: 0.1, damaged: 0.9, byDamage: { none: 0, crop: 0.8, mask: 0.4, sunglasses: 0.2 } };
    const engine = new SearchEngine({ accelerator: null, damageDetector: { model: model(shape.c) } });
    engine.add(items);
    const r = await engine.search(query, settings({ adaptiveAlpha: rule }));
    expect(r.alpha).toBe(0.4);
    const p = Math.exp(5) / (Math.exp(5) + 3);
    expect(r.damage).toEqual({ kind: 'mask', probability: expect.closeTo(p, 12) as number });
    expect(r.alphaReason).toContain(`masked (p ${p.toFixed(2)})`);
    const fixed = await engine.search(query, settings({ alpha: 0.4 }));
    expect(r.stage2.map((h) => [h.id, h.score])).toEqual(fixed.stage2.map((h) => [h.id, h.score]));

    const wrongShape = new SearchEngine({ accelerator: null, damageDetector: { model: model(32) } });
    wrongShape.add(items);
    const w = await wrongShape.search(query, settings({ adaptiveAlpha: rule }));
    expect(w.alpha).toBe(0.1);
    expect(w.alphaReason).toMatch(/reads 49 patches of 32 channels, this recognizer gives 7x7x16; top-1 stage-1 score/);
    const none = new SearchEngine({ accelerator: null, damageDetector: { unavailable: 'the damage detector did not load (HTTP 404)' } });
    none.add(items);
    expect((await none.search(query, settings({ adaptiveAlpha: rule }))).alphaReason).toMatch(/^the damage detector did not load \(HTTP 404\); /);
  });

  it("a fused pipeline's rule re-weighs its two cosines in stage 2 (float64 from the recognizers' own embeddings); stage 1 keeps the pipeline's weighting", async () => {
    const { items, query, rand } = buildGallery(8);
    const layout = { secondaryDims: 6, secondaryWeight: 0.4 };
    // Each face gets a secondary (6-D) and primary (10-D) embedding of its own; the engine sees only the fused 16-D vector.
    const own = new Map<string, { s: Float64Array; p: Float64Array }>();
    const fuse = (key: string, f: FaceFeatures): FaceFeatures => {
      const s = Float64Array.from({ length: 6 }, () => rand() - 0.5);
      const p = Float64Array.from({ length: 10 }, () => rand() - 0.5);
      own.set(key, { s, p });
      return { ...f, embedding: fuseEmbeddings(Float32Array.from(s), Float32Array.from(p), Math.sqrt(0.4), Math.sqrt(0.6)) };
    };
    const fusedItems = items.map((it) => ({ ...it, features: fuse(it.id, it.features) }));
    const fusedQuery = fuse('query', query);
    const cos = (a: Float64Array, b: Float64Array) => a.reduce((t, x, i) => t + x * b[i], 0) / Math.hypot(...a) / Math.hypot(...b);
    const q = required(own.get('query'), 'query');
    const cosS = (id: string) => cos(q.s, required(own.get(id), id).s);
    const cosP = (id: string) => cos(q.p, required(own.get(id), id).p);
    const model: DamageDetectorModel = (() => {
      const D = featureCount(49);
      const weights = new Float64Array(4 * (D + 1));
      weights[2 * (D + 1) + D] = 5; // every map reads as masked
      return { positions: 49, channels: shape.c, classMeans: new Float32Array(4 * 49 * shape.c), featureMean: new Float64Array(D), featureScale: new Float64Array(D).fill(1), weights, source: 'test' };
    })();
    const rule = { threshold: -1, clean: 0, damaged: 0.9, byDamage: { none: 0, crop: 0.8, mask: 0.6, sunglasses: 0.2 }, secondaryCosineByDamage: { mask: 0.8 } };
    const engine = new SearchEngine({ accelerator: null, damageDetector: { model }, fusedCosine: layout });
    engine.add(fusedItems);
    const r = await engine.search(fusedQuery, settings({ adaptiveAlpha: rule }));
    for (const h of r.stage1) expect(h.score).toBeCloseTo(0.4 * cosS(h.id) + 0.6 * cosP(h.id), 5);
    expect(r.alpha).toBe(0.6);
    expect(r.alphaReason).toMatch(/second recognizer weight 0\.8 \(stage 1's: 0\.4\)/);
    for (const h of r.stage2) {
      expect(h.sCosSecondary).toBeCloseTo(cosS(h.id), 5);
      expect(h.sCos).toBeCloseTo(0.8 * cosS(h.id) + 0.2 * cosP(h.id), 5);
      expect(h.score).toBeCloseTo(0.6 * h.sEmd + 0.4 * h.sCos, 12);
    }
    const scores = r.stage2.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // The same search through a single recognizer's engine (no layout) blends the fused cosine as stage 1 has it.
    const plain = new SearchEngine({ accelerator: null, damageDetector: { model } });
    plain.add(fusedItems);
    const p = await plain.search(fusedQuery, settings({ adaptiveAlpha: rule }));
    for (const h of p.stage2) expect(h.sCos).toBeCloseTo(0.4 * cosS(h.id) + 0.6 * cosP(h.id), 5);
    expect(p.stage2.every((h) => h.sCosSecondary === undefined)).toBe(true);
    // A fixed alpha re-blends stage 1's cosine.
    expect(engine.reblend(0.6).stage2.map((h) => [h.id, h.sCos])).toEqual(p.stage2.map((h) => [h.id, h.sCos]));
    expect(() => new SearchEngine({ fusedCosine: { secondaryDims: 6, secondaryWeight: 1 } })).toThrow(/secondary weight in \(0, 1\)/);
  });

  it("a rule that compares the visible part blends each candidate's visible-part cosine (float64 from the raw vectors); faces without one fall back, saying why", async () => {
    const { items, query, rand } = buildGallery(9);
    const layout = { secondaryDims: 6, secondaryWeight: 0.4 };
    const vis = new Map<string, Float32Array>();
    const withVisible = (key: string, f: FaceFeatures): FaceFeatures => {
      const v = Float32Array.from({ length: 12 }, () => rand() - 0.5);
      vis.set(key, v);
      const s = Float32Array.from({ length: 6 }, () => rand() - 0.5);
      return { ...f, embedding: fuseEmbeddings(s, f.embedding.subarray(0, 10), Math.sqrt(0.4), Math.sqrt(0.6)), visibleEmbeddings: { sunglasses: v } };
    };
    const visItems = items.map((it) => ({ ...it, features: withVisible(it.id, it.features) }));
    const visQuery = withVisible('query', query);
    const cos = (a: Float32Array, b: Float32Array) => {
      let d = 0;
      for (let i = 0; i < a.length; i++) d += a[i] * b[i];
      return d / Math.hypot(...a) / Math.hypot(...b);
    };
    const model: DamageDetectorModel = (() => {
      const D = featureCount(49);
      const weights = new Float64Array(4 * (D + 1));
      weights[3 * (D + 1) + D] = 5; // every map reads as sunglasses
      return { positions: 49, channels: shape.c, classMeans: new Float32Array(4 * 49 * shape.c), featureMean: new Float64Array(D), featureScale: new Float64Array(D).fill(1), weights, source: 'test' };
    })();
    const rule = {
      threshold: -1,
      clean: 0,
      damaged: 0.9,
      byDamage: { none: 0, crop: 0.8, mask: 0.6, sunglasses: 0.2 },
      secondaryCosineByDamage: { sunglasses: 1 },
      visibleByDamage: { sunglasses: { alpha: 0.3, secondaryCosine: 0.9, visible: 0.6 } },
    };
    const engine = new SearchEngine({ accelerator: null, damageDetector: { model }, fusedCosine: layout });
    engine.add(visItems);
    const r = await engine.search(visQuery, settings({ adaptiveAlpha: rule }));
    expect(r.alpha).toBe(0.3);
    expect(r.alphaReason).toMatch(/the part the glasses leave visible \(weight 0\.6\)/);
    expect(r.visibleMissing).toBeUndefined();
    for (const h of r.stage2) {
      expect(h.sVisible).toBeCloseTo(cos(visQuery.visibleEmbeddings?.sunglasses as Float32Array, required(vis.get(h.id), h.id)), 6);
      expect(h.score).toBeCloseTo(0.3 * h.sEmd + 0.1 * h.sCos + 0.6 * (h.sVisible as number), 12);
    }
    const scores = r.stage2.map((h) => h.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // One face indexed before the embedding existed: the query falls back to the kind's plain entry and says so.
    const old = new SearchEngine({ accelerator: null, damageDetector: { model }, fusedCosine: layout });
    old.add(visItems.map((it, i) => (i === 0 ? { ...it, features: { ...it.features, visibleEmbeddings: undefined } } : it)));
    const o = await old.search(visQuery, settings({ adaptiveAlpha: rule, k: visItems.length }));
    expect(o.alpha).toBe(0.2);
    expect(o.visibleMissing).toMatch(/^1 of the 24 candidates were indexed without it/);
    expect(o.alphaReason).toMatch(/the visible part is not compared: 1 of the 24/);
    expect(o.stage2.every((h) => h.sVisible === undefined)).toBe(true);
  });

  it('pairDetail gives the plan, weights and s_emd of one pair (consistent with search and with its own marginals)', async () => {
    const { items, query } = buildGallery(4);
    const engine = new SearchEngine({ accelerator: null });
    engine.add(items);
    const s = settings({ sinkhorn: { mode: 'converged', eps: 0.05, maxIter: 500 } });
    const r = await engine.search(query, s);
    const target = r.stage2[3];
    const d = await engine.pairDetail(query, target.id, s);
    expect(d.grid).toBe(7);
    expect(d.plan).toHaveLength(49 * 49);
    expect(Math.abs(d.sEmd - target.sEmd)).toBeLessThan(1e-9);
    let rowErr = 0;
    let sim = 0;
    for (let i = 0; i < 49; i++) {
      let row = 0;
      for (let j = 0; j < 49; j++) ((row += d.plan[i * 49 + j]), (sim += d.plan[i * 49 + j] * (1 - d.cost[i * 49 + j])));
      rowErr += Math.abs(row - d.u[i]);
    }
    expect(rowErr).toBeLessThan(1e-5);
    expect(Math.abs(sim - d.sEmd)).toBeLessThan(1e-5);
    expect(d.marginalError).toBeLessThanOrEqual(1e-6);
  });

  it('every weighting runs; CC and LMK say when they are not defined', async () => {
    const { items, query, bases, rand } = buildGallery(5);
    const engine = new SearchEngine({ accelerator: null });
    engine.add(items);
    for (const weighting of ['uniform', 'apc', 'cc', 'sc', 'sc-sim', 'lmk'] as const) {
      const r = await engine.search(query, settings({ weighting, grid: 4 }));
      expect(r.stage2.every((h) => Number.isFinite(h.sEmd) && h.sEmd > 0 && h.sEmd <= 1 + 1e-6)).toBe(true);
    }
    const noLandmarks = syntheticFace(rand, shape, bases[0], 0.6, false);
    expect(await errorCode(() => engine.search(noLandmarks, settings({ weighting: 'lmk' })))).toBe('weighting-undefined');
    const otherShape = { ...shape, dim: 12 };
    const engine2 = new SearchEngine({ accelerator: null });
    const b = syntheticIdentity(rand, otherShape);
    engine2.add([{ id: 'a', label: 'A', features: syntheticFace(rand, otherShape, b) }]);
    expect(await errorCode(() => engine2.search(syntheticFace(rand, otherShape, b), settings({ weighting: 'cc' })))).toBe('weighting-undefined');
  });

  it('add/remove/clear keep ids, labels and results consistent; bad input is a typed error', async () => {
    const { items, query } = buildGallery(6);
    const engine = new SearchEngine({ accelerator: null });
    expect(await errorCode(() => engine.search(query, settings()))).toBe('empty-gallery');
    engine.add(items.slice(0, 12));
    await engine.search(query, settings({ grid: 4 }));
    engine.add(items.slice(12));
    engine.remove(['p2_0', 'p2_1', 'nope']);
    expect(engine.size).toBe(22);
    expect(engine.ids()).not.toContain('p2_0');
    expect(engine.labels().filter((l) => l === 'person2')).toHaveLength(1);
    const r = await engine.search(query, settings({ k: 22, grid: 4 }));
    expect(r.stage2.map((h) => h.id)).not.toContain('p2_0');
    // pooled caches still line up with the gallery after the removal
    const hit = required(
      r.stage2.find((h) => h.id === 'p5_2'),
      'p5_2 among the stage-2 hits',
    );
    expect(
      Math.abs(
        hit.sEmd -
          independentApcReference(
            query,
            required(
              items.find((i) => i.id === 'p5_2'),
              'gallery item p5_2',
            ).features,
            4,
          ),
      ),
    ).toBeLessThan(1e-5);
    expect(await errorCode(() => engine.add([items[0], items[0]]))).toBe('invalid-argument');
    expect(await errorCode(() => engine.pairDetail(query, 'p2_0', settings()))).toBe('unknown-id');
    const zero = { ...query, embedding: new Float32Array(16) };
    expect(await errorCode(() => engine.search(zero, settings()))).toBe('invalid-vector');
    const wrong = { ...query, patches: { h: 4, w: 4, c: 16, data: new Float32Array(256) } };
    expect(await errorCode(() => engine.search(wrong, settings()))).toBe('invalid-argument');
    expect(await errorCode(() => engine.search(query, settings({ grid: 8 })))).toBe('invalid-argument');
    engine.clear();
    expect(engine.size).toBe(0);
    expect(await errorCode(() => engine.reblend(0.5))).toBe('invalid-argument');
  });

  it('falls back to the CPU with a reason when WebGPU is missing, asked for, or fails mid-batch', async () => {
    const { items, query } = buildGallery(7);
    const cpuOnly = new SearchEngine({ accelerator: null });
    cpuOnly.add(items);
    const want = await cpuOnly.search(query, settings());
    // Node has no navigator.gpu: auto and forced WebGPU both answer on the CPU and say why.
    const auto = new SearchEngine();
    auto.add(items);
    for (const backend of ['auto', 'webgpu'] as const) {
      const r = await auto.search(query, settings({ backend }));
      expect(r.backendUsed).toBe('cpu');
      expect(r.fallbackReason).toMatch(/WebGPU/);
      expect(r.stage2.map((h) => h.sEmd)).toEqual(want.stage2.map((h) => h.sEmd));
    }
    const failing: Stage2Accelerator = {
      name: 'webgpu',
      ready: async () => null,
      scoreBatch: async () => {
        throw new Error('the WebGPU device was lost mid-batch (destroyed)');
      },
    };
    const lost = new SearchEngine({ accelerator: failing });
    lost.add(items);
    const r = await lost.search(query, settings({ backend: 'webgpu' }));
    expect(r.backendUsed).toBe('cpu');
    expect(r.fallbackReason).toMatch(/lost/);
    expect(r.stage2.map((h) => h.sEmd)).toEqual(want.stage2.map((h) => h.sEmd));
    // backend 'cpu' never touches the accelerator
    const untouched = await lost.search(query, settings({ backend: 'cpu' }));
    expect(untouched.fallbackReason).toBeUndefined();
  });

  it("'auto' declines a software adapter and says so; asking for WebGPU still uses it", async () => {
    const { items, query } = buildGallery(8);
    const cpu = new CpuStage2Scorer();
    let batches = 0;
    const software: Stage2Accelerator = { name: 'webgpu', isSoftwareAdapter: true, ready: async () => null, scoreBatch: async (b) => (batches++, cpu.scoreBatch(b)) };
    const engine = new SearchEngine({ accelerator: software });
    engine.add(items);
    const automatic = await engine.search(query, settings({ backend: 'auto' }));
    expect([automatic.backendUsed, batches]).toEqual(['cpu', 0]);
    expect(automatic.fallbackReason).toMatch(/software fallback/);
    const forced = await engine.search(query, settings({ backend: 'webgpu' }));
    expect([forced.backendUsed, batches]).toEqual(['webgpu', 1]);
    expect(forced.fallbackReason).toBeUndefined();
  });
});

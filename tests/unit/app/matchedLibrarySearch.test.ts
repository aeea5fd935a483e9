/**
 * The damage-matched library search (src/app/matchedLibrarySearch.ts) on
 * real faces: lfw-mini faces, some drawn with a mask or sunglasses as library
 * faces, FaceRes features, the shipped damage detector, the real engine.
 * Every listed score is checked against an independent recomputation: the
 * float64 cosine of the right version of the query with the face (stage 1),
 * and that version's blend with the pair's s_emd (stage 2).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { matchedLibrarySearch } from '../../../src/app/matchedLibrarySearch.ts';
import { AppError } from '../../../src/core/errors.ts';
import { DEFAULT_SETTINGS, type FaceFeatures, type OodTransform, type RerankSettings } from '../../../src/core/types.ts';
import { detectDamage, parseDamageDetector, type DamageDetectorModel } from '../../../src/engine/damageDetector.ts';
import { SearchEngine } from '../../../src/engine/searchEngine.ts';
import { applyOod } from '../../../src/face/ood.ts';
import type { FaceAnalysis } from '../../../src/face/pipeline.ts';
import { MATCHED_PAIRING_LEVELS } from '../../../src/models/damageMatched.ts';
import { MATCHED_NAP_FILE, parseMatchedNap, type MatchedNap } from '../../../src/models/matchedNap.ts';
import { seededRandom } from '../../../src/core/random.ts';
import { listIdentityImages, REPO_ROOT } from '../face/helpers/data.ts';
import { decodeImageNode } from '../face/helpers/decodeNode.ts';
import { createPipeline } from '../face/helpers/models.ts';
import { orthonormalise, referenceCosine } from '../../support/vectors.ts';

const SETTINGS: RerankSettings = { ...DEFAULT_SETTINGS, backend: 'cpu', k: 8 };
/** What each library face wears, by position. */
const WEARS: OodTransform[] = ['mask', 'sunglasses', 'none', 'mask', 'none', 'none', 'sunglasses', 'none'];

describe('damage-matched library search', () => {
  let model: DamageDetectorModel;
  let engine: SearchEngine;
  const library = new Map<string, FaceFeatures>();
  let query: FaceAnalysis;
  let embed: (kind: OodTransform, face: FaceAnalysis, seed: number) => Promise<FaceFeatures>;

  beforeAll(async () => {
    model = parseDamageDetector(readFileSync(join(REPO_ROOT, 'src/models/damage/faceres-damage.bin')), 'faceres-damage.bin');
    const setup = await createPipeline('faceres');
    const analyse = (img: { path: string; name: string }) => setup.pipeline.analyse(decodeImageNode(readFileSync(img.path), img.name), img.name);
    embed = async (kind, face, seed) => (await setup.recognizer.embed([applyOod(kind, face, seed).aligned]))[0];
    const byId = new Map<string, { path: string; name: string }[]>();
    for (const im of listIdentityImages('lfw-mini')) byId.set(im.identity, [...(byId.get(im.identity) ?? []), im]);
    const people = [...byId].filter(([, ims]) => ims.length >= 2).slice(0, WEARS.length);
    engine = new SearchEngine({ accelerator: null, damageDetector: { model } });
    for (const [i, [id, ims]] of people.entries()) {
      const f = await embed(WEARS[i], await analyse(ims[0]), 100 + i);
      library.set(id, f);
      engine.add([{ id, label: id, features: f }]);
    }
    // The first person (masked in the library), another photo, clean.
    query = await analyse(people[0][1][1]);
  }, 300_000);

  it('reads each library face with the detector, and scores every listed face against the query version that wears the same', async () => {
    const versions = new Map<OodTransform, FaceFeatures>();
    const drawn = async (kind: OodTransform) => {
      const f = await embed(kind, query, 7);
      versions.set(kind, f);
      return f;
    };
    const plainFeatures = await embed('none', query, 7);
    versions.set('none', plainFeatures);
    const r = await matchedLibrarySearch(engine, plainFeatures, SETTINGS, drawn);
    expect(r.matching).toMatch(/^matched: .*\(not projected: no nuisance directions were given\)$/);
    // The engine's readings are the detector's own on each face.
    const ids = [...library.keys()];
    const read = engine.galleryDamage(ids);
    expect(read).toEqual(ids.map((id) => detectDamage(model, (library.get(id) as FaceFeatures).patches).kind));
    const kindOf = new Map(ids.map((id, i) => [id, (read as OodTransform[])[i]]));
    expect(r.stage1.length).toBe(WEARS.length);
    expect(new Set(r.stage1.map((h) => h.id)).size).toBe(WEARS.length);
    const byDamage = DEFAULT_SETTINGS.adaptiveAlpha?.byDamage as Record<OodTransform, number>;
    for (const h of r.stage1) {
      const via = kindOf.get(h.id) === 'mask' || kindOf.get(h.id) === 'sunglasses' ? (kindOf.get(h.id) as OodTransform) : 'none';
      expect(h.via).toBe(via);
      const q = versions.get(via) as FaceFeatures;
      expect(h.score).toBeCloseTo(referenceCosine(q.embedding, (library.get(h.id) as FaceFeatures).embedding), 5);
    }
    const level1 = r.stage1.map((h) => h.score - MATCHED_PAIRING_LEVELS[h.via]);
    for (let i = 1; i < level1.length; i++) expect(level1[i]).toBeLessThanOrEqual(level1[i - 1] + 1e-12);
    // Stage 2: the clean query keeps alpha 0 under the default's rule, and the drawn versions are compared at alpha 0 too.
    expect(r.alpha).toBe(byDamage.none);
    for (const h of r.stage2) {
      const q = versions.get(h.via) as FaceFeatures;
      expect(h.score).toBeCloseTo(referenceCosine(q.embedding, (library.get(h.id) as FaceFeatures).embedding), 5);
    }
    const level2 = r.stage2.map((h) => h.score - MATCHED_PAIRING_LEVELS[h.via]);
    for (let i = 1; i < level2.length; i++) expect(level2[i]).toBeLessThanOrEqual(level2[i - 1] + 1e-12);
    // Faces drawn with each occluder were read so (the detector's own test allows one slip in 32), so both drawn versions were used.
    expect(r.stage1.filter((h) => h.via === 'mask').length).toBeGreaterThanOrEqual(1);
    expect(r.stage1.filter((h) => h.via === 'sunglasses').length).toBeGreaterThanOrEqual(1);
  }, 120_000);

  it('compares a damaged query as it is, and says why', async () => {
    const masked = await embed('mask', query, 7);
    let drew = 0;
    const r = await matchedLibrarySearch(engine, masked, SETTINGS, (kind) => {
      drew++;
      return embed(kind, query, 7);
    });
    expect(r.matching).toMatch(/not matched: the query itself looks like mask/);
    expect(drew).toBe(0);
    expect(r.stage1.every((h) => h.via === 'none')).toBe(true);
  }, 120_000);

  it('falls back to the plain search, saying why, when a drawing fails', async () => {
    const plain = await embed('none', query, 7);
    const r = await matchedLibrarySearch(engine, plain, SETTINGS, (kind) =>
      kind === 'sunglasses' ? Promise.reject(new AppError('corrupt-image', 'the aligned face could not be decoded', 'Drop the photo again.')) : embed(kind, query, 7),
    );
    expect(r.matching).toMatch(/^not matched: the query could not be drawn with sunglasses \(the aligned face could not be decoded\)$/);
    const direct = await engine.search(plain, SETTINGS);
    expect(r.stage1.map((h) => h.id)).toEqual(direct.stage1.slice(0, SETTINGS.k).map((h) => h.id));
    expect(r.stage1.every((h) => h.via === 'none')).toBe(true);
  }, 120_000);

  it('is the plain search for the paper preset (no alpha by damage kind)', async () => {
    const plain = await embed('none', query, 7);
    const r = await matchedLibrarySearch(engine, plain, { ...SETTINGS, adaptiveAlpha: null, alpha: 0.7 }, (kind) => embed(kind, query, 7));
    expect(r.matching).toMatch(/no alpha by damage kind/);
    const direct = await engine.search(plain, { ...SETTINGS, adaptiveAlpha: null, alpha: 0.7 });
    expect(r.stage2.map((h) => h.id)).toEqual(direct.stage2.map((h) => h.id));
  }, 120_000);

  it('with nuisance directions, scores each drawn pair as the cosine after removing them from both faces, on its own level', async () => {
    // Per kind: the move the drawing makes on the query (so the projection changes these pairs' cosines a lot), then a
    // seeded random direction, orthonormalised; levels of our choosing.
    const random = seededRandom(17);
    const unit64 = (x: Float32Array) => {
      const n = Math.hypot(...x);
      return Float64Array.from(x, (v) => v / n);
    };
    const clean = unit64((await embed('none', query, 7)).embedding);
    const orthonormal = async (kind: OodTransform) => {
      const drawnUnit = unit64((await embed(kind, query, 7)).embedding);
      return orthonormalise([drawnUnit.map((x, i) => x - clean[i]), Float64Array.from({ length: 1024 }, () => random() - 0.5)]);
    };
    const rows = { mask: await orthonormal('mask'), sunglasses: await orthonormal('sunglasses') };
    const nap: MatchedNap = {
      directions: { mask: rows.mask.map((u) => Float32Array.from(u)), sunglasses: rows.sunglasses.map((u) => Float32Array.from(u)) },
      levels: { mask: 0.21, sunglasses: 0.19 },
    };
    const versions = new Map<OodTransform, FaceFeatures>();
    const plainFeatures = await embed('none', query, 7);
    versions.set('none', plainFeatures);
    const r = await matchedLibrarySearch(
      engine,
      plainFeatures,
      SETTINGS,
      async (kind) => {
        const f = await embed(kind, query, 7);
        versions.set(kind, f);
        return f;
      },
      { model: nap },
    );
    expect(r.matching).toMatch(/drawn pairs compared without the occluder's 2 shared directions\)$/);
    // Independently: project both vectors explicitly (x - sum (x.u) u) and take the float64 cosine.
    const project = (x: Float32Array, us: readonly Float64Array[]) => {
      const out = Float64Array.from(x);
      for (const u of us) {
        const c = out.reduce((a, v, i) => a + v * u[i], 0);
        for (let i = 0; i < out.length; i++) out[i] -= c * u[i];
      }
      return out;
    };
    const levels = { none: MATCHED_PAIRING_LEVELS.none, mask: 0.21, sunglasses: 0.19 } as Record<OodTransform, number>;
    let drawnPairs = 0;
    let moved = 0;
    for (const h of r.stage1) {
      const face = (library.get(h.id) as FaceFeatures).embedding;
      const q = (versions.get(h.via) as FaceFeatures).embedding;
      if (h.via === 'mask' || h.via === 'sunglasses') {
        drawnPairs++;
        expect(h.score).toBeCloseTo(referenceCosine(project(q, rows[h.via]), project(face, rows[h.via])), 2);
        moved = Math.max(moved, Math.abs(h.score - referenceCosine(q, face)));
      } else expect(h.score).toBeCloseTo(referenceCosine(q, face), 5);
    }
    expect(drawnPairs).toBeGreaterThanOrEqual(2);
    // The projection did change the drawn pairs' scores, by more than the tolerance above.
    expect(moved).toBeGreaterThan(0.02);
    const level = r.stage1.map((h) => h.score - levels[h.via]);
    for (let i = 1; i < level.length; i++) expect(level[i]).toBeLessThanOrEqual(level[i - 1] + 1e-12);
  }, 120_000);

  it('keeps the plain cosine, saying why, when the directions belong to another embedding', async () => {
    // The shipped file is for the default fused pipeline (1,536 values); this library is FaceRes's (1,024).
    const shipped = parseMatchedNap(readFileSync(join(REPO_ROOT, 'src/models/damage', MATCHED_NAP_FILE)), MATCHED_NAP_FILE);
    const plain = await embed('none', query, 7);
    const drawn = (kind: OodTransform) => embed(kind, query, 7);
    const withFile = await matchedLibrarySearch(engine, plain, SETTINGS, drawn, { model: shipped });
    expect(withFile.matching).toMatch(/not projected: the nuisance directions are for embeddings of 1536 values, this library's have 1024\)$/);
    const without = await matchedLibrarySearch(engine, plain, SETTINGS, drawn);
    expect(withFile.stage1.map((h) => [h.id, h.score])).toEqual(without.stage1.map((h) => [h.id, h.score]));
  }, 120_000);
});

/**
 * The nuisance-direction file (src/models/matchedNap.ts): its reader refuses
 * what is not a well-formed file, and the shipped file, fitted on our own
 * drawn occluders, finds the move that the paper authors' own masks and
 * sunglasses (../shared/data/paper-small, an independent source) make in the
 * default pipeline's fused embedding.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../../src/core/errors.ts';
import { FusedRecognizer } from '../../../src/face/fusedRecognizer.ts';
import { napCosine, type NapKind } from '../../../src/engine/nuisanceProjection.ts';
import { MATCHED_NAP_FILE, parseMatchedNap, type MatchedNap } from '../../../src/models/matchedNap.ts';
import { encodeMatchedNap } from '../../../bench/study/napFit.ts';
import { DEFAULT_RECOGNIZER_ID } from '../../../src/models/pipelines.ts';
import { resolveRecognizer } from '../../../src/models/recognizers.ts';
import { dataPath, listIdentityImages, REPO_ROOT } from '../face/helpers/data.ts';
import { decodeImageNode } from '../face/helpers/decodeNode.ts';
import { createPipeline, readManifest } from '../face/helpers/models.ts';
import { referenceCosine } from '../../support/vectors.ts';

const unitRow = (n: number, at: number) => Float32Array.from({ length: n }, (_, i) => (i === at ? 1 : 0));
const small: MatchedNap = { directions: { mask: [unitRow(6, 0), unitRow(6, 3)], sunglasses: [unitRow(6, 1), unitRow(6, 5)] }, levels: { mask: 0.31, sunglasses: 0.27 } };

describe('parseMatchedNap', () => {
  it('reads back what encodeMatchedNap wrote', () => {
    const back = parseMatchedNap(encodeMatchedNap(small), 'small.bin');
    expect(back.levels.mask).toBeCloseTo(0.31, 6);
    expect(back.levels.sunglasses).toBeCloseTo(0.27, 6);
    expect(back.directions.sunglasses.map((u) => [...u])).toEqual(small.directions.sunglasses.map((u) => [...u]));
  });

  it('refuses a wrong magic, version, length, non-finite values and rows that are not orthonormal, naming the file', () => {
    const good = encodeMatchedNap(small);
    const refused = (bytes: Uint8Array, why: RegExp) => {
      let thrown: unknown;
      try {
        parseMatchedNap(bytes, 'x.bin');
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(AppError);
      expect((thrown as AppError).code).toBe('model-load-failed');
      expect((thrown as AppError).message).toMatch(/x\.bin/);
      expect((thrown as AppError).message).toMatch(why);
    };
    refused(new TextEncoder().encode('PK\u0003\u0004 not ours at all'), /bad magic/);
    const version = good.slice();
    new DataView(version.buffer).setUint32(4, 2, true);
    refused(version, /unknown version 2/);
    refused(good.subarray(0, good.length - 4), /truncated/);
    const nan = good.slice();
    new DataView(nan.buffer).setFloat32(16, Number.NaN, true);
    refused(nan, /non-finite/);
    const skew = encodeMatchedNap({ ...small, directions: { ...small.directions, mask: [unitRow(6, 0), Float32Array.from([0.6, 0.8, 0, 0, 0, 0])] } });
    refused(skew, /not orthonormal/);
  });
});

describe("the shipped directions on the paper authors' occluders", () => {
  const kinds: { kind: NapKind; folder: string }[] = [
    { kind: 'mask', folder: 'lfw-align-128-masked' },
    { kind: 'sunglasses', folder: 'lfw-align-128-glass' },
  ];
  let nap: MatchedNap;
  /** Fused unit embeddings: per image name, the original and each occluded version. */
  const fused = new Map<string, Record<'none' | NapKind, Float32Array>>();
  const identityOf = new Map<string, string>();

  beforeAll(async () => {
    nap = parseMatchedNap(readFileSync(join(REPO_ROOT, 'src/models/damage', MATCHED_NAP_FILE)), MATCHED_NAP_FILE);
    const faceres = await createPipeline('faceres');
    const mfn = (await createPipeline('mobilefacenet-arcface')).recognizer;
    const layout = resolveRecognizer(readManifest(), DEFAULT_RECOGNIZER_ID).fusedCosine;
    if (!layout) throw new Error('the default pipeline is not fused');
    const recognizer = new FusedRecognizer(faceres.recognizer, mfn, { secondaryWeight: layout.secondaryWeight });
    const embed = async (folder: string, name: string) => {
      const a = await faceres.pipeline.analyse(decodeImageNode(readFileSync(dataPath(`paper-small/${folder}`, name)), name), name);
      const [f] = await recognizer.embed([a.aligned]);
      return f.embedding;
    };
    for (const im of listIdentityImages('paper-small/lfw-align-128')) {
      identityOf.set(im.name, im.identity);
      fused.set(im.name, { none: await embed('lfw-align-128', im.name), mask: await embed('lfw-align-128-masked', im.name), sunglasses: await embed('lfw-align-128-glass', im.name) });
    }
  }, 300_000);

  it("has two directions per kind in the fused embedding's space", () => {
    const dims = (resolveRecognizer(readManifest(), DEFAULT_RECOGNIZER_ID).fusedCosine?.secondaryDims ?? 0) + 1024;
    for (const { kind } of kinds) {
      expect(nap.directions[kind]).toHaveLength(2);
      for (const u of nap.directions[kind]) expect(u).toHaveLength(dims);
    }
  });

  it.each(kinds)('holds a large share of the move $kind makes, far more than a random plane would', ({ kind }) => {
    expect(fused.size).toBe(10);
    const shares = [...fused.values()].map((v) => {
      const a = v[kind];
      const b = v.none;
      const na = Math.hypot(...a);
      const nb = Math.hypot(...b);
      const d = a.map((x, i) => x / na - b[i] / nb);
      return nap.directions[kind].reduce((s, u) => s + referenceCosine(d, u) ** 2, 0);
    });
    const mean = shares.reduce((s, x) => s + x, 0) / shares.length;
    console.log(`${kind}: the shipped directions hold ${(100 * mean).toFixed(1)}% of the authors' occluder move (mean of ${shares.length} faces)`);
    // A random plane in 1,536 dimensions holds 2/1536 (0.13%) of a vector's square length on average.
    expect(mean).toBeGreaterThan(0.05);
  });

  it.each(kinds)('widens the gap between same-person and different-person pairs that both wear $kind', ({ kind }) => {
    const names = [...fused.keys()];
    const gap = (score: (a: Float32Array, b: Float32Array) => number) => {
      const same: number[] = [];
      const other: number[] = [];
      for (let i = 0; i < names.length; i++)
        for (let j = i + 1; j < names.length; j++) {
          const s = score((fused.get(names[i]) as Record<string, Float32Array>)[kind], (fused.get(names[j]) as Record<string, Float32Array>)[kind]);
          (identityOf.get(names[i]) === identityOf.get(names[j]) ? same : other).push(s);
        }
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      return { gap: mean(same) - mean(other), impostor: mean(other) };
    };
    const plain = gap(referenceCosine);
    const projected = gap((a, b) => napCosine(a, b, nap.directions[kind]));
    console.log(
      `${kind}: same - different, plain ${plain.gap.toFixed(4)}, projected ${projected.gap.toFixed(4)}; impostor mean plain ${plain.impostor.toFixed(4)}, projected ${projected.impostor.toFixed(4)}`,
    );
    expect(projected.impostor).toBeLessThan(plain.impostor);
    expect(projected.gap).toBeGreaterThan(plain.gap);
  });
});

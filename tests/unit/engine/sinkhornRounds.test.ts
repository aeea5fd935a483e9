/**
 * The reference Sinkhorn's rounds in WebAssembly SIMD (sinkhornKernel.wat)
 * against the JS loop of sinkhornCpu.ts (itself checked against a port of the
 * authors' emd.py in sinkhornOrientation.test.ts): the same rounds and the
 * same numbers bit for bit, on odd and even shapes, zero weights and real-like
 * kernels; and the committed binary is what wabt makes of the .wat.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../../src/core/random.ts';
import { SINKHORN_KERNEL_WASM_BASE64 } from '../../../src/engine/simd/sinkhornKernel.generated.ts';
import { SinkhornWorkspace, sinkhornEmd } from '../../../src/engine/sinkhornCpu.ts';
import { WAT_SOURCES, assembleWat, generatedModuleText } from '../../../scripts/assembleWat.ts';

function problem(rand: () => number, n: number, m: number, zeros: number) {
  // Distances near 1 with a few close pairs, like FaceRes's sparse maps (many rounds), or spread (few rounds).
  const cost = Float32Array.from({ length: n * m }, () => (rand() < 0.05 ? rand() * 0.5 : 0.7 + rand() * 0.3));
  const weights = (len: number) => {
    const w = Array.from({ length: len }, () => (rand() < zeros ? 0 : rand()));
    if (!w.some((x) => x > 0)) w[0] = 1; // all-zero marginals have no transport at all
    const sum = w.reduce((a, b) => a + b, 0);
    return Float32Array.from(w, (x) => x / sum);
  };
  return { cost, u: weights(n), v: weights(m) };
}

describe('reference Sinkhorn rounds in WebAssembly SIMD', () => {
  it('give the JS loop’s rounds, similarity and plan bit for bit', () => {
    const rand = seededRandom(17);
    const simd = new SinkhornWorkspace();
    const js = new SinkhornWorkspace({ forceJs: true });
    expect(simd.rounds).not.toBeNull();
    expect(js.rounds).toBeNull();
    const rounds = new Set<number>();
    for (const [n, m] of [
      [49, 49],
      [16, 16],
      [1, 1],
      [7, 12],
      [12, 7],
      [64, 64],
      [3, 50],
    ]) {
      for (let trial = 0; trial < 6; trial++) {
        const { cost, u, v } = problem(rand, n, m, trial % 3 === 0 ? 0.2 : 0);
        for (const maxIter of [1, 3, 100]) {
          const options = { mode: 'reference' as const, eps: 0.05, maxIter, wantPlan: true };
          const a = sinkhornEmd(cost, n, m, u, v, options, 0, simd);
          const b = sinkhornEmd(cost, n, m, u, v, options, 0, js);
          rounds.add(a.iterations);
          expect(a.iterations, `${n}x${m}`).toBe(b.iterations);
          expect(a.similarity).toBe(b.similarity);
          expect(a.cost).toBe(b.cost);
          expect(Array.from(a.plan ?? [])).toEqual(Array.from(b.plan ?? []));
        }
      }
    }
    // The stop rule and maxIter both ended runs.
    expect(Math.max(...rounds)).toBeGreaterThan(3);
    expect(rounds.has(1)).toBe(true);
  });

  it('the committed bytes are exactly what wabt assembles from the .wat', async () => {
    const source = WAT_SOURCES.find((s) => s.exportName === 'SINKHORN_KERNEL_WASM_BASE64');
    if (!source) throw new Error('sinkhornKernel.wat is not in WAT_SOURCES');
    const assembled = await assembleWat(source.wat, readFileSync(source.wat, 'utf8'));
    expect(Buffer.compare(Buffer.from(assembled), Buffer.from(SINKHORN_KERNEL_WASM_BASE64, 'base64')), 'run `npx tsx scripts/assembleWat.ts` and commit both files').toBe(0);
    expect(readFileSync(source.generated, 'utf8')).toBe(await generatedModuleText(source));
  });
});

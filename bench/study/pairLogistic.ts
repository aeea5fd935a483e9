/**
 * A logistic fit of "same person" on a few pair scores (the study's merge
 * rules, matchedMerge.ts): Newton's method on the log-loss, the two classes
 * given equal total weight, so the fitted logit is a log-likelihood ratio
 * (no prior) and logits of different pairings can be compared.
 */
export interface PairSample {
  readonly features: readonly number[];
  readonly same: boolean;
}

export interface PairLogistic {
  /** The features' weights, then the intercept. */
  readonly weights: readonly number[];
  logit(features: readonly number[]): number;
}

/** Solves the small dense system a x = b (Gaussian elimination with partial pivoting). */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  return m.map((row, i) => row[n] / row[i]);
}

export function fitPairLogistic(samples: readonly PairSample[], iterations = 30): PairLogistic {
  const d = samples[0]?.features.length ?? 0;
  const nSame = samples.filter((s) => s.same).length;
  const nOther = samples.length - nSame;
  if (nSame === 0 || nOther === 0) throw new Error('a logistic fit needs pairs of both classes');
  const w = new Array<number>(d + 1).fill(0);
  const logit = (x: readonly number[]): number => x.reduce((a, v, i) => a + v * w[i], w[d]);
  for (let it = 0; it < iterations; it++) {
    const grad = new Array<number>(d + 1).fill(0);
    // A tiny ridge keeps the Hessian invertible.
    const hess = Array.from({ length: d + 1 }, (_, i) => Array.from({ length: d + 1 }, (_, j) => (i === j ? 1e-6 : 0)));
    for (const s of samples) {
      const weight = s.same ? 0.5 / nSame : 0.5 / nOther;
      const x = [...s.features, 1];
      const p = 1 / (1 + Math.exp(-logit(s.features)));
      const r = weight * ((s.same ? 1 : 0) - p);
      const h = weight * p * (1 - p);
      for (let i = 0; i <= d; i++) {
        grad[i] += r * x[i];
        for (let j = 0; j <= d; j++) hess[i][j] += h * x[i] * x[j];
      }
    }
    const step = solve(hess, grad);
    for (let i = 0; i <= d; i++) w[i] += step[i];
    if (Math.max(...step.map(Math.abs)) < 1e-9) break;
  }
  return { weights: [...w], logit };
}

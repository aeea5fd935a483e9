/**
 * Entropic optimal transport (Sinkhorn) on the CPU, in float64, two modes.
 *
 * Orientation: throughout the engine the cost matrix is n x m with ROW i = QUERY
 * patch and COLUMN j = GALLERY (candidate) patch; `uQuery` (n) weighs the rows,
 * `vGallery` (m) the columns, and a returned plan has the same layout
 * (`PairDetail.plan`: row = query patch).
 *
 * - `reference`: the authors' loop (`utils/emd.py`) exactly, in THEIR
 *   orientation. They put the gallery patches on the rows (sim =
 *   einsum('cm,ncs->nsm'): [pair, gallery patch, query patch]), so their
 *   K = exp(-d/eps) is our kernel transposed, their u (first-updated side) is
 *   the gallery weights and their v the query weights. With r = c = 1, each
 *   round updates the GALLERY scaling first, r_j = vGallery_j / (K^T c)_j, then
 *   the QUERY scaling, c_i = uQuery_i / (K r)_i; stop when
 *   mean_j |r_j - r_prev_j| < 0.1 (the gallery side) or after maxIter. So the
 *   query-side marginal of the plan is exact, the gallery side carries the
 *   error. Under this loose stop (2 rounds on real maps) solving the transposed
 *   problem gives a different plan (s_emd moves by up to 3e-3 on real 7x7 maps
 *   per the method doc, 1.1e-3 on the test pairs of lfw-mini), so the order
 *   matters. Their code takes the stop mean over the whole batch; here it is
 *   per pair (so a pair's result does not depend on what else is in the batch).
 * - `converged`: stop when the L1 error of the row (query) marginal is <= tol
 *   (the column marginal is exact after each column update), or after maxIter.
 *   At convergence the plan does not depend on the orientation.
 *   Stabilised by absorbing the scalings into dual potentials (Schmitzer 2016):
 *   the working kernel exp((F_i + G_j - d_ij)/eps) stays near 1 where the plan
 *   has mass, so eps down to 0.005 (d/eps up to 400) neither underflows nor
 *   overflows. Should anything still go non-finite, the pair is re-solved in
 *   the log domain.
 *
 * Both return the EMD similarity sum(T * (1 - d)).
 */
import { AppError } from '../core/errors.ts';
import type { SinkhornMode } from '../core/types.ts';
import { ReferenceRounds } from './simd/sinkhornRounds.ts';

export const REFERENCE_STOP_THRESHOLD = 0.1;
export const DEFAULT_CONVERGED_TOL = 1e-6;
/** Scalings beyond these are folded into the potentials (far from float64's 1e308 limits). */
const ABSORB_ABOVE = 1e100;
const ABSORB_BELOW = 1e-100;

export interface SinkhornOptions {
  readonly mode: SinkhornMode;
  readonly eps: number;
  readonly maxIter: number;
  /** Converged mode: L1 marginal error to stop at (default 1e-6). */
  readonly tol?: number;
  /** Also return the plan T (n x m, row-major, row = query patch) and copies of the query and gallery weights. */
  readonly wantPlan?: boolean;
  /** Converged mode: solve in the log domain from the start (slower; tests compare both paths). */
  readonly logDomain?: boolean;
}

export interface SinkhornResult {
  /** sum_ij T_ij (1 - d_ij). */
  readonly similarity: number;
  /** sum_ij T_ij d_ij. */
  readonly cost: number;
  /** Number of (row, column) update rounds done. */
  readonly iterations: number;
  /** max(L1 row error, L1 column error) of the returned plan. */
  readonly marginalError: number;
  readonly plan?: Float64Array;
  /** The query-side (row) weights. */
  readonly u?: Float64Array;
  /** The gallery-side (column) weights. */
  readonly v?: Float64Array;
}

export function validateSinkhornOptions(o: SinkhornOptions): void {
  if (o.mode !== 'reference' && o.mode !== 'converged') throw new AppError('invalid-argument', `unknown Sinkhorn mode ${String(o.mode)}`, "Use 'reference' or 'converged'.");
  if (!(o.eps >= 1e-4 && o.eps <= 100)) throw new AppError('invalid-argument', `Sinkhorn eps must be in [1e-4, 100], got ${o.eps}`, 'The paper uses 0.05.');
  if (!Number.isInteger(o.maxIter) || o.maxIter < 1 || o.maxIter > 1_000_000)
    throw new AppError('invalid-argument', `Sinkhorn maxIter must be an integer in [1, 1e6], got ${o.maxIter}`, 'The paper uses 100.');
  if (o.tol !== undefined && !(o.tol > 0)) throw new AppError('invalid-argument', `Sinkhorn tol must be positive, got ${o.tol}`, 'Use e.g. 1e-6.');
}

/** Reusable scratch so a batch of pairs allocates once. */
export class SinkhornWorkspace {
  /** The reference rounds in WebAssembly SIMD (null: the JS loop), created on first use. */
  private simdRounds: ReferenceRounds | null | undefined;

  constructor(private readonly options: { forceJs?: boolean } = {}) {}

  get rounds(): ReferenceRounds | null {
    if (this.simdRounds === undefined) this.simdRounds = this.options.forceJs ? null : ReferenceRounds.create();
    return this.simdRounds;
  }

  kern = new Float64Array(0);
  a = new Float64Array(0);
  b = new Float64Array(0);
  s = new Float64Array(0);
  t = new Float64Array(0);
  f = new Float64Array(0);
  g = new Float64Array(0);

  ensure(n: number, m: number): void {
    if (this.kern.length < n * m) this.kern = new Float64Array(n * m);
    const len = Math.max(n, m);
    if (this.a.length < len) {
      this.a = new Float64Array(len);
      this.b = new Float64Array(len);
      this.s = new Float64Array(len);
      this.t = new Float64Array(len);
      this.f = new Float64Array(len);
      this.g = new Float64Array(len);
    }
  }
}

/**
 * Solves one pair. `cost` holds the n x m distances d_ij = 1 - cos (row-major,
 * from `offset`), row i = query patch, column j = gallery patch; `uQuery` (n)
 * and `vGallery` (m) are the marginals of the two sides. The plan (on request)
 * has the same layout. The reference mode iterates in the authors' orientation
 * (gallery side first); see the header.
 */
export function sinkhornEmd(
  cost: ArrayLike<number>,
  n: number,
  m: number,
  uQuery: ArrayLike<number>,
  vGallery: ArrayLike<number>,
  options: SinkhornOptions,
  offset = 0,
  workspace: SinkhornWorkspace = new SinkhornWorkspace(),
): SinkhornResult {
  validateSinkhornOptions(options);
  const u = uQuery;
  const v = vGallery;
  if (u.length < n || v.length < m) throw new AppError('invalid-argument', `marginals have ${u.length} and ${v.length} entries for a ${n}x${m} problem`, 'Pass one weight per patch.');
  workspace.ensure(n, m);
  const ws = workspace;
  let iterations: number;
  if (options.mode === 'reference') {
    iterations = referenceIterations(cost, offset, n, m, u, v, options, ws);
  } else {
    const tol = options.tol ?? DEFAULT_CONVERGED_TOL;
    iterations = options.logDomain ? -1 : stabilisedIterations(cost, offset, n, m, u, v, options.eps, options.maxIter, tol, ws);
    if (iterations < 0) iterations = logDomainIterations(cost, offset, n, m, u, v, options.eps, options.maxIter, tol, ws);
  }
  const result = summarisePlan(cost, offset, n, m, u, v, ws, options.wantPlan ?? false, iterations);
  if (!Number.isFinite(result.similarity)) {
    throw new AppError(
      'invalid-argument',
      `Sinkhorn (${options.mode}) went non-finite at eps ${options.eps}`,
      options.mode === 'reference' ? "Use the 'converged' mode for such a small eps, or eps >= 0.01." : 'Use a larger eps.',
    );
  }
  return result;
}

/**
 * The authors' loop in their orientation, on our query-rows x gallery-columns
 * cost. Their matrix is ours transposed, so their r (updated first, tested by
 * the stop rule) is our column scaling `b` over the gallery patches and their
 * c (updated last) our row scaling `a` over the query patches:
 *   b_j = vGallery_j / sum_i kern_ij a_i;  a_i = uQuery_i / sum_j kern_ij b_j;
 *   stop when mean_j |b_j - b_prev_j| < 0.1.
 * Leaves the plan as a_i * kern_ij * b_j in the workspace (their T transposed:
 * row = query patch); its row (query) marginal is exact.
 */
function referenceIterations(
  cost: ArrayLike<number>,
  off: number,
  nQuery: number,
  mGallery: number,
  uQuery: ArrayLike<number>,
  vGallery: ArrayLike<number>,
  o: SinkhornOptions,
  ws: SinkhornWorkspace,
): number {
  const n = nQuery;
  const m = mGallery;
  const { kern, a: queryScale, b: galleryScale, t } = ws;
  const invEps = 1 / o.eps;
  for (let x = 0; x < n * m; x++) kern[x] = Math.exp(-cost[off + x] * invEps);
  const simd = ws.rounds;
  if (simd) return simd.run(kern, n, m, uQuery, vGallery, o.maxIter, REFERENCE_STOP_THRESHOLD, queryScale, galleryScale);
  queryScale.fill(1, 0, n);
  galleryScale.fill(1, 0, m);
  let it = 0;
  while (it < o.maxIter) {
    it++;
    // Their r = u / (K c): the gallery side, first, with the stop test on it.
    columnSums(kern, queryScale, n, m, t);
    let change = 0;
    for (let j = 0; j < m; j++) {
      const next = vGallery[j] / t[j];
      change += Math.abs(next - galleryScale[j]);
      galleryScale[j] = next;
    }
    // Their c = v / (K^T r): the query side, last, so its marginal is exact.
    for (let i = 0; i < n; i++) {
      let s = 0;
      const row = i * m;
      for (let j = 0; j < m; j++) s += kern[row + j] * galleryScale[j];
      queryScale[i] = uQuery[i] / s;
    }
    if (change / m < REFERENCE_STOP_THRESHOLD) break;
  }
  return it;
}

/** t_j = sum_i kern_ij * a_i, walking rows so memory is read in order. */
function columnSums(kern: Float64Array, a: Float64Array, n: number, m: number, t: Float64Array): void {
  t.fill(0, 0, m);
  for (let i = 0; i < n; i++) {
    const ai = a[i];
    if (ai === 0) continue;
    const row = i * m;
    for (let j = 0; j < m; j++) t[j] += kern[row + j] * ai;
  }
}

/** kern_ij = exp((f_i + g_j - d_ij) / eps). */
function buildKernel(cost: ArrayLike<number>, off: number, n: number, m: number, f: Float64Array, g: Float64Array, invEps: number, kern: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const row = i * m;
    const fi = f[i];
    for (let j = 0; j < m; j++) kern[row + j] = Math.exp((fi + g[j] - cost[off + row + j]) * invEps);
  }
}

/** Returns the rounds done, or -1 when it met a non-finite value (the caller re-solves in the log domain). */
function stabilisedIterations(
  cost: ArrayLike<number>,
  off: number,
  n: number,
  m: number,
  u: ArrayLike<number>,
  v: ArrayLike<number>,
  eps: number,
  maxIter: number,
  tol: number,
  ws: SinkhornWorkspace,
): number {
  const { kern, a, b, s, t, f, g } = ws;
  const invEps = 1 / eps;
  // f_i = min_j d_ij puts a 1 in every kernel row, so no row underflows; g = 0 makes the
  // iterates those of the plain loop (and of the GPU's log-domain loop) from c = 1.
  for (let i = 0; i < n; i++) {
    let min = Infinity;
    for (let j = 0; j < m; j++) min = Math.min(min, cost[off + i * m + j]);
    f[i] = min;
  }
  g.fill(0, 0, m);
  buildKernel(cost, off, n, m, f, g, invEps, kern);
  for (let i = 0; i < n; i++) a[i] = u[i] > 0 ? 1 : 0;
  for (let j = 0; j < m; j++) b[j] = v[j] > 0 ? 1 : 0;
  let it = 0;
  for (;;) {
    for (let i = 0; i < n; i++) {
      let sum = 0;
      const row = i * m;
      for (let j = 0; j < m; j++) sum += kern[row + j] * b[j];
      s[i] = sum;
    }
    if (it > 0) {
      let err = 0;
      for (let i = 0; i < n; i++) err += Math.abs(a[i] * s[i] - u[i]);
      if (err <= tol) return it;
    }
    if (it >= maxIter) return it;
    it++;
    let needsAbsorb = false;
    for (let i = 0; i < n; i++) {
      const ai = u[i] > 0 ? u[i] / s[i] : 0;
      if (!Number.isFinite(ai)) return -1;
      if (ai !== 0 && (ai > ABSORB_ABOVE || ai < ABSORB_BELOW)) needsAbsorb = true;
      a[i] = ai;
    }
    columnSums(kern, a, n, m, t);
    for (let j = 0; j < m; j++) {
      const bj = v[j] > 0 ? v[j] / t[j] : 0;
      if (!Number.isFinite(bj)) return -1;
      if (bj !== 0 && (bj > ABSORB_ABOVE || bj < ABSORB_BELOW)) needsAbsorb = true;
      b[j] = bj;
    }
    if (needsAbsorb) {
      for (let i = 0; i < n; i++) if (a[i] > 0) ((f[i] += eps * Math.log(a[i])), (a[i] = 1));
      for (let j = 0; j < m; j++) if (b[j] > 0) ((g[j] += eps * Math.log(b[j])), (b[j] = 1));
      buildKernel(cost, off, n, m, f, g, invEps, kern);
    }
  }
}

/**
 * Log-domain Sinkhorn on potentials f, g; finishes by writing the plan into
 * the workspace in the a * kern * b form (a = b = 1 on the support).
 */
function logDomainIterations(
  cost: ArrayLike<number>,
  off: number,
  n: number,
  m: number,
  u: ArrayLike<number>,
  v: ArrayLike<number>,
  eps: number,
  maxIter: number,
  tol: number,
  ws: SinkhornWorkspace,
): number {
  const { kern, a, b, f, g, s } = ws;
  const invEps = 1 / eps;
  f.fill(0, 0, n);
  g.fill(0, 0, m);
  // L_i = logsumexp_j((g_j - d_ij)/eps); rows with u_i = 0 keep f = -inf (no mass).
  const rowLse = (i: number) => {
    let max = -Infinity;
    for (let j = 0; j < m; j++) if (v[j] > 0) max = Math.max(max, (g[j] - cost[off + i * m + j]) * invEps);
    let sum = 0;
    for (let j = 0; j < m; j++) if (v[j] > 0) sum += Math.exp((g[j] - cost[off + i * m + j]) * invEps - max);
    return max + Math.log(sum);
  };
  const colLse = (j: number) => {
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (u[i] > 0) max = Math.max(max, (f[i] - cost[off + i * m + j]) * invEps);
    let sum = 0;
    for (let i = 0; i < n; i++) if (u[i] > 0) sum += Math.exp((f[i] - cost[off + i * m + j]) * invEps - max);
    return max + Math.log(sum);
  };
  let it = 0;
  for (;;) {
    for (let i = 0; i < n; i++) s[i] = u[i] > 0 ? eps * (Math.log(u[i]) - rowLse(i)) : -Infinity;
    if (it > 0) {
      // Row mass of the current plan is u_i * exp((f_i - f_i_new)/eps).
      let err = 0;
      for (let i = 0; i < n; i++) if (u[i] > 0) err += Math.abs(u[i] * Math.exp((f[i] - s[i]) * invEps) - u[i]);
      if (err <= tol) break;
    }
    if (it >= maxIter) break;
    it++;
    for (let i = 0; i < n; i++) f[i] = s[i];
    for (let j = 0; j < m; j++) g[j] = v[j] > 0 ? eps * (Math.log(v[j]) - colLse(j)) : -Infinity;
  }
  for (let i = 0; i < n; i++) a[i] = u[i] > 0 ? 1 : 0;
  for (let j = 0; j < m; j++) b[j] = v[j] > 0 ? 1 : 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      const x = i * m + j;
      kern[x] = a[i] && b[j] ? Math.exp((f[i] + g[j] - cost[off + x]) * invEps) : 0;
    }
  }
  return it;
}

/** T_ij = a_i kern_ij b_j; similarity, cost, marginal errors, and the plan on request. */
function summarisePlan(
  cost: ArrayLike<number>,
  off: number,
  n: number,
  m: number,
  u: ArrayLike<number>,
  v: ArrayLike<number>,
  ws: SinkhornWorkspace,
  wantPlan: boolean,
  iterations: number,
): SinkhornResult {
  const { kern, a, b, t } = ws;
  const plan = wantPlan ? new Float64Array(n * m) : null;
  let similarity = 0;
  let total = 0;
  let rowError = 0;
  t.fill(0, 0, m);
  for (let i = 0; i < n; i++) {
    let rowMass = 0;
    const row = i * m;
    for (let j = 0; j < m; j++) {
      const x = a[i] * kern[row + j] * b[j];
      const d = cost[off + row + j];
      similarity += x * (1 - d);
      total += x * d;
      rowMass += x;
      t[j] += x;
      if (plan) plan[row + j] = x;
    }
    rowError += Math.abs(rowMass - u[i]);
  }
  let colError = 0;
  for (let j = 0; j < m; j++) colError += Math.abs(t[j] - v[j]);
  return {
    similarity,
    cost: total,
    iterations,
    marginalError: Math.max(rowError, colError),
    ...(plan ? { plan, u: Float64Array.from({ length: n }, (_, i) => u[i]), v: Float64Array.from({ length: m }, (_, j) => v[j]) } : {}),
  };
}

/**
 * Independent references for the engine tests, written without the engine's
 * code. The exact optimal transport solver: min-cost flow by successive
 * shortest paths (Bellman-Ford on the residual network), in float64.
 * source -> row i (capacity u_i) -> column j (cost d_ij) -> sink (capacity
 * v_j). Plus a brute-force assignment solver to check it, the authors'
 * Sinkhorn loop transcribed literally, and PyTorch's adaptive pooling as a
 * direct loop.
 */

export interface ExactEmd {
  /** sum T_ij d_ij at the optimum. */
  readonly cost: number;
  readonly plan: Float64Array;
}

interface Edge {
  to: number;
  cap: number;
  cost: number;
  rev: number;
}

const CAP_EPS = 1e-15;

export function exactEmd(d: ArrayLike<number>, n: number, m: number, u: ArrayLike<number>, v: ArrayLike<number>): ExactEmd {
  const nodes = n + m + 2;
  const source = 0;
  const sink = n + m + 1;
  const graph: Edge[][] = Array.from({ length: nodes }, () => []);
  const addEdge = (a: number, b: number, cap: number, cost: number) => {
    graph[a].push({ to: b, cap, cost, rev: graph[b].length });
    graph[b].push({ to: a, cap: 0, cost: -cost, rev: graph[a].length - 1 });
  };
  for (let i = 0; i < n; i++) addEdge(source, 1 + i, u[i], 0);
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) addEdge(1 + i, 1 + n + j, Infinity, d[i * m + j]);
  for (let j = 0; j < m; j++) addEdge(1 + n + j, sink, v[j], 0);

  const dist = new Float64Array(nodes);
  const prevNode = new Int32Array(nodes);
  const prevEdge = new Int32Array(nodes);
  for (;;) {
    dist.fill(Infinity);
    dist[source] = 0;
    for (let round = 0; round < nodes; round++) {
      let changed = false;
      for (let a = 0; a < nodes; a++) {
        if (dist[a] === Infinity) continue;
        graph[a].forEach((e, idx) => {
          if (e.cap > CAP_EPS && dist[a] + e.cost < dist[e.to] - 1e-15) {
            dist[e.to] = dist[a] + e.cost;
            prevNode[e.to] = a;
            prevEdge[e.to] = idx;
            changed = true;
          }
        });
      }
      if (!changed) break;
    }
    if (dist[sink] === Infinity) break;
    let push = Infinity;
    for (let x = sink; x !== source; x = prevNode[x]) push = Math.min(push, graph[prevNode[x]][prevEdge[x]].cap);
    if (!(push > CAP_EPS)) break;
    for (let x = sink; x !== source; x = prevNode[x]) {
      const e = graph[prevNode[x]][prevEdge[x]];
      e.cap -= push;
      graph[x][e.rev].cap += push;
    }
  }
  const plan = new Float64Array(n * m);
  let cost = 0;
  for (let i = 0; i < n; i++) {
    for (const e of graph[1 + i]) {
      if (e.to > n && e.to <= n + m) {
        const flow = graph[e.to][e.rev].cap;
        const j = e.to - 1 - n;
        plan[i * m + j] = flow;
        cost += flow * d[i * m + j];
      }
    }
  }
  return { cost, plan };
}

/** min over permutations of mean d_{i, pi(i)}: the exact EMD for uniform weights and n = m (small n only). */
export function bruteForceAssignment(d: ArrayLike<number>, n: number): { cost: number; perm: number[] } {
  let best = Infinity;
  let bestPerm: number[] = [];
  const perm = Array.from({ length: n }, (_, i) => i);
  const visit = (k: number, acc: number) => {
    if (acc >= best) return;
    if (k === n) {
      best = acc;
      bestPerm = [...perm];
      return;
    }
    for (let t = k; t < n; t++) {
      [perm[k], perm[t]] = [perm[t], perm[k]];
      visit(k + 1, acc + d[k * n + perm[k]]);
      [perm[k], perm[t]] = [perm[t], perm[k]];
    }
  };
  visit(0, 0);
  return { cost: best / n, perm: bestPerm };
}

export function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(rand() + 1e-300)) * Math.cos(2 * Math.PI * rand());
}

/** n unit vectors of dimension dim, rows of a Float32Array. */
export function randomUnitRows(rand: () => number, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < dim; t++) {
      const x = gaussian(rand);
      out[i * dim + t] = x;
      s += x * x;
    }
    const inv = 1 / Math.sqrt(s);
    for (let t = 0; t < dim; t++) out[i * dim + t] *= inv;
  }
  return out;
}

/** d_ij = 1 - <a_i, b_j>, float64. */
export function cosineDistances(a: Float32Array, n: number, b: Float32Array, m: number, dim: number): Float64Array {
  const d = new Float64Array(n * m);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < m; j++) {
      let s = 0;
      for (let t = 0; t < dim; t++) s += a[i * dim + t] * b[j * dim + t];
      d[i * m + j] = 1 - s;
    }
  }
  return d;
}

export function randomSimplex(rand: () => number, n: number): Float64Array {
  const w = Float64Array.from({ length: n }, () => 0.05 + rand());
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

/**
 * The authors' PyTorch loop transcribed literally (float64, plain arrays), as
 * an independent reference for the `reference` mode. It takes THEIR
 * orientation (utils/emd.py): `d` is n x n with row = GALLERY patch, column =
 * QUERY patch (their dis = 1 - einsum('cm,ncs->nsm'), one pair), `u` the
 * gallery weights (updated first, tested by the stop rule), `v` the query
 * weights. The engine's cost is query-rows x gallery-columns: pass
 * `transposeSquare(cost, n)` and swap the weights.
 */
export function authorsSinkhorn(d: ArrayLike<number>, n: number, u: ArrayLike<number>, v: ArrayLike<number>, eps: number) {
  const K = Array.from({ length: n }, (_, i) => Array.from({ length: n }, (_, j) => Math.exp(-d[i * n + j] / eps)));
  let r = new Array<number>(n).fill(1);
  let c = new Array<number>(n).fill(1);
  let it = 0;
  for (let step = 0; step < 100; step++) {
    it = step + 1;
    const r0 = r;
    r = Array.from(u, (ui, i) => ui / K[i].reduce((s, kij, j) => s + kij * c[j], 0));
    c = Array.from(v, (vj, j) => vj / K.reduce((s, row, i) => s + row[j] * r[i], 0));
    const err = r.reduce((s, ri, i) => s + Math.abs(ri - r0[i]), 0) / n;
    if (err < 0.1) break;
  }
  let sim = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) sim += r[i] * K[i][j] * c[j] * (1 - d[i * n + j]);
  return { sim, it };
}

/** Independent reference: PyTorch's adaptive_avg_pool2d written as a direct loop over an NCHW-style accessor. */
export function directPool(data: Float32Array, h: number, w: number, c: number, g: number): Float64Array {
  const out = new Float64Array(g * g * c);
  for (let ch = 0; ch < c; ch++) {
    for (let oy = 0; oy < g; oy++) {
      for (let ox = 0; ox < g; ox++) {
        const y0 = Math.floor((oy * h) / g);
        const y1 = Math.ceil(((oy + 1) * h) / g);
        const x0 = Math.floor((ox * w) / g);
        const x1 = Math.ceil(((ox + 1) * w) / g);
        let s = 0;
        for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) s += data[(y * w + x) * c + ch];
        out[(oy * g + ox) * c + ch] = s / ((y1 - y0) * (x1 - x0));
      }
    }
  }
  return out;
}

/** d^T for a row-major n x n matrix. */
export function transposeSquare(d: ArrayLike<number>, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) out[j * n + i] = d[i * n + j];
  return out;
}

/**
 * A stage-1 row as the quantised formats define it, in float64 (unit values rounded to float32 as the engine stores
 * them): step = max|u| / levels as float32, code = round(u / step) clamped to +-levels, stored scale = 1 / |codes| as
 * float32. `levels` 127 is the int8 rows, 32767 the 16-bit ones.
 */
export function referenceQuantisedRow(v: Float32Array, levels: number): { unit: Float64Array; step: number; scale: number; codes: number[] } {
  let ss = 0;
  for (const x of v) ss += x * x;
  const norm = Math.sqrt(ss);
  const unit = Float64Array.from(v, (x) => Math.fround(x / norm));
  const maxAbs = Math.max(...Array.from(unit, Math.abs));
  const step = Math.fround(maxAbs / levels);
  // `+ 0` turns -0 (round of a small negative) into the 0 a typed array reads back.
  const codes = Array.from(unit, (u) => Math.max(-levels, Math.min(levels, Math.round(u / step))) + 0);
  const scale = Math.fround(1 / Math.sqrt(codes.reduce((a, c) => a + c * c, 0)));
  return { unit, step, scale, codes };
}

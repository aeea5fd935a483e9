// Sinkhorn, the authors' loop, one workgroup per (query, candidate) pair, all
// pairs in one dispatch with no readback between iterations.
// Layout: cosines[p][i][j], row i = QUERY patch, column j = GALLERY patch;
// u = query weights, v = gallery weights; the plan T_ij = r_i K_ij c_j, so r
// scales the query side (rows), c the gallery side (columns).
// The iteration follows the authors' ORIENTATION (utils/emd.py puts the gallery
// patches on the rows, their u is the gallery side): K = exp(-d / eps);
// r = c = 1; repeat up to maxIter:
//   c = v / (K^T r)   (gallery side first: their r = u / (K c))
//   r = u / (K c)     (query side last: their c = v / (K^T r); exact marginal)
//   stop when mean |c - c_prev| < 0.1 (the gallery side; per pair).
// Thread i owns row i and column i, so N <= WG (64). K lives in workgroup memory.

struct Params {
  n: u32,
  pairs: u32,
  maxIter: u32,
  weightMode: u32,  // 0: u, v given; 1: sc (sums of distances); 2: sc-sim (sums of similarities)
  eps: f32,
  tol: f32,         // unused here (the reference rule is fixed); kept for one layout with the converged kernel
  pairOffset: u32,  // where this dispatch's pairs start in `results`
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cosines: array<f32>;
@group(0) @binding(2) var<storage, read> weightsU: array<f32>;
@group(0) @binding(3) var<storage, read> weightsV: array<f32>;
// Per pair: similarity, iterations, marginal error, 0.
@group(0) @binding(4) var<storage, read_write> results: array<vec4<f32>>;

override MAX_N: u32 = 64u;
const WG: u32 = 64u;
const WEIGHT_EPS: f32 = 1e-7;
const STOP_THRESHOLD: f32 = 0.1;

var<workgroup> kern: array<f32, MAX_N * MAX_N>;
var<workgroup> r: array<f32, MAX_N>;
var<workgroup> c: array<f32, MAX_N>;
var<workgroup> u: array<f32, MAX_N>;
var<workgroup> v: array<f32, MAX_N>;
var<workgroup> partial: array<f32, WG>;
var<workgroup> stopFlag: u32;

// Sum of x over the workgroup (every thread calls it; all get the total).
fn workgroupSum(i: u32, x: f32) -> f32 {
  partial[i] = x;
  workgroupBarrier();
  for (var s = WG / 2u; s > 0u; s = s / 2u) {
    if (i < s) { partial[i] += partial[i + s]; }
    workgroupBarrier();
  }
  let total = partial[0];
  workgroupBarrier();
  return total;
}

// max(0, w) / (sum + 1e-7), or uniform when nothing positive is left (as the CPU does).
fn normalisedWeight(i: u32, n: u32, raw: f32) -> f32 {
  let w = select(0.0, max(raw, 0.0), i < n);
  let total = workgroupSum(i, w);
  if (total > 0.0) { return w / (total + WEIGHT_EPS); }
  return 1.0 / f32(n);
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) i: u32) {
  let p = wg.x;
  let n = params.n;
  let base = p * n * n;
  for (var t = i; t < n * n; t += WG) { kern[t] = 1.0 - cosines[base + t]; }
  workgroupBarrier();

  var rawU = 0.0;
  var rawV = 0.0;
  if (i < n) {
    if (params.weightMode == 0u) {
      rawU = weightsU[(params.pairOffset + p) * n + i];
      rawV = weightsV[(params.pairOffset + p) * n + i];
    } else {
      for (var j = 0u; j < n; j++) {
        let dRow = kern[i * n + j];
        let dCol = kern[j * n + i];
        rawU += select(1.0 - dRow, dRow, params.weightMode == 1u);
        rawV += select(1.0 - dCol, dCol, params.weightMode == 1u);
      }
    }
  }
  var ui = rawU;
  var vi = rawV;
  if (params.weightMode != 0u) {
    ui = normalisedWeight(i, n, rawU);
    vi = normalisedWeight(i, n, rawV);
  }
  if (i < n) {
    u[i] = ui;
    v[i] = vi;
    r[i] = 1.0;
    c[i] = 1.0;
  }
  workgroupBarrier();
  let invEps = 1.0 / params.eps;
  for (var t = i; t < n * n; t += WG) { kern[t] = exp(-kern[t] * invEps); }
  workgroupBarrier();

  var iterations = 0u;
  loop {
    if (iterations >= params.maxIter) { break; }
    iterations++;
    var change = 0.0;
    // Gallery side first, with the stop test on it.
    if (i < n) {
      var t = 0.0;
      for (var k = 0u; k < n; k++) { t += kern[k * n + i] * r[k]; }
      let next = v[i] / t;
      change = abs(next - c[i]);
      c[i] = next;
    }
    workgroupBarrier();
    // Query side last (its marginal is exact); workgroupSum's barriers order these writes before the next round's reads.
    if (i < n) {
      var s = 0.0;
      for (var j = 0u; j < n; j++) { s += kern[i * n + j] * c[j]; }
      r[i] = u[i] / s;
    }
    let total = workgroupSum(i, change);
    if (i == 0u) { stopFlag = select(0u, 1u, total / f32(n) < STOP_THRESHOLD); }
    if (workgroupUniformLoad(&stopFlag) == 1u) { break; }
  }

  // Plan T_ij = r_i K_ij c_j: similarity sum T * cos, and the marginal errors.
  var sim = 0.0;
  var rowErr = 0.0;
  var colErr = 0.0;
  if (i < n) {
    var rowMass = 0.0;
    var colMass = 0.0;
    for (var j = 0u; j < n; j++) {
      let tij = r[i] * kern[i * n + j] * c[j];
      sim += tij * cosines[base + i * n + j];
      rowMass += tij;
      colMass += r[j] * kern[j * n + i] * c[i];
    }
    rowErr = abs(rowMass - u[i]);
    colErr = abs(colMass - v[i]);
  }
  let simTotal = workgroupSum(i, sim);
  let rowTotal = workgroupSum(i, rowErr);
  let colTotal = workgroupSum(i, colErr);
  if (i == 0u) {
    results[params.pairOffset + p] = vec4<f32>(simTotal, f32(iterations), max(rowTotal, colTotal), 0.0);
  }
}

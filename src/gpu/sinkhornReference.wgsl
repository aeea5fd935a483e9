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
// Params, the bindings, MAX_N, WG, workgroupSum and normalisedWeight come from
// sinkhornCommon.wgsl, appended when the pipeline is built.

const STOP_THRESHOLD: f32 = 0.1;

var<workgroup> kern: array<f32, MAX_N * MAX_N>;
var<workgroup> r: array<f32, MAX_N>;
var<workgroup> c: array<f32, MAX_N>;
var<workgroup> u: array<f32, MAX_N>;
var<workgroup> v: array<f32, MAX_N>;

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

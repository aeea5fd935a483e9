// Sinkhorn to convergence in the log domain, one workgroup per pair, all pairs
// in one dispatch with no readback between iterations. Potentials are kept in
// units of eps (fs = f / eps, gs = g / eps) and D = d / eps sits in workgroup
// memory, so eps down to 0.005 (D up to 400) never forms exp(-D) on its own:
//   fs_i = log u_i - LSE_j(gs_j - D_ij);  gs_j = log v_j - LSE_i(fs_i - D_ij).
// Stops when the L1 row-marginal error of the current plan is <= tol (the
// column marginal is exact after each column update) or after maxIter rounds;
// the same rule and the same start (g = 0) as the CPU, so iterates match.
// Thread i owns row i and column i, so N <= WG (64).
// Params, the bindings, MAX_N, WG, workgroupSum and normalisedWeight come from
// sinkhornCommon.wgsl, appended when the pipeline is built.

// Stands for log(0) (a patch with no mass) without infinities, which WGSL does not promise to keep.
const NO_MASS: f32 = -1e30;

var<workgroup> scaledCost: array<f32, MAX_N * MAX_N>;
var<workgroup> fs: array<f32, MAX_N>;
var<workgroup> gs: array<f32, MAX_N>;
var<workgroup> logU: array<f32, MAX_N>;
var<workgroup> logV: array<f32, MAX_N>;

fn safeLog(x: f32) -> f32 {
  return select(NO_MASS, log(x), x > 0.0);
}

// log-sum-exp over j of (gs_j - D_ij) for row i, skipping columns without mass.
fn rowLse(i: u32, n: u32) -> f32 {
  var m = NO_MASS;
  for (var j = 0u; j < n; j++) {
    if (logV[j] > NO_MASS) { m = max(m, gs[j] - scaledCost[i * n + j]); }
  }
  var s = 0.0;
  for (var j = 0u; j < n; j++) {
    if (logV[j] > NO_MASS) { s += exp(gs[j] - scaledCost[i * n + j] - m); }
  }
  return m + log(s);
}

fn colLse(j: u32, n: u32) -> f32 {
  var m = NO_MASS;
  for (var k = 0u; k < n; k++) {
    if (logU[k] > NO_MASS) { m = max(m, fs[k] - scaledCost[k * n + j]); }
  }
  var s = 0.0;
  for (var k = 0u; k < n; k++) {
    if (logU[k] > NO_MASS) { s += exp(fs[k] - scaledCost[k * n + j] - m); }
  }
  return m + log(s);
}

@compute @workgroup_size(64, 1, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_index) i: u32) {
  let p = wg.x;
  let n = params.n;
  let base = p * n * n;
  let invEps = 1.0 / params.eps;
  for (var t = i; t < n * n; t += WG) { scaledCost[t] = 1.0 - cosines[base + t]; }
  workgroupBarrier();

  var rawU = 0.0;
  var rawV = 0.0;
  if (i < n) {
    if (params.weightMode == 0u) {
      rawU = weightsU[(params.pairOffset + p) * n + i];
      rawV = weightsV[(params.pairOffset + p) * n + i];
    } else {
      for (var j = 0u; j < n; j++) {
        let dRow = scaledCost[i * n + j];
        let dCol = scaledCost[j * n + i];
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
    logU[i] = safeLog(ui);
    logV[i] = safeLog(vi);
    fs[i] = 0.0;
    gs[i] = 0.0;
  }
  workgroupBarrier();
  for (var t = i; t < n * n; t += WG) { scaledCost[t] = scaledCost[t] * invEps; }
  workgroupBarrier();

  var iterations = 0u;
  loop {
    // Candidate row update, and the row error of the current plan it reveals:
    // row mass_i = u_i * exp(fs_i - fsNext_i).
    var fsNext = NO_MASS;
    var err = 0.0;
    if (i < n && logU[i] > NO_MASS) {
      fsNext = logU[i] - rowLse(i, n);
      err = ui * abs(exp(fs[i] - fsNext) - 1.0);
    }
    let errTotal = workgroupSum(i, err);
    if (i == 0u) {
      stopFlag = select(0u, 1u, (iterations > 0u && errTotal <= params.tol) || iterations >= params.maxIter);
    }
    if (workgroupUniformLoad(&stopFlag) == 1u) { break; }
    iterations++;
    if (i < n) { fs[i] = fsNext; }
    workgroupBarrier();
    if (i < n) { gs[i] = select(NO_MASS, logV[i] - colLse(i, n), logV[i] > NO_MASS); }
    workgroupBarrier();
  }

  var sim = 0.0;
  var rowErr = 0.0;
  var colErr = 0.0;
  if (i < n) {
    var rowMass = 0.0;
    var colMass = 0.0;
    for (var j = 0u; j < n; j++) {
      let tij = select(0.0, exp(fs[i] + gs[j] - scaledCost[i * n + j]), logU[i] > NO_MASS && logV[j] > NO_MASS);
      sim += tij * cosines[base + i * n + j];
      rowMass += tij;
      colMass += select(0.0, exp(fs[j] + gs[i] - scaledCost[j * n + i]), logU[j] > NO_MASS && logV[i] > NO_MASS);
    }
    rowErr = abs(rowMass - ui);
    colErr = abs(colMass - vi);
  }
  let simTotal = workgroupSum(i, sim);
  let rowTotal = workgroupSum(i, rowErr);
  let colTotal = workgroupSum(i, colErr);
  if (i == 0u) {
    results[params.pairOffset + p] = vec4<f32>(simTotal, f32(iterations), max(rowTotal, colTotal), 0.0);
  }
}

// What both Sinkhorn kernels share, appended to each at pipeline build
// (SinkhornKernel.create): the parameter block and bindings that
// sinkhornKernel.ts fills, the workgroup reduction, and the weight
// normalisation of the sc / sc-sim modes. Appended rather than prepended so a
// compiler message's line numbers still point into the kernel's own file;
// WGSL lets module-scope declarations come in any order.

struct Params {
  n: u32,
  pairs: u32,
  maxIter: u32,
  weightMode: u32,  // 0: u, v given; 1: sc (sums of distances); 2: sc-sim (sums of similarities)
  eps: f32,
  tol: f32,         // the converged kernel's stop rule; the reference rule is fixed and ignores it
  pairOffset: u32,  // where this dispatch's pairs start in `weightsU`, `weightsV` and `results`
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> cosines: array<f32>;
@group(0) @binding(2) var<storage, read> weightsU: array<f32>;
@group(0) @binding(3) var<storage, read> weightsV: array<f32>;
// Per pair: similarity, iterations, marginal error, 0.
@group(0) @binding(4) var<storage, read_write> results: array<vec4<f32>>;

override MAX_N: u32 = 64u;
// The workgroup size: thread i owns row i and column i, so N <= WG.
const WG: u32 = 64u;
const WEIGHT_EPS: f32 = 1e-7;

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

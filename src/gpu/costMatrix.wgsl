// Batched cosine matrices: cosines[p][i][j] = <query patch i, candidate_p patch j>
// for unit patches (so 1 - cosine is the ground cost). One workgroup computes an
// 8 x 8 tile of one pair's matrix, staging 8 query rows and 8 candidate rows of
// 64 channels at a time in workgroup memory so each global load is reused 8 times.

struct Params {
  n: u32,          // patches per face
  cVec4: u32,      // channels / 4
  pairs: u32,
  _pad: u32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> queryPatches: array<vec4<f32>>;
@group(0) @binding(2) var<storage, read> candidates: array<vec4<f32>>;
@group(0) @binding(3) var<storage, read_write> cosines: array<f32>;

const TILE: u32 = 8u;
const CHUNK: u32 = 16u; // vec4s per staged row chunk (64 channels)
const THREADS: u32 = 64u;

var<workgroup> queryTile: array<vec4<f32>, 128>;     // TILE * CHUNK
var<workgroup> candidateTile: array<vec4<f32>, 128>;

@compute @workgroup_size(8, 8, 1)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let p = wg.z;
  let n = params.n;
  let cv = params.cVec4;
  let candidateBase = p * n * cv;
  let i = wg.y * TILE + lid.y;
  let j = wg.x * TILE + lid.x;
  var acc = vec4<f32>(0.0);
  for (var k0 = 0u; k0 < cv; k0 += CHUNK) {
    for (var t = li; t < TILE * CHUNK; t += THREADS) {
      let row = t / CHUNK;
      let k = k0 + t % CHUNK;
      let qi = wg.y * TILE + row;
      let gj = wg.x * TILE + row;
      var q = vec4<f32>(0.0);
      var g = vec4<f32>(0.0);
      if (qi < n && k < cv) { q = queryPatches[qi * cv + k]; }
      if (gj < n && k < cv) { g = candidates[candidateBase + gj * cv + k]; }
      queryTile[t] = q;
      candidateTile[t] = g;
    }
    workgroupBarrier();
    for (var k = 0u; k < CHUNK; k++) {
      acc += queryTile[lid.y * CHUNK + k] * candidateTile[lid.x * CHUNK + k];
    }
    workgroupBarrier();
  }
  if (i < n && j < n) {
    cosines[(p * n + i) * n + j] = (acc.x + acc.y) + (acc.z + acc.w);
  }
}

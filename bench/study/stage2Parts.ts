/**
 * Where stage 2's CPU time goes on the default pipeline's FaceRes maps
 * (issue 16): 100 real lfw-dev candidates (the study's dump, every 7th
 * image) against one query, timed part by part with the engine's own code:
 * the whole CpuStage2Scorer batch (SIMD cost matrices + reference Sinkhorn)
 * with APC weights given, and with APC computed by the scorer beside the
 * costs (the engine's path since 2026-12-03), the cost matrices alone, APC
 * weights in JS (the engine's path before), and decoding the stored 8-bit
 * sparse maps (decodePatchMapUnit, arrays reused); then the engine's path for a
 * gallery on disk before and after 2026-12-05: decoding each stored map and
 * scoring the decoded batch, against scoring the stored maps as they are
 * (scoreEncodedMaps, the codes listed straight into the sparse costs).
 * `npx tsx bench/study/stage2Parts.ts` (needs .cache/study/none.f32).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { CpuStage2Scorer } from '../../src/engine/stage2Batch.ts';
import { DotWorkspace } from '../../src/engine/simd/dotWorkspace.ts';
import { DEFAULT_SETTINGS } from '../../src/core/types.ts';
import { unitPatchGrid, unitAveragePatch } from '../../src/engine/patchGrid.ts';
import { patchWeightsApc } from '../../src/engine/weights.ts';
import { encodePatchMap, decodePatchMapUnit } from '../../src/engine/quant/patchCodec.ts';
import { DIMS, RECORD_FLOATS, STUDY_DIR } from './shared.ts';
const fd = openSync(join(STUDY_DIR, 'none.f32'), 'r');
const rec = new Float32Array(RECORD_FLOATS);
const frAt = DIMS.mfEmb + DIMS.mfPatch + 1024;
const grids: Float32Array[] = [];
const avgs: Float32Array[] = [];
const raws: Float32Array[] = [];
for (let i = 0; i < 101; i++) {
  readSync(fd, new Uint8Array(rec.buffer), 0, rec.byteLength, i * 7 * RECORD_FLOATS * 4);
  const map = { h: 7, w: 7, c: 1024, data: rec.slice(frAt, frAt + DIMS.frPatch) };
  raws.push(map.data);
  grids.push(unitPatchGrid(map, 7));
  avgs.push(unitAveragePatch(map));
}
closeSync(fd);
let nz = 0;
for (const g of raws.slice(1)) for (const x of g) if (x !== 0) nz++;
console.log('density', (nz / (100 * 49 * 1024)).toFixed(3));
const n = 49,
  c = 1024;
const q = grids[0];
const u = new Float32Array(100 * n),
  v = new Float32Array(100 * n);
for (let p = 0; p < 100; p++) {
  u.set(patchWeightsApc(q, n, c, avgs[p + 1]), p * n);
  v.set(patchWeightsApc(grids[p + 1], n, c, avgs[0]), p * n);
}
const scorer = new CpuStage2Scorer();
// The engine's batch arrays, reused query to query as there.
const patches = new Float32Array(100 * n * c);
const averages = new Float32Array(100 * c);
const sinkhorn = { ...DEFAULT_SETTINGS.sinkhorn };
for (let r = 0; r < 5; r++) {
  let t = performance.now();
  const res = scorer.scoreBatch({ n, c, query: q, candidates: grids.slice(1), weights: { kind: 'given', u, v }, sinkhorn });
  const total = performance.now() - t;
  t = performance.now();
  scorer.scoreBatch({ n, c, query: q, candidates: grids.slice(1), weights: { kind: 'apc', queryAverage: avgs[0], candidateAverages: avgs.slice(1) }, sinkhorn });
  const withApc = performance.now() - t;
  const ws = new DotWorkspace();
  ws.reserve(3 * n * c);
  t = performance.now();
  for (let p = 0; p < 100; p++) {
    ws.data.set(q, 0);
    ws.data.set(grids[p + 1], n * c);
    ws.dots(0, n, n * c, n, c, 2 * n * c, n);
  }
  const dots = performance.now() - t;
  t = performance.now();
  for (let p = 0; p < 100; p++) {
    patchWeightsApc(q, n, c, avgs[p + 1]);
    patchWeightsApc(grids[p + 1], n, c, avgs[0]);
  }
  const apc = performance.now() - t;
  const enc = raws.slice(1).map((m) => encodePatchMap({ h: 7, w: 7, c, data: m }));
  t = performance.now();
  let reuse: ReturnType<typeof decodePatchMapUnit> | undefined;
  for (const e of enc) reuse = decodePatchMapUnit(e, reuse);
  const dec = performance.now() - t;
  // The engine before: each candidate decoded into a lent face, copied into the batch's arrays, then scored.
  t = performance.now();
  for (let p = 0; p < 100; p++) {
    reuse = decodePatchMapUnit(enc[p], reuse);
    patches.set(reuse.unitPatches, p * n * c);
    averages.set(reuse.unitAverage, p * c);
  }
  const decodedRes = scorer.scoreBatch({
    n,
    c,
    query: q,
    candidates: Array.from({ length: 100 }, (_, p) => patches.subarray(p * n * c, (p + 1) * n * c)),
    weights: { kind: 'apc', queryAverage: avgs[0], candidateAverages: Array.from({ length: 100 }, (_, p) => averages.subarray(p * c, (p + 1) * c)) },
    sinkhorn,
  });
  const decodedPath = performance.now() - t;
  t = performance.now();
  const storedRes = scorer.scoreEncodedMaps({ grid: 7, c, query: q, queryAverage: avgs[0], count: 100, mapOf: (p) => enc[p], sinkhorn });
  const storedPath = performance.now() - t;
  const same = storedRes.similarity.every((s, p) => s === decodedRes.similarity[p]);
  const it = Array.from(res.iterations).sort((a, b) => a - b);
  console.log(
    `batch (APC given) ${total.toFixed(1)} ms; batch computing APC ${withApc.toFixed(1)}; dots ${dots.toFixed(1)}; APC in JS ${apc.toFixed(1)}; decode ${dec.toFixed(1)}; iters median ${it[50]}`,
  );
  console.log(`100 stored candidates: decoded then scored ${decodedPath.toFixed(1)} ms; scored as stored ${storedPath.toFixed(1)} ms (same s_emd: ${same})`);
}

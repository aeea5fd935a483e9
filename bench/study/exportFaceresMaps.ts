/**
 * Writes 101 real FaceRes features from the study's dump (every 7th lfw-dev
 * image: the 1024-D embedding, then the 7x7x1024 map, float32) to one file,
 * for `bench/gpuNode.ts --faceres-maps`: stage 2 on real maps (89% zeros,
 * ~23 Sinkhorn rounds under the authors' stop) where no dump can be made.
 * `npx tsx bench/study/exportFaceresMaps.ts [OUT]` (needs .cache/study/none.f32
 * from bench/study/dump.ts; the output is derived from lfw-dev: never commit it).
 */
import { closeSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DIMS, RECORD_FLOATS, STUDY_DIR } from './shared.ts';

const out = process.argv[2] ?? join(STUDY_DIR, '..', 'gpuNode', 'faceres-maps.f32');
const fd = openSync(join(STUDY_DIR, 'none.f32'), 'r');
const rec = new Float32Array(RECORD_FLOATS);
const per = DIMS.frEmb + DIMS.frPatch;
const all = new Float32Array(101 * per);
for (let i = 0; i < 101; i++) {
  readSync(fd, new Uint8Array(rec.buffer), 0, rec.byteLength, i * 7 * RECORD_FLOATS * 4);
  all.set(rec.subarray(DIMS.mfEmb + DIMS.mfPatch, RECORD_FLOATS), i * per);
}
closeSync(fd);
writeFileSync(out, new Uint8Array(all.buffer));
console.log(`wrote ${out}: 101 x (1024 + 7x7x1024) float32`);

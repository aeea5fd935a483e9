/**
 * `npx tsx bench/patchLocality.ts [MODEL] [N]`: how far an occlusion moves a
 * recognizer's features. For N lfw-dev faces (every 50th image), the cosine
 * between the clean and the occluded face's embedding, and per row of the
 * patch map (top to bottom) the mean cosine between the clean and occluded
 * patch at the same position. Runs the app's face pipeline in Node (WASM).
 */
import { readFileSync } from 'node:fs';
import { applyOod } from '../src/face/ood.ts';
import { referenceCosine } from '../tests/support/vectors.ts';
import { listIdentityImages } from '../tests/unit/face/helpers/data.ts';
import { decodeImageNode } from '../tests/unit/face/helpers/decodeNode.ts';
import { createPipeline } from '../tests/unit/face/helpers/models.ts';

const model = process.argv[2] ?? 'mobilefacenet-arcface';
const n = Number(process.argv[3] ?? 60);
const { pipeline } = await createPipeline(model);
const images = listIdentityImages('lfw-dev')
  .filter((_, i) => i % 50 === 0)
  .slice(0, n);

for (const ood of ['sunglasses', 'mask'] as const) {
  let rows: number[] = [];
  let embeddingCos = 0;
  for (const img of images) {
    const face = await pipeline.analyse(decodeImageNode(new Uint8Array(readFileSync(img.path)), img.name), img.name);
    const [clean, occluded] = await pipeline.embed([face, applyOod(ood, face, 1)]);
    const { h, w, c } = clean.patches;
    if (rows.length === 0) rows = new Array<number>(h).fill(0);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const at = (y * w + x) * c;
        rows[y] += referenceCosine(clean.patches.data.subarray(at, at + c), occluded.patches.data.subarray(at, at + c)) / (w * images.length);
      }
    }
    embeddingCos += referenceCosine(clean.embedding, occluded.embedding) / images.length;
  }
  console.log(`${model} ${ood} (${images.length} faces): embedding cosine ${embeddingCos.toFixed(3)}; patch cosine per row, top to bottom: ${rows.map((r) => r.toFixed(2)).join(' ')}`);
}

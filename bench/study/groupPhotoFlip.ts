/**
 * Adds the mirrored query versions to a group-photo dump (groupPhotoStudy.ts --dump):
 * each query photo flipped left-right, extracted again, clean and drawn.
 * `npx tsx bench/study/groupPhotoFlip.ts IN OUT`, then `groupPhotoReplay.ts OUT --flip`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { deserialize, serialize } from 'node:v8';
import { AppError } from '../../src/core/errors.ts';
import type { FaceFeatures, OodTransform, RgbaImage } from '../../src/core/types.ts';
import { extractFace } from '../../src/face/extractFace.ts';
import { listIdentityImages } from '../../tests/unit/face/helpers/data.ts';
import { decodeImageNode } from '../../tests/unit/face/helpers/decodeNode.ts';
import { defaultPipeline } from './groupPhotoStudy.ts';

function mirrored(image: RgbaImage): RgbaImage {
  const { width, height, data } = image;
  const out = new Uint8ClampedArray(data.length);
  for (let y = 0; y < height; y++)
    for (let x = 0; x < width; x++) {
      const a = (y * width + x) * 4;
      const b = (y * width + (width - 1 - x)) * 4;
      out[b] = data[a];
      out[b + 1] = data[a + 1];
      out[b + 2] = data[a + 2];
      out[b + 3] = data[a + 3];
    }
  return { width, height, data: out };
}

const [input, output] = process.argv.slice(2);
const dump = deserialize(readFileSync(input)) as { queries: { identity: string; versions: Record<string, FaceFeatures> }[] };
const pipeline = await defaultPipeline();
const byId = new Map<string, { path: string; name: string }[]>();
for (const im of listIdentityImages('lfw-dev')) byId.set(im.identity, [...(byId.get(im.identity) ?? []), im]);
let done = 0;
for (const q of dump.queries) {
  const im = (byId.get(q.identity) ?? [])[1];
  const image = mirrored(decodeImageNode(new Uint8Array(readFileSync(im.path)), im.name));
  for (const kind of Object.keys(q.versions) as OodTransform[]) {
    if (kind.includes('~')) continue;
    const r = await extractFace(pipeline, image, im.name, { purpose: 'query', ood: kind, seed: 7 }).catch((e: unknown) => {
      if (e instanceof AppError) return null;
      throw e;
    });
    if (r) q.versions[`${kind}~flip`] = r.features;
  }
  process.stderr.write(`\r${++done}/${dump.queries.length}`);
}
writeFileSync(output, serialize(dump));

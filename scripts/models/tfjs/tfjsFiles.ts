/** Reads pinned TF.js model files (weights manifest + shards) into decoded weight tensors. */
import type { ModelSource } from '../../../src/models/manifest.ts';
import { readSource } from '../sources.ts';
import { decodeWeights, type WeightGroup, type WeightTensor } from './weights.ts';

export function readJsonSource<T>(src: ModelSource): T {
  return JSON.parse(new TextDecoder().decode(readSource(src))) as T;
}

/**
 * Decodes the weights of a manifest whose groups name shard files relative to
 * the manifest; `shards` gives the pinned source for each such file name, so
 * an unpinned shard stops the build.
 */
export function readPinnedWeights(groups: readonly WeightGroup[], shards: Readonly<Record<string, ModelSource>>): Map<string, WeightTensor> {
  return decodeWeights(groups, (path) => {
    const src = shards[path];
    if (!src) throw new Error(`TF.js weight shard "${path}" is not pinned in scripts/models/tfjs/tfjsSources.ts`);
    return readSource(src);
  });
}

/**
 * Damage-matched search in a photo library (issue 17). A clean query is a
 * poor match for a library face behind a mask or sunglasses: the occluder
 * changes the face's embedding more than the person does. So the query is
 * also drawn with each occluder (the same generators the evaluation uses),
 * and every library face is compared with the version of the query that
 * wears what it wears (the damage detector reads each library face's map),
 * so like is compared with like.
 *
 * Scores of different pairings are not on one scale: two strangers who both
 * wear a mask score higher than two clean strangers (the occluder itself
 * matches). Each pairing's scores are therefore shifted by the mean score of
 * impostor pairs of that pairing (src/models/damageMatched.ts; for drawn
 * pairs compared by the projected cosine, src/models/matchedNap.ts), so that a
 * masked stranger is not preferred over the clean true match because of the
 * mask. The levels are of the cosine: the drawn versions are compared at
 * alpha 0 in both stages (module matchedLibrarySearch.ts says why), and so is a
 * clean query under the default. This module only merges; the engine
 * searches and the detector reads.
 */
import type { OodTransform } from '../core/types.ts';

/** Per kind: the mean score of impostor pairs that both wear it (the fused cosine). */
export type PairingLevels = Readonly<Record<OodTransform, number>>;

export interface VersionHit {
  readonly id: string;
  readonly score: number;
}

/** One search of the library: the query as drawn with `kind` ('none': as it is). */
export interface VersionResult<H extends VersionHit> {
  readonly kind: OodTransform;
  readonly stage1: readonly H[];
  readonly stage2: readonly H[];
}

export interface MatchedHit<H extends VersionHit> {
  readonly hit: H;
  /** Which version of the query this face was compared with. */
  readonly via: OodTransform;
  /** The score on the common scale the merged list is sorted by: score - the pairing's impostor level. */
  readonly level: number;
}

/**
 * Merges the versions' lists: a face counts only in the list of the version
 * that wears what the face wears (`kindOf`); a face whose kind has no version
 * counts in the plain query's ('none') list. Sorted by the level-shifted
 * score, best first; equal ones keep the order of `versions`, then of the list.
 */
export function mergeMatched<H extends VersionHit>(versions: readonly VersionResult<H>[], kindOf: (id: string) => OodTransform, levels: PairingLevels, stage: 'stage1' | 'stage2'): MatchedHit<H>[] {
  const drawn = new Set(versions.map((v) => v.kind));
  const out: (MatchedHit<H> & { order: number })[] = [];
  const seen = new Set<string>();
  let order = 0;
  for (const v of versions)
    for (const hit of v[stage]) {
      const kind = kindOf(hit.id);
      const via = drawn.has(kind) ? kind : 'none';
      if (via !== v.kind || seen.has(hit.id)) continue;
      seen.add(hit.id);
      out.push({ hit, via, level: hit.score - levels[via], order: order++ });
    }
  out.sort((a, b) => b.level - a.level || a.order - b.order);
  return out.map(({ hit, via, level }) => ({ hit, via, level }));
}

/**
 * A library search that compares like with like (src/engine/damageMatched.ts):
 * when the query reads clean, it is searched again as drawn with a mask and
 * with sunglasses, and each library face is scored against the version that
 * wears what the detector reads in that face. Falls back to the plain search
 * (saying why) where the rule has no damage detector or the query itself
 * looks damaged: a masked query is not un-masked, so it is compared as it is.
 * A drawn pair's cosine is taken without the few directions the occluder
 * moves every face along (src/engine/nuisanceProjection.ts), so that what two
 * masked faces share because of the mask counts less than who they are.
 */
import { toPlainError } from '../core/errors.ts';
import type { FaceFeatures, OodTransform, RerankSettings } from '../core/types.ts';
import { mergeMatched, type PairingLevels, type VersionHit, type VersionResult } from '../engine/damageMatched.ts';
import { napCosine } from '../engine/nuisanceProjection.ts';
import type { SearchEngine } from '../engine/searchEngine.ts';
import { unitEmbedding } from '../engine/vectors.ts';
import { MATCHED_PAIRING_LEVELS } from '../models/damageMatched.ts';
import type { MatchedNap } from '../models/matchedNap.ts';

/** The occluders a query is drawn with: the detector's kinds a library face can wear that a drawing reproduces. */
export const MATCHED_KINDS = ['mask', 'sunglasses'] as const satisfies readonly OodTransform[];

export interface MatchedHit {
  readonly id: string;
  /** The score of the pair as compared (the drawn query's, for a face compared through one). */
  readonly score: number;
  /** 1-based. */
  readonly rankBefore: number;
  readonly rankAfter: number;
  /** The version of the query this face was compared with ('none': the query as it is). */
  readonly via: OodTransform;
}

export interface MatchedSearchResult<H = MatchedHit> {
  readonly stage1: readonly H[];
  readonly stage2: readonly H[];
  readonly alpha: number | 'sum';
  readonly alphaReason: string;
  readonly stage2Ms: number;
  /** What was matched, or why the plain search ran. */
  readonly matching: string;
}

/** The query drawn with an occluder, through the extraction workers (the evaluation's generators on the aligned face). */
export type DrawnQuery = (kind: OodTransform) => Promise<FaceFeatures>;

/** The nuisance directions for drawn pairs (src/engine/nuisanceProjection.ts), or why there are none. */
export type MatchedNapSource = { readonly model: MatchedNap } | { readonly unavailable: string };

export async function matchedLibrarySearch(
  index: SearchEngine,
  query: FaceFeatures,
  settings: RerankSettings,
  drawn: DrawnQuery | null,
  nap: MatchedNapSource = { unavailable: 'no nuisance directions were given' },
): Promise<MatchedSearchResult> {
  const plain = await index.search(query, settings);
  const k = plain.stage2.length;
  const asPlain = (matching: string): MatchedSearchResult => ({
    stage1: plain.stage1.slice(0, k).map((h) => ({ id: h.id, score: h.score, rankBefore: h.rank, rankAfter: h.rank, via: 'none' })),
    stage2: plain.stage2.map((h) => ({ id: h.id, score: h.score, rankBefore: h.rankBefore, rankAfter: h.rankAfter, via: 'none' })),
    alpha: plain.alpha,
    alphaReason: plain.alphaReason,
    stage2Ms: plain.timings.stage2Ms,
    matching,
  });
  const byDamage = settings.adaptiveAlpha?.byDamage;
  if (!drawn) return asPlain('not matched: this search has no way to draw the query');
  if (!byDamage) return asPlain('not matched: the settings have no alpha by damage kind (the paper preset compares the query as it is)');
  const damage = plain.damage;
  if (!damage || !('kind' in damage)) return asPlain(`not matched: ${damage && 'unavailable' in damage ? damage.unavailable : 'the query was not read'}`);
  if (damage.kind !== 'none') return asPlain(`not matched: the query itself looks like ${damage.kind}; it is compared as it is`);
  const versions: VersionResult<VersionHit>[] = [{ kind: 'none', stage1: plain.stage1.slice(0, k), stage2: plain.stage2 }];
  // Both drawings at once: the extractor pool runs them on two workers where it has them.
  const drawings = MATCHED_KINDS.map((kind) => [kind, drawn(kind)] as const);
  const drawnQueries = new Map<OodTransform, FaceFeatures>();
  for (const [kind, drawing] of drawings) {
    // Alpha 0 for a drawn version, as for the clean query it is drawn from: both faces then wear the same occluder, so
    // there is no hidden part for the transport to skip (the alphas by damage were fitted on damaged queries against
    // clean faces), and on the group-photo study blending s_emd into these pairs lost (docs/RESULTS.md).
    let features: FaceFeatures;
    try {
      features = await drawing;
    } catch (e) {
      // The plain search's results still stand; the page shows why this one was not matched.
      return asPlain(`not matched: the query could not be drawn with ${kind === 'mask' ? 'a mask' : kind} (${toPlainError(e).message})`);
    }
    // At alpha 0 stage 2 keeps stage 1's order and scores, so no transport is run for a drawing.
    const top = index.searchStage1(features, k);
    versions.push({ kind, stage1: top, stage2: top });
    drawnQueries.set(kind, features);
  }
  const ids = [...new Set(versions.flatMap((v) => [...v.stage1, ...v.stage2].map((h) => h.id)))];
  const kinds = index.galleryDamage(ids);
  if (!Array.isArray(kinds)) return asPlain(`not matched: ${kinds.unavailable}`);
  const kindOf = new Map(ids.map((id, i) => [id, kinds[i]]));
  const kindOfId = (id: string): OodTransform => kindOf.get(id) ?? 'none';
  const projected = projectDrawnPairs(index, versions, drawnQueries, kindOfId, nap, query.embedding.length);
  const stage1 = mergeMatched(projected.versions, kindOfId, projected.levels, 'stage1').slice(0, k);
  const stage2 = mergeMatched(projected.versions, kindOfId, projected.levels, 'stage2').slice(0, k);
  const before = new Map(stage1.map((h, i) => [h.hit.id, i + 1]));
  const wearing = MATCHED_KINDS.map((kind) => `${stage2.filter((h) => h.via === kind).length} ${kind}`).join(', ');
  return {
    stage1: stage1.map((h, i) => ({ id: h.hit.id, score: h.hit.score, rankBefore: i + 1, rankAfter: i + 1, via: h.via })),
    stage2: stage2.map((h, i) => ({ id: h.hit.id, score: h.hit.score, rankBefore: before.get(h.hit.id) ?? k + 1, rankAfter: i + 1, via: h.via })),
    alpha: plain.alpha,
    alphaReason: plain.alphaReason,
    stage2Ms: plain.timings.stage2Ms,
    matching: `matched: of the top ${stage2.length}, ${wearing} compared with the query drawn the same way (${projected.note})`,
  };
}

/**
 * A drawn version's hits that wear its kind, rescored as the cosine with the occluder's shared directions removed from
 * both faces, and the levels that go with those scores (src/models/matchedNap.ts). The drawn version's own top k was
 * picked by the plain cosine; the projection only re-scores it. Where the directions are missing or belong to another
 * embedding, the plain cosines and src/models/damageMatched.ts's levels stay, and the note says why.
 */
function projectDrawnPairs(
  index: SearchEngine,
  versions: readonly VersionResult<VersionHit>[],
  drawnQueries: ReadonlyMap<OodTransform, FaceFeatures>,
  kindOf: (id: string) => OodTransform,
  nap: MatchedNapSource,
  dims: number,
): { versions: readonly VersionResult<VersionHit>[]; levels: PairingLevels; note: string } {
  if (!('model' in nap)) return { versions, levels: MATCHED_PAIRING_LEVELS, note: `not projected: ${nap.unavailable}` };
  const { directions, levels } = nap.model;
  const length = directions.mask[0]?.length;
  if (length !== undefined && length !== dims)
    return { versions, levels: MATCHED_PAIRING_LEVELS, note: `not projected: the nuisance directions are for embeddings of ${length} values, this library's have ${dims}` };
  const projected = versions.map((v): VersionResult<VersionHit> => {
    const drawnQuery = drawnQueries.get(v.kind);
    if (!drawnQuery || (v.kind !== 'mask' && v.kind !== 'sunglasses')) return v;
    const u = directions[v.kind];
    const q = unitEmbedding(drawnQuery.embedding, 'the drawn query embedding');
    // Both stages of a drawn version hold its stage-1 list (compared at alpha 0); only faces of its kind count in the merge.
    const own = v.stage1.filter((h) => kindOf(h.id) === v.kind);
    const rows = index.unitEmbeddings(own.map((h) => h.id));
    const rescored = own.map((h, i) => ({ ...h, score: napCosine(q, rows.subarray(i * q.length, (i + 1) * q.length), u) }));
    return { kind: v.kind, stage1: rescored, stage2: rescored };
  });
  return {
    versions: projected,
    levels: { ...MATCHED_PAIRING_LEVELS, mask: levels.mask, sunglasses: levels.sunglasses },
    note: `drawn pairs compared without the occluder's ${directions.mask.length} shared directions`,
  };
}

import type { RankedView } from '../../app/engineApi.ts';
import type { UnknownPersonVerdict } from '../../models/unknownPerson.ts';
import { selectResult, setQueryFromGallery } from '../controller.ts';
import { matchingPreset } from '../../models/presets.ts';
import { useAppStore } from '../store.ts';
import { Thumb } from './Thumb.tsx';

function ResultCard({ r, stage, known, selected }: { r: RankedView; stage: 1 | 2; known?: string; selected: boolean }) {
  const verdict = known === undefined ? '' : r.label === known ? 'correct' : 'incorrect';
  const moved = r.rankBefore !== r.rankAfter;
  return (
    <li className={`result ${verdict} ${selected ? 'selected' : ''}`} data-testid={`stage${stage}-result`} data-verdict={verdict} data-score={r.score} data-key={r.key}>
      <button onClick={() => void selectResult(r.key)} title="show flow and weights for this pair" data-testid="result-select">
        <Thumb galleryKey={r.key} alt={r.label} />
        <div className="result-label" data-testid="result-label">
          {r.label}
        </div>
        <div className="score" data-testid="result-score">
          {r.score.toFixed(4)}
        </div>
        {stage === 2 && (
          <div className={`rank-move ${moved ? (r.rankAfter < r.rankBefore ? 'up' : 'down') : ''}`} data-testid="rank-move">
            {r.rankBefore} → {r.rankAfter}
          </div>
        )}
        {verdict && <div className="verdict">{verdict === 'correct' ? '✓' : '✗'}</div>}
      </button>
      <button className="link use-as-query" data-testid="use-as-query" title={`search with this gallery face of ${r.label}`} onClick={() => void setQueryFromGallery(r.key)}>
        use as query
      </button>
    </li>
  );
}

export function ResultRows() {
  const results = useAppStore((s) => s.results);
  const known = useAppStore((s) => s.query?.view.knownIdentity);
  const selected = useAppStore((s) => s.selectedKey);
  const searching = useAppStore((s) => s.searching);
  const settings = useAppStore((s) => s.settings);
  const active = useAppStore((s) => (s.models.phase === 'ready' ? s.models.status.active : null));
  const preset = active ? matchingPreset(active.id, settings) : undefined;
  const policyName = preset ? `the ${preset.id} preset (${preset.title})` : `custom settings on ${active?.id ?? '?'}`;
  const stale = useAppStore((s) => s.resultsStale);
  if (!results)
    return (
      <section className="panel results">
        <p className="hint">Build a gallery and drop a query to see the rankings.</p>
      </section>
    );
  return (
    <section className={`panel results ${searching ? 'busy' : ''} ${stale ? 'stale' : ''}`} aria-label="Results" data-testid="results">
      {stale && (
        <p className="stale-note" data-testid="results-stale">
          {stale}
        </p>
      )}
      <UnknownPersonNote verdict={results.unknownPerson} closest={results.stage2[0]?.label ?? results.stage1[0]?.label} />
      <p className="policy" data-testid="ranking-policy">
        ranked by <b>{policyName}</b>
        {' · '}stage 2 alpha <b data-testid="query-alpha">{results.alpha === 'sum' ? 'sum' : results.alpha.toFixed(2)}</b>
        {results.alphaReason && <span data-testid="alpha-reason"> ({results.alphaReason})</span>}
      </p>
      <div className="result-row">
        <h3>Stage 1: cosine</h3>
        <ol data-testid="stage1-row">
          {results.stage1.slice(0, 5).map((r) => (
            <ResultCard key={r.key} r={r} stage={1} known={known} selected={r.key === selected} />
          ))}
        </ol>
      </div>
      <ScoreHelp />
      <div className="result-row">
        <h3>Stage 2: EMD re-ranked (top {results.k})</h3>
        <ol data-testid="stage2-row">
          {results.stage2.slice(0, 5).map((r) => (
            <ResultCard key={r.key} r={r} stage={2} known={known} selected={r.key === selected} />
          ))}
        </ol>
      </div>
    </section>
  );
}

function ScoreHelp() {
  return (
    <details className="help" data-testid="score-help">
      <summary>What the scores mean</summary>
      <ul>
        <li>
          <b>Stage 1</b> scores are <b>s_cos</b>: the cosine similarity of the two faces&apos; whole-face embeddings (1 = same direction, 0 = unrelated).
        </li>
        <li>
          <b>s_emd</b> compares the faces patch by patch: each face&apos;s last feature map is a grid of patches, patches are matched across the faces at least total cost (the Earth Mover&apos;s
          Distance, cost 1 &minus; patch cosine), and s_emd is 1 minus that cost. A face that is partly hidden (mask, sunglasses) or cropped can still match on the patches that remain.
        </li>
        <li>
          <b>Stage 2</b> re-ranks the top k of stage 1 by the blended score <b>alpha &middot; s_emd + (1 &minus; alpha) &middot; s_cos</b>; the arrows show each face&apos;s rank before &rarr; after.
          With the default&apos;s two recognizers, stage 1&apos;s s_cos weighs MobileFaceNet&apos;s cosine 0.4 and FaceRes&apos;s 0.6; for a query read as masked or wearing sunglasses stage 2 blends a
          cosine that leans on MobileFaceNet instead (the note beside alpha gives the weight): FaceRes then speaks mostly through s_emd.
        </li>
      </ul>
    </details>
  );
}

/** Said before the rankings, so a stranger's closest gallery face is not read as a match. */
function UnknownPersonNote({ verdict, closest }: { verdict: UnknownPersonVerdict | null; closest: string | undefined }) {
  if (verdict === null || verdict === 'match' || closest === undefined) return null;
  return (
    <p className={`unknown-person ${verdict}`} data-testid="unknown-person" data-verdict={verdict}>
      {verdict === 'likely-unknown' ? (
        <>
          <b>Probably someone not in the gallery.</b> The closest face is {closest}, but the match is weak.
        </>
      ) : (
        <>
          <b>Possibly someone not in the gallery.</b> The closest face is {closest}; masked, cropped or sunglasses photos of a known person also score this low.
        </>
      )}
    </p>
  );
}

import type { LibraryHitView } from '../../app/libraryService.ts';
import { selectResult, setQueryFromGallery } from '../controller.ts';
import { openLibraryPhoto } from '../libraryActions.ts';
import { useAppStore } from '../store.ts';
import { personCaption as personOf } from './PhotoView.tsx';
import { PhotoWithBoxes } from './PhotoWithBoxes.tsx';
import { Thumb } from './Thumb.tsx';

const SHOWN = 5;

function Hit({ h, stage }: { h: LibraryHitView; stage: 1 | 2 }) {
  return (
    <li className="result" data-testid={`library-stage${stage}-result`} data-key={h.key} data-label={h.label} data-photo={h.path} data-face={h.faceIndex}>
      <Thumb galleryKey={h.key} alt={personOf(h.label)} />
      <div className="result-label" data-testid="library-result-person">
        {personOf(h.label)}
      </div>
      <div className="score">{h.score.toFixed(4)}</div>
      {h.via !== 'none' && (
        <small
          className="via"
          data-testid="library-result-via"
          title={`this face looks like it wears ${h.via === 'mask' ? 'a mask' : 'sunglasses'}; it was compared with the query drawn the same way`}
        >
          vs query with {h.via}
        </small>
      )}
      <button className="link photo-link" onClick={() => void openLibraryPhoto(h.photoHash)} title="open the photo with every face boxed" data-testid="library-result-open-photo">
        <PhotoWithBoxes photoHash={h.photoHash} boxes={[{ key: h.key, box: h.box, highlight: true }]} size={96} alt={h.path} />
      </button>
      <small className="photo-path" title={`face ${h.faceIndex + 1} of the photo, box x ${h.box[0]}, y ${h.box[1]}, ${h.box[2]} x ${h.box[3]} px`} data-testid="library-result-photo">
        {h.path}
      </small>
      {stage === 2 && (
        <div className="rank-move">
          {h.rankBefore} → {h.rankAfter}
        </div>
      )}
      <button className="link use-as-query" onClick={() => void setQueryFromGallery(h.key)}>
        use as query
      </button>
      <button className="link" onClick={() => void selectResult(h.key)} title="show flow and weights for this pair" data-testid="library-result-flow">
        flow
      </button>
    </li>
  );
}

/** The query's best matches among the photo library's faces, before and after re-ranking. */
export function LibraryResults() {
  const r = useAppStore((s) => s.libraryResults);
  if (!r) return null;
  return (
    <section className="panel results library-results" aria-label="Photo library results" data-testid="library-results" data-query={r.queryFile}>
      <h2>In your photo library</h2>
      <p className="policy">
        alpha {r.alpha === 'sum' ? 'sum' : r.alpha.toFixed(2)}: {r.alphaReason}
      </p>
      <p className="policy" data-testid="library-matching">
        {r.matching}
      </p>
      <div className="result-row">
        <h3>Stage 1: cosine</h3>
        <ol>
          {r.stage1.slice(0, SHOWN).map((h) => (
            <Hit key={h.key} h={h} stage={1} />
          ))}
        </ol>
      </div>
      <div className="result-row">
        <h3>Stage 2: re-ranked with EMD</h3>
        <ol>
          {r.stage2.slice(0, SHOWN).map((h) => (
            <Hit key={h.key} h={h} stage={2} />
          ))}
        </ol>
      </div>
    </section>
  );
}

import { useMemo, useState } from 'react';
import type { ImportProblem } from '../../app/engineApi.ts';
import { PROBLEM_ROWS_WINDOW, problemGroupsView, problemTotal, type ProblemGroupView } from '../importProblemsView.ts';
import { useAppStore } from '../store.ts';
import { virtualWindow } from '../virtualWindow.ts';

const fmtEta = (s: number) => (s < 60 ? `${Math.ceil(s)} s` : `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`);

export function ImportStatus({ onCancel, kind }: { onCancel: () => void; kind: 'gallery' | 'library' }) {
  const p = useAppStore((s) => (s.importKind === kind ? s.importing : null));
  const groups = useMemo(() => (p ? problemGroupsView(p) : []), [p]);
  if (!p) return null;
  const pct = p.total ? (100 * p.done) / p.total : 100;
  return (
    <div className="import-status" data-testid="import-status">
      <progress max={p.total || 1} value={p.done} aria-label="indexing progress" />
      <div className="row">
        <span data-testid="import-counts">
          {p.done} / {p.total} ({pct.toFixed(0)}%) · {p.imagesPerSecond.toFixed(1)} images/s
          {!p.finished && p.etaSeconds > 0 && ` · ETA ${fmtEta(p.etaSeconds)}`}
          {p.skippedDuplicates > 0 && ` · ${p.skippedDuplicates} duplicates skipped`}
          {!p.finished && p.phase === 'grouping' && <span data-testid="import-grouping"> · grouping the new faces into people…</span>}
        </span>
        {!p.finished ? (
          <button onClick={onCancel} data-testid="import-cancel">
            Cancel
          </button>
        ) : (
          <span data-testid="import-done">
            {p.cancelled ? 'cancelled' : 'done'}: {p.added} added
          </span>
        )}
      </div>
      {groups.length > 0 && (
        <details open className="problems problem-groups">
          <summary>{problemTotal(p)} file(s) not indexed or indexed with a note, by kind</summary>
          <div data-testid="import-problems">
            {groups.map((g) => (
              <ProblemGroup key={g.code} group={g} />
            ))}
          </div>
        </details>
      )}
    </div>
  );
}

function ProblemGroup({ group }: { group: ProblemGroupView }) {
  return (
    <details open className="problem-group" data-testid="import-problem-group" data-code={group.code}>
      <summary>
        <b>{group.title}</b>: <span data-testid="import-problem-count">{group.count}</span> file(s) · <i>{group.hint}</i>
      </summary>
      <ProblemRows rows={group.rows} />
      {group.notListedYet > 0 && <p className="problem-more">and {group.notListedYet} more, listed when the import ends</p>}
    </details>
  );
}

/** Only the rows in sight (and a few around them) are in the page: thousands of rows froze it. */
function ProblemRows({ rows }: { rows: readonly ImportProblem[] }) {
  const [scrollTop, setScrollTop] = useState(0);
  const w = virtualWindow(rows.length, scrollTop, PROBLEM_ROWS_WINDOW);
  return (
    <div className="problem-rows" style={{ height: w.boxHeight }} onScroll={(e) => setScrollTop(e.currentTarget.scrollTop)}>
      <ul style={{ height: w.listHeight, paddingTop: w.padTop }}>
        {rows.slice(w.first, w.end).map((q, i) => (
          <li key={w.first + i} style={{ height: w.rowHeight, lineHeight: `${w.rowHeight}px` }} data-code={q.code} data-file={q.file} title={`${q.file}: ${q.message}`}>
            <b>{q.file}</b>: {q.message} <i>{q.hint}</i>
          </li>
        ))}
      </ul>
    </div>
  );
}

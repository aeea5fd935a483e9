import { useAppStore } from '../store.ts';

const fmtEta = (s: number) => (s < 60 ? `${Math.ceil(s)} s` : `${Math.floor(s / 60)} min ${Math.ceil(s % 60)} s`);

export function ImportStatus({ onCancel }: { onCancel: () => void }) {
  const p = useAppStore((s) => s.importing);
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
        </span>
        {!p.finished ? (
          <button onClick={onCancel} data-testid="import-cancel">
            Cancel
          </button>
        ) : (
          <span data-testid="import-done">{p.cancelled ? 'cancelled' : 'done'}: {p.added} added</span>
        )}
      </div>
      {p.problems.length > 0 && (
        <details open className="problems">
          <summary>{p.problems.length} file(s) not indexed</summary>
          <ul data-testid="import-problems">
            {p.problems.map((q, i) => (
              <li key={i} data-code={q.code} data-file={q.file}>
                <b>{q.file}</b>: {q.message} <i>{q.hint}</i>
              </li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}

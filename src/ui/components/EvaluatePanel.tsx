import { useState } from 'react';
import type { OodTransform } from '../../core/types.ts';
import { cancelEvaluation, runEvaluation } from '../controller.ts';
import { download, reportsToCsv } from '../exportResults.ts';
import { useAppStore } from '../store.ts';
import { AlphaChart } from './AlphaChart.tsx';

const OODS: OodTransform[] = ['none', 'crop', 'mask', 'sunglasses'];
const pct = (x: number) => x.toFixed(2);

export function EvaluatePanel() {
  const ev = useAppStore((s) => s.evaluation);
  const gallery = useAppStore((s) => s.gallery);
  const [chosen, setChosen] = useState<OodTransform[]>(['none']);
  const [limit, setLimit] = useState('');
  const canRun = !ev.running && (gallery?.count ?? 0) > 1;
  return (
    <section className="panel evaluate" aria-label="Evaluate">
      <details>
        <summary>
          <h2 style={{ display: 'inline' }}>Evaluate</h2> <span className="note">leave-one-out on this gallery, current settings</span>
        </summary>
        <div className="row">
          {OODS.map((o) => (
            <label key={o}>
              <input type="checkbox" checked={chosen.includes(o)} onChange={(e) => setChosen(e.target.checked ? [...chosen, o] : chosen.filter((c) => c !== o))} /> {o}
            </label>
          ))}
          <label>
            max queries <input type="number" min={1} style={{ width: 70 }} value={limit} placeholder="all" onChange={(e) => setLimit(e.target.value)} data-testid="eval-limit" />
          </label>
          <button disabled={!canRun || chosen.length === 0} onClick={() => void runEvaluation(chosen, limit ? Number(limit) : undefined)} data-testid="eval-run">
            Run
          </button>
          {ev.running && <button onClick={cancelEvaluation}>Cancel</button>}
          {ev.running && ev.progress && (
            <span data-testid="eval-progress">
              {ev.current}: {ev.progress.done} / {ev.progress.total}
            </span>
          )}
        </div>
        {ev.reports.length > 0 && (
          <>
            <table className="eval-table" data-testid="eval-table">
              <thead>
                <tr>
                  <th>query</th>
                  <th>n</th>
                  <th>stage 1 P@1 / RP / MAP@R</th>
                  <th>stage 2 P@1 / RP / MAP@R</th>
                  <th>max P@k</th>
                  <th>ms/query (1 / 2)</th>
                </tr>
              </thead>
              <tbody>
                {ev.reports.map((r) => (
                  <tr key={r.ood}>
                    <td>{r.ood}</td>
                    <td>{r.n_queries}</td>
                    <td>
                      {pct(r.stage1.p1)} / {pct(r.stage1.rp)} / {pct(r.stage1.mapr)}
                    </td>
                    <td>
                      {pct(r.stage2.p1)} / {pct(r.stage2.rp)} / {pct(r.stage2.mapr)}
                    </td>
                    <td>{pct(r.max_precision_at_k)}</td>
                    <td>
                      {r.ms_per_query.stage1.toFixed(1)} / {r.ms_per_query.stage2.toFixed(1)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
            <AlphaChart reports={ev.reports} />
            <div className="row">
              <button onClick={() => download('deepface-emd-eval.json', JSON.stringify(ev.reports, null, 2), 'application/json')}>Export JSON</button>
              <button onClick={() => download('deepface-emd-eval.csv', reportsToCsv(ev.reports), 'text/csv')}>Export CSV</button>
            </div>
          </>
        )}
      </details>
    </section>
  );
}

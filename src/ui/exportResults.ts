/** Evaluation results as JSON and CSV downloads. */
import type { EvalReport } from '../app/engineApi.ts';

export function reportsToCsv(reports: readonly EvalReport[]): string {
  const head = [
    'model',
    'ood',
    'grid',
    'weights',
    'alpha',
    'k',
    'sinkhorn',
    'n_queries',
    'stage1_p1',
    'stage1_rp',
    'stage1_mapr',
    'stage2_p1',
    'stage2_rp',
    'stage2_mapr',
    'max_precision_at_k',
    'ms_stage1',
    'ms_stage2',
    'emd_backend',
  ];
  const rows = reports.map((r) =>
    [
      r.model,
      r.ood,
      r.grid,
      r.weights,
      r.alpha,
      r.k,
      r.sinkhorn,
      r.n_queries,
      r.stage1.p1,
      r.stage1.rp,
      r.stage1.mapr,
      r.stage2.p1,
      r.stage2.rp,
      r.stage2.mapr,
      r.max_precision_at_k,
      r.ms_per_query.stage1,
      r.ms_per_query.stage2,
      r.emd_backend,
    ]
      .map((v) => (typeof v === 'number' ? Number(v.toFixed(4)) : `"${String(v).replace(/"/g, '""')}"`))
      .join(','),
  );
  return [head.join(','), ...rows].join('\n') + '\n';
}

export function download(name: string, text: string, type: string): void {
  downloadBlob(name, new Blob([text], { type }));
}

export function downloadBlob(name: string, blob: Blob): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

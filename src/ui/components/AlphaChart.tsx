import type { EvalReport } from '../../app/engineApi.ts';

const COLOURS: Record<string, string> = { none: '#1f77b4', crop: '#d62728', mask: '#2ca02c', sunglasses: '#9467bd' };

/** P@1 against alpha per query transform, as the paper's Fig. 4; dashed lines mark stage 1. */
export function AlphaChart({ reports }: { reports: readonly EvalReport[] }) {
  const W = 360,
    H = 200,
    L = 40,
    B = 24,
    T = 8,
    R = 8;
  const values = reports.flatMap((r) => [r.stage1.p1, ...r.alpha_sweep.map((a) => a.stage2.p1)]);
  if (values.length === 0) return null;
  const lo = Math.floor(Math.min(...values) / 5) * 5;
  const hi = Math.min(100, Math.ceil(Math.max(...values) / 5) * 5 || 100);
  const x = (a: number) => L + a * (W - L - R);
  const y = (p: number) => T + (1 - (p - lo) / Math.max(hi - lo, 1e-9)) * (H - T - B);
  return (
    <svg width={W} height={H} role="img" aria-label="P@1 versus alpha" data-testid="alpha-chart">
      <line x1={L} y1={H - B} x2={W - R} y2={H - B} stroke="#999" />
      <line x1={L} y1={T} x2={L} y2={H - B} stroke="#999" />
      {[lo, (lo + hi) / 2, hi].map((p) => (
        <text key={p} x={L - 4} y={y(p) + 4} fontSize={10} textAnchor="end">
          {p.toFixed(0)}
        </text>
      ))}
      {[0, 0.5, 1].map((a) => (
        <text key={a} x={x(a)} y={H - 8} fontSize={10} textAnchor="middle">
          {a}
        </text>
      ))}
      <text x={W / 2} y={H} fontSize={10} textAnchor="middle">
        alpha
      </text>
      {reports.map((r) => (
        <g key={r.ood} stroke={COLOURS[r.ood] ?? '#333'}>
          <polyline fill="none" strokeWidth={2} points={r.alpha_sweep.map((a) => `${x(a.alpha)},${y(a.stage2.p1)}`).join(' ')} />
          <line x1={x(0)} x2={x(1)} y1={y(r.stage1.p1)} y2={y(r.stage1.p1)} strokeDasharray="4 3" />
          <text x={W - R} y={y(r.alpha_sweep[r.alpha_sweep.length - 1].stage2.p1) - 3} fontSize={10} textAnchor="end" fill={COLOURS[r.ood]} stroke="none">
            {r.ood}
          </text>
        </g>
      ))}
    </svg>
  );
}

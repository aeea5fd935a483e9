/**
 * `npx tsx bench/resultsTables.ts REPORT.json...`: the markdown rows of
 * docs/RESULTS.md from `npm run eval --json` reports (main run and its
 * `--also` variants), each with the command that reproduces it, plus the
 * alpha sweeps.
 */
import { readFileSync } from 'node:fs';
import { presetById } from '../src/models/presets.ts';
import { alphaText, type EvalJson } from './eval.ts';

function command(r: EvalJson, main: EvalJson): string {
  const preset = presetById(main.preset ?? 'default') ?? presetById('default');
  if (!preset) throw new Error('src/models/presets.ts has no "default" preset');
  const parts = ['npm run eval --', ...(preset.id === 'default' ? [] : [`--preset ${preset.id}`]), `--ood ${r.ood}`];
  const base = preset.settings;
  const model = r.model.split('@')[0];
  if (model !== preset.recognizerId) parts.push(`--model ${model}`);
  if (r.grid !== base.grid) parts.push(`--grid ${r.grid}`);
  if (r.weights !== base.weighting) parts.push(`--weights ${r.weights}`);
  if (r.k !== base.k) parts.push(`--k ${r.k}`);
  const adaptive = (r.adaptive_alpha ?? null) !== null;
  if (!adaptive && (base.adaptiveAlpha || r.alpha !== base.alpha)) parts.push(`--alpha ${r.alpha}`);
  if (r.sinkhorn !== base.sinkhorn.mode) parts.push(`--sinkhorn ${r.sinkhorn}`);
  if (main.n_queries < 3000) parts.push(`--limit ${main.n_queries}`);
  return `\`${parts.join(' ')}\``;
}

const f = (x: number) => x.toFixed(2);

const rows: string[] = [];
const sweeps: string[] = [];
for (const path of process.argv.slice(2)) {
  const main = JSON.parse(readFileSync(path, 'utf8')) as EvalJson & { variants?: EvalJson[] };
  for (const r of [main, ...(main.variants ?? [])]) {
    const d = (a: number, b: number) => `${b - a >= 0 ? '+' : ''}${(b - a).toFixed(2)}`;
    rows.push(
      `| ${r.model.split('@')[0]} | ${r.ood} | ${r.grid}x${r.grid} | ${r.weights} | ${alphaText(r)} | ${r.k} | ${r.n_queries} | ${f(r.stage1.p1)} / ${f(r.stage1.rp)} / ${f(r.stage1.mapr)} | ${f(r.stage2.p1)} / ${f(r.stage2.rp)} / ${f(r.stage2.mapr)} | ${d(r.stage1.p1, r.stage2.p1)} / ${d(r.stage1.mapr, r.stage2.mapr)} | ${f(r.max_precision_at_k)} | ${r.ms_per_query.stage2.toFixed(1)} | ${command(r, main)} |`,
    );
    sweeps.push(`| ${r.model.split('@')[0]} | ${r.ood} | ${r.grid}x${r.grid} ${r.weights} k${r.k} | ${f(r.stage1.p1)} | ${r.alpha_sweep.map((a) => f(a.stage2.p1)).join(' | ')} |`);
  }
}
console.log('| model | queries | grid | weights | alpha | k | n | stage 1 P@1 / RP / MAP@R | stage 2 P@1 / RP / MAP@R | Δ P@1 / Δ MAP@R | max P@k | stage 2 ms/query | command |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
console.log('\n| model | queries | setting | stage 1 | α=0 | 0.1 | 0.2 | 0.3 | 0.4 | 0.5 | 0.6 | 0.7 | 0.8 | 0.9 | 1 |');
console.log('|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|');
for (const s of sweeps) console.log(s);

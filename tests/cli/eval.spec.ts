/**
 * `npm run eval` on lfw-mini: the JSON has the fixed shape, and its metrics
 * equal a recomputation from the ranked lists written here from the method
 * doc's definitions (independent of src/engine/metrics.ts).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { expect, test } from '@playwright/test';
import { DEFAULT_SETTINGS } from '../../src/core/types.ts';

const lfwMini = resolve('../shared/data/lfw-mini');

function recompute(rankings: { label: string; relevant: number; stage1: string[]; stage2: string[] }[], stage: 'stage1' | 'stage2', k: number) {
  let p1 = 0,
    rp = 0,
    mapr = 0,
    maxp = 0,
    n = 0;
  for (const q of rankings) {
    if (q.relevant < 1) continue;
    n++;
    const list = q[stage];
    const R = Math.min(q.relevant, list.length);
    const rel = list.slice(0, R).map((l) => (l === q.label ? 1 : 0));
    p1 += list[0] === q.label ? 1 : 0;
    rp += rel.reduce((a: number, b) => a + b, 0) / R;
    let cum = 0,
      ap = 0;
    rel.forEach((r, i) => {
      cum += r;
      if (r) ap += cum / (i + 1);
    });
    mapr += ap / R;
    maxp += list.slice(0, k).includes(q.label) ? 1 : 0;
  }
  return { n, p1: (100 * p1) / n, rp: (100 * rp) / n, mapr: (100 * mapr) / n, maxp: (100 * maxp) / n };
}

test('npm run eval on lfw-mini writes the report JSON and its metrics match the ranked lists', async () => {
  test.setTimeout(600_000);
  if (!existsSync(lfwMini)) throw new Error(`Test data missing: ${lfwMini}`);
  const out = join(mkdtempSync(join(tmpdir(), 'eval-')), 'report.json');
  const r = spawnSync('npx', ['tsx', 'bench/eval.ts', '--gallery', lfwMini, '--ood', 'mask', '--k', '20', '--json', out, '--rankings', '--also', 'weights=uniform,k=10'], {
    encoding: 'utf8',
    timeout: 540_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stdout).toContain('| stage 1 P@1 / RP / MAP@R |');
  const j = JSON.parse(readFileSync(out, 'utf8'));
  for (const key of ['model', 'grid', 'weights', 'alpha', 'k', 'ood', 'n_queries', 'stage1', 'stage2', 'max_precision_at_k', 'ms_per_query', 'index_images_per_s', 'failed_images'])
    expect(j).toHaveProperty(key);
  for (const s of ['stage1', 'stage2']) for (const m of ['p1', 'rp', 'mapr']) expect(typeof j[s][m]).toBe('number');
  // No --preset: the default pipeline with its per-query alpha rule.
  expect(j).toMatchObject({ preset: 'default', grid: 7, weights: 'apc', k: 20, ood: 'mask', adaptive_alpha: DEFAULT_SETTINGS.adaptiveAlpha });
  expect(j.model).toMatch(/^mfn-faceres@/);
  expect(j.ms_per_query.stage1).toBeGreaterThan(0);
  expect(j.ms_per_query.stage2).toBeGreaterThan(0);
  expect(Array.isArray(j.failed_images)).toBe(true);
  expect(j.rankings.length).toBe(j.n_queries);
  for (const stage of ['stage1', 'stage2'] as const) {
    const m = recompute(j.rankings, stage, j.k);
    expect(m.n).toBe(j.n_queries);
    expect(j[stage].p1).toBeCloseTo(m.p1, 9);
    expect(j[stage].rp).toBeCloseTo(m.rp, 9);
    expect(j[stage].mapr).toBeCloseTo(m.mapr, 9);
    if (stage === 'stage1') expect(j.max_precision_at_k).toBeCloseTo(m.maxp, 9);
  }
  // A variant from --also: same queries (same transformed features), so stage 1 is identical and only stage 2 and the k-bound differ.
  expect(j.variants).toHaveLength(1);
  const v = j.variants[0];
  for (const key of ['model', 'grid', 'weights', 'alpha', 'k', 'ood', 'n_queries', 'stage1', 'stage2', 'max_precision_at_k', 'ms_per_query', 'index_images_per_s', 'failed_images'])
    expect(v).toHaveProperty(key);
  expect(v).toMatchObject({ grid: 7, weights: 'uniform', k: 10, ood: 'mask', n_queries: j.n_queries, adaptive_alpha: DEFAULT_SETTINGS.adaptiveAlpha });
  expect(v.stage1.p1).toBeCloseTo(j.stage1.p1, 9);
  expect(v.max_precision_at_k).toBeLessThanOrEqual(j.max_precision_at_k);
});

test('npm run eval --preset paper evaluates the published method: MobileFaceNet, fixed alpha 0.7', async () => {
  test.setTimeout(600_000);
  const out = join(mkdtempSync(join(tmpdir(), 'eval-')), 'report.json');
  const r = spawnSync('npx', ['tsx', 'bench/eval.ts', '--gallery', lfwMini, '--preset', 'paper', '--ood', 'none', '--k', '20', '--json', out, '--rankings'], { encoding: 'utf8', timeout: 540_000 });
  expect(r.status, r.stderr).toBe(0);
  const j = JSON.parse(readFileSync(out, 'utf8'));
  expect(j).toMatchObject({ preset: 'paper', grid: 7, weights: 'apc', alpha: 0.7, k: 20, ood: 'none', sinkhorn: 'reference', adaptive_alpha: null });
  expect(j.model).toMatch(/^mobilefacenet-arcface@/);
  // A fixed alpha: the sweep's 0.7 point is the headline stage 2, and the metrics match the ranked lists.
  expect(j.alpha_sweep.find((a: { alpha: number }) => a.alpha === 0.7).stage2.p1).toBeCloseTo(j.stage2.p1, 9);
  const m = recompute(j.rankings, 'stage2', j.k);
  expect(j.stage2.mapr).toBeCloseTo(m.mapr, 9);
});

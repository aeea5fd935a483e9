/**
 * Issue 13, the damage-detector policy: FaceRes's s_emd (APC, 7x7, the
 * engine's reference Sinkhorn) of the default's stage-1 top 100 (fused
 * cosine, w 0.4) for every study query of one variant.
 *
 *   npx tsx bench/study/damageScores.ts --variant mask --part 0/2
 *
 * Writes .cache/study/dmg-{variant}-{part}.json: per query its stage-1 list
 * (length max(K, R)), the fused cosine and s_emd of the top K.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_SETTINGS } from '../../src/core/types.ts';
import { CpuStage2Scorer } from '../../src/engine/stage2Batch.ts';
import { readVariant } from './features.ts';
import { apcBatch, faceSlice, fusedStage1, K, studySetup } from './setup.ts';
import { STUDY_DIR, type Variant } from './shared.ts';

export interface DamageRow {
  readonly q: number;
  readonly R: number;
  readonly list: number[];
  readonly cos: number[];
  readonly emd: number[];
}

const W = 0.4;
const N = 49;

function main(): void {
  const arg = (n: string) => {
    const i = process.argv.indexOf(`--${n}`);
    return i > 0 ? process.argv[i + 1] : undefined;
  };
  const variant = (arg('variant') ?? 'none') as Variant;
  const [part, parts] = (arg('part') ?? '0/1').split('/').map(Number);
  const s = studySetup();
  const counts = new Map<string, number>();
  for (const l of s.labels) counts.set(l, (counts.get(l) ?? 0) + 1);
  const queries = s.queryPositions.filter((_, i) => i % parts === part);
  const t0 = Date.now();
  const gal = readVariant('none', s.galleryRows);
  const qf =
    variant === 'none'
      ? gal
      : readVariant(
          variant,
          queries.map((p) => s.galleryRows[p]),
        );
  const scorer = new CpuStage2Scorer();
  const c = gal.fr.c;
  const rows: DamageRow[] = [];
  queries.forEach((qp, qi) => {
    const at = variant === 'none' ? qp : qi;
    const q = faceSlice(qf.fr, at);
    const R = (counts.get(s.labels[qp]) ?? 1) - 1;
    const { fused, list } = fusedStage1(qf, at, gal, W, R, qp);
    const top = list.slice(0, K);
    const { candidates, u, v } = apcBatch(q, gal.fr, top);
    const r = scorer.scoreBatch({ n: N, c, query: q.grid, candidates, weights: { kind: 'given', u, v }, sinkhorn: { ...DEFAULT_SETTINGS.sinkhorn } });
    rows.push({ q: qp, R, list, cos: top.map((g) => fused[g]), emd: Array.from(r.similarity) });
    if (qi % 50 === 0) process.stderr.write(`\r${variant} ${part}/${parts}: ${qi}/${queries.length} ${((Date.now() - t0) / 1000).toFixed(0)} s   `);
  });
  writeFileSync(join(STUDY_DIR, `dmg-${variant}-${part}.json`), JSON.stringify(rows));
  process.stderr.write(`\ndone in ${((Date.now() - t0) / 1000).toFixed(0)} s\n`);
}

main();

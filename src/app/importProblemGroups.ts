/**
 * Import problems by kind. An import of thousands of bad files has thousands
 * of problems, mostly of one or two kinds: the page shows one group per kind
 * (count, hint, the files on demand) instead of one line per file.
 */
import type { ImportProblem, ImportProblemGroup } from './engineApi.ts';

/** Files named per kind in a running import's reports: enough to recognise the kind, small to clone. */
export const EXAMPLES_PER_GROUP = 5;

/** Groups in the order each kind first occurred; each keeps its first `maxExamples` problems. */
export function groupImportProblems(problems: readonly ImportProblem[], maxExamples: number): ImportProblemGroup[] {
  const byCode = new Map<string, { code: string; count: number; hint: string; examples: ImportProblem[] }>();
  for (const p of problems) {
    let group = byCode.get(p.code);
    if (!group) {
      group = { code: p.code, count: 0, hint: p.hint, examples: [] };
      byCode.set(p.code, group);
    }
    group.count++;
    if (group.examples.length < maxExamples) group.examples.push(p);
  }
  return [...byCode.values()];
}

/**
 * What the import status shows of the problems: one group per kind, with
 * its count, its hint and the files it can name now (while running, the few
 * examples each report carries; once finished, every file of the kind).
 */
import type { ImportProblem, ImportProgress } from '../app/engineApi.ts';
import { groupImportProblems } from '../app/importProblemGroups.ts';

export interface ProblemGroupView {
  readonly code: string;
  /** The kind in words, from its code ("not-an-image" -> "not an image"). */
  readonly title: string;
  readonly count: number;
  readonly hint: string;
  readonly rows: readonly ImportProblem[];
  /** Files of this kind not in `rows` yet (listed when the import ends). */
  readonly notListedYet: number;
}

export function problemGroupsView(p: ImportProgress): ProblemGroupView[] {
  const groups = p.finished ? groupImportProblems(p.problems, Number.POSITIVE_INFINITY) : p.problemGroups;
  return groups.map((g) => ({
    code: g.code,
    title: g.code.replaceAll('-', ' '),
    count: g.count,
    hint: g.hint,
    rows: g.examples,
    notListedYet: g.count - g.examples.length,
  }));
}

/** Total of every group, for the heading. */
export function problemTotal(p: ImportProgress): number {
  return p.finished ? p.problems.length : p.problemCount;
}

/**
 * Rows of a group's list: one line each (the scroll box's arithmetic needs
 * equal heights; app.css keeps them to one line), ten on screen.
 */
export const PROBLEM_ROWS_WINDOW = { rowHeight: 22, visibleRows: 10, overscan: 10 } as const;

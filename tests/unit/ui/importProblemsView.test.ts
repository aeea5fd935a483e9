import { describe, expect, it } from 'vitest';
import type { ImportProblem, ImportProgress } from '../../../src/app/engineApi.ts';
import { groupImportProblems } from '../../../src/app/importProblemGroups.ts';
import { problemGroupsView, problemTotal } from '../../../src/ui/importProblemsView.ts';

const problem = (code: string, i: number): ImportProblem => ({ file: `f/${i}.jpg`, code, message: `${code} ${i}`, hint: `fix ${code}` });

function progress(problems: ImportProblem[], finished: boolean): ImportProgress {
  return {
    done: problems.length,
    total: problems.length,
    added: 0,
    skippedDuplicates: 0,
    problems: finished ? problems : [],
    problemGroups: groupImportProblems(problems, 5),
    problemCount: problems.length,
    imagesPerSecond: 1,
    etaSeconds: 0,
    finished,
    cancelled: false,
    stepMs: {},
  };
}

const many = [problem('corrupt-image', 0), ...Array.from({ length: 4_999 }, (_, i) => problem('not-an-image', i + 1))];

describe('problemGroupsView', () => {
  it('shows one group per kind, in order of first occurrence, with its count and hint', () => {
    const groups = problemGroupsView(progress(many, true));
    expect(groups.map((g) => [g.code, g.title, g.count, g.hint])).toEqual([
      ['corrupt-image', 'corrupt image', 1, 'fix corrupt-image'],
      ['not-an-image', 'not an image', 4_999, 'fix not-an-image'],
    ]);
    expect(problemTotal(progress(many, true))).toBe(5_000);
  });

  it('lists every file of a kind once the import is finished', () => {
    const [, notImages] = problemGroupsView(progress(many, true));
    expect(notImages?.rows).toHaveLength(4_999);
    expect(notImages?.rows[4_998]?.file).toBe('f/4999.jpg');
    expect(notImages?.notListedYet).toBe(0);
  });

  it('while running, lists the examples and says how many files are still to be listed', () => {
    const [, notImages] = problemGroupsView(progress(many, false));
    expect(notImages?.rows.map((r) => r.file)).toEqual(['f/1.jpg', 'f/2.jpg', 'f/3.jpg', 'f/4.jpg', 'f/5.jpg']);
    expect(notImages?.notListedYet).toBe(4_994);
    expect(problemTotal(progress(many, false))).toBe(5_000);
  });

  it('shows no group when nothing went wrong', () => {
    expect(problemGroupsView(progress([], true))).toEqual([]);
  });
});

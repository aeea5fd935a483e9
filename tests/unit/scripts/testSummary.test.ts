import { describe, expect, it } from 'vitest';
import { playwrightCounts, summariseTests, vitestCounts } from '../../../scripts/testSummary.mjs';

const ok = (name: string) => ({ name, ok: true });
const counts = (passed: number, failed = 0, errors = 0) => ({ passed, failed, skipped: 0, errors });

describe('npm test summary', () => {
  it('adds up both runners when all is well', () => {
    const s = summariseTests(
      [ok('type check'), ok('lint')],
      [
        { name: 'Vitest', ok: true, report: counts(100) },
        { name: 'Playwright', ok: true, report: counts(56) },
      ],
    );
    expect(s).toMatchObject({ passed: 156, failed: 0, ok: true });
  });

  it('a runner that did not start counts as a failure even though every counted test passed', () => {
    const s = summariseTests(
      [ok('type check'), ok('lint')],
      [
        { name: 'Vitest', ok: true, report: counts(156) },
        { name: 'Playwright', ok: false, report: null },
      ],
    );
    expect(s).toMatchObject({ passed: 156, failed: 1, ok: false });
    expect(s.notes).toEqual(['Playwright did not run (no report)']);
  });

  it('a runner that failed outside its tests (its report says 0 failed) counts once; its own failures count as they are', () => {
    const outside = summariseTests([], [{ name: 'Playwright', ok: false, report: counts(3) }]);
    expect(outside).toMatchObject({ failed: 1, ok: false });
    const inside = summariseTests([], [{ name: 'Vitest', ok: false, report: counts(3, 2) }]);
    expect(inside).toMatchObject({ passed: 3, failed: 2, ok: false });
  });

  it('type check and lint failures count one each', () => {
    expect(
      summariseTests(
        [
          { name: 'type check', ok: false },
          { name: 'lint', ok: false },
        ],
        [],
      ),
    ).toMatchObject({ failed: 2, ok: false });
  });

  it('reads both JSON report shapes, errors outside tests included', () => {
    expect(vitestCounts({ numPassedTests: 5, numFailedTests: 1, numPendingTests: 2, numTodoTests: 1 })).toEqual({ passed: 5, failed: 1, skipped: 3, errors: 0 });
    expect(vitestCounts({ numPassedTests: 5, numFailedTests: 0, numFailedTestSuites: 1 })).toEqual({ passed: 5, failed: 0, skipped: 0, errors: 1 });
    expect(playwrightCounts({ stats: { expected: 4, unexpected: 1, flaky: 1, skipped: 2 }, errors: [{ message: 'webServer failed' }] })).toEqual({ passed: 4, failed: 2, skipped: 2, errors: 1 });
  });
});

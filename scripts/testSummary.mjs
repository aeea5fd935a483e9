// The one line `npm test` ends with, from what each step reported. A runner
// that exits non-zero without a failing test in its report (it did not start,
// its web server did not come up, it crashed) still counts: as one failure,
// so the summary can never say "0 failed" for a run that failed.

/**
 * @param {{ name: string, ok: boolean }[]} checks steps without test counts (type check, lint): one failure each
 * @param {{ name: string, ok: boolean, report: null | { passed: number, failed: number, skipped: number, errors: number } }[]} runners
 * @returns {{ passed: number, failed: number, skipped: number, ok: boolean, notes: string[] }}
 */
export function summariseTests(checks, runners) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const notes = [];
  for (const c of checks) {
    if (!c.ok) {
      failed += 1;
      notes.push(`${c.name} failed`);
    }
  }
  for (const r of runners) {
    const report = r.report;
    if (report) {
      passed += report.passed;
      failed += report.failed + report.errors;
      skipped += report.skipped;
    }
    const counted = report ? report.failed + report.errors : 0;
    if (!r.ok && counted === 0) {
      failed += 1;
      notes.push(report ? `${r.name} exited with an error outside any test` : `${r.name} did not run (no report)`);
    }
  }
  return { passed, failed, skipped, ok: failed === 0 && checks.every((c) => c.ok) && runners.every((r) => r.ok), notes };
}

/** Vitest's JSON report, as counts. */
export function vitestCounts(json) {
  return {
    passed: json.numPassedTests ?? 0,
    failed: json.numFailedTests ?? 0,
    skipped: (json.numPendingTests ?? 0) + (json.numTodoTests ?? 0),
    errors: json.numFailedTestSuites && !json.numFailedTests ? json.numFailedTestSuites : 0,
  };
}

/** Playwright's JSON report, as counts (errors: failures outside tests, e.g. a web server that did not start). */
export function playwrightCounts(json) {
  return {
    passed: json.stats?.expected ?? 0,
    failed: (json.stats?.unexpected ?? 0) + (json.stats?.flaky ?? 0),
    skipped: json.stats?.skipped ?? 0,
    errors: Array.isArray(json.errors) ? json.errors.length : 0,
  };
}

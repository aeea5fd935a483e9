// `npm test`: set-up, type check, lint, then the three tiers (Vitest unit; Playwright
// GPU-kernel and end-to-end in Debian's chromium). Ends with one plain line
// "tests: N passed, N failed" counted from both runners' JSON reports; a failed
// type check counts as one failure, and so do a failed lint and a runner that
// failed without a failing test in its report (scripts/testSummary.mjs).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { playwrightCounts, summariseTests, vitestCounts } from './testSummary.mjs';

const step = (name, cmd, args) => {
  console.log(`\n=== ${name}: ${cmd} ${args.join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', env: process.env });
  return r.status === 0;
};

mkdirSync('test-results', { recursive: true });
rmSync('test-results/vitest.json', { force: true });
rmSync('test-results/playwright.json', { force: true });

if (!step('set-up', 'node', ['scripts/setup.mjs', '--tests'])) process.exit(1);
const typesOk = step('type check', 'npx', ['tsc', '--noEmit', '-p', 'tsconfig.json']);
// All three run even when one fails, so one run shows every kind of finding.
const lintResults = ['lint:eslint', 'lint:knip', 'lint:format'].map((script) => step(`lint (${script})`, 'npm', ['run', '--silent', script]));
const lintOk = lintResults.every(Boolean);
const unitOk = step('unit tests (Vitest, Node)', 'npx', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/vitest.json']);
const browserOk = step('browser tests (Playwright: GPU kernels + end-to-end)', 'npx', ['playwright', 'test', ...process.argv.slice(2)]);

const readJson = (path) => (existsSync(path) ? JSON.parse(readFileSync(path, 'utf8')) : null);
const vitestReport = readJson('test-results/vitest.json');
const playwrightReport = readJson('test-results/playwright.json');
const summary = summariseTests(
  [
    { name: 'type check', ok: typesOk },
    { name: 'lint', ok: lintOk },
  ],
  [
    { name: 'Vitest', ok: unitOk, report: vitestReport && vitestCounts(vitestReport) },
    { name: 'Playwright', ok: browserOk, report: playwrightReport && playwrightCounts(playwrightReport) },
  ],
);
for (const note of summary.notes) console.log(`note: ${note}`);
console.log(`\ntests: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
process.exit(summary.ok ? 0 : 1);

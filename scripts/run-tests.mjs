// `npm test`: set-up, type check, lint, then the three tiers (Vitest unit; Playwright
// GPU-kernel and end-to-end in Debian's chromium). Ends with one plain line
// "tests: N passed, N failed" counted from both runners' JSON reports; a failed
// type check counts as one failure, and so does a failed lint.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';

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

let passed = 0;
let failed = 0;
let skipped = 0;
if (existsSync('test-results/vitest.json')) {
  const v = JSON.parse(readFileSync('test-results/vitest.json', 'utf8'));
  passed += v.numPassedTests ?? 0;
  failed += v.numFailedTests ?? 0;
  skipped += (v.numPendingTests ?? 0) + (v.numTodoTests ?? 0);
}
if (existsSync('test-results/playwright.json')) {
  const p = JSON.parse(readFileSync('test-results/playwright.json', 'utf8'));
  passed += p.stats?.expected ?? 0;
  failed += (p.stats?.unexpected ?? 0) + (p.stats?.flaky ?? 0);
  skipped += p.stats?.skipped ?? 0;
}
if (!typesOk) failed += 1;
if (!lintOk) failed += 1;
const ok = typesOk && lintOk && unitOk && browserOk && failed === 0;
console.log(`\ntests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(ok ? 0 : 1);

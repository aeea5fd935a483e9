// First step of `npm start` and `npm test`: makes a fresh clone ready with no
// other step by hand. Plain Node (no dependencies), since it may run before
// `npm ci` has.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';

const forTests = process.argv.includes('--tests');
const run = (cmd) => execSync(cmd, { stdio: 'inherit' });

function depsStale() {
  if (!existsSync('node_modules/.package-lock.json')) return true;
  // npm rewrites node_modules/.package-lock.json on every install; an older one means the lock moved on.
  return (
    statSync('package-lock.json').mtimeMs > statSync('node_modules/.package-lock.json').mtimeMs + 1000 &&
    readFileSync('package-lock.json', 'utf8') !== readFileSync('node_modules/.package-lock.json', 'utf8')
  );
}

if (depsStale()) {
  console.log('setup: installing dependencies (npm ci)');
  run('npm ci --no-audit --no-fund');
}

// The engine's WebAssembly kernels: regenerated only when their .wat source changed.
run('npx tsx scripts/assembleWat.ts');
run('npx tsx scripts/models/build.ts --if-stale');

if (forTests) {
  const chromium = ['/usr/lib/chromium/chromium', '/usr/bin/chromium'].find((p) => existsSync(p));
  if (!chromium && !process.env.CHROMIUM_PATH) {
    console.log("setup: Debian's chromium is missing; installing it (needs root and Debian's package archive)");
    try {
      run('apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium');
    } catch {
      console.error('setup: could not install chromium. Fix: run `sudo apt-get install chromium`, or set CHROMIUM_PATH to a Chromium binary.');
      process.exit(1);
    }
  }
}

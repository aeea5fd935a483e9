/**
 * The npm files our models are built from, pinned by checksum. A changed or
 * missing file stops the build with the package and file named, since a
 * silently different weight file would change every ranking.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ModelSource } from '../../src/models/manifest.ts';

const require = createRequire(import.meta.url);

export const FACEPLUGIN = { package: 'faceplugin-face-recognition-js', version: '0.0.1', licence: 'MIT' } as const;

export const SOURCES = {
  frFeature: { ...FACEPLUGIN, file: 'model/fr_feature.onnx', sha256: '87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581' },
  frDetect: { ...FACEPLUGIN, file: 'model/fr_detect.onnx', sha256: '6c0256ccd3164f844736a401faf936ec2930764a87ae39442180887d0c5c8854' },
  frLandmark: { ...FACEPLUGIN, file: 'model/fr_landmark.onnx', sha256: 'f10b0ba1d2a8a099adefede1ebf3733e44fe370715e7303dbeb7f59c02142258' },
} satisfies Record<string, ModelSource>;

export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

export function packageDir(pkg: string): string {
  // Some packages (onnxruntime-web) hide package.json behind an exports map, so look on disk.
  for (const base of require.resolve.paths(pkg) ?? []) {
    if (existsSync(join(base, pkg, 'package.json'))) return join(base, pkg);
  }
  {
    throw new Error(`Model source package "${pkg}" is not installed. Fix: run \`npm install\` in the project root (it is a pinned dependency).`);
  }
}

/** Reads a pinned source file, checking version and checksum. */
export function readSource(src: ModelSource): Uint8Array {
  const dir = packageDir(src.package);
  const installed = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).version as string;
  if (installed !== src.version) {
    throw new Error(
      `Model source ${src.package}@${installed} is installed, but the build is pinned to ${src.version}. ` +
        `Fix: run \`npm ci\` to restore the locked version, or update scripts/models/sources.ts after checking the new weights.`,
    );
  }
  const path = join(dir, src.file);
  if (!existsSync(path)) {
    throw new Error(`Model source file missing: ${src.package}@${src.version} ${src.file} (looked at ${path}). Fix: run \`npm ci\`.`);
  }
  const bytes = new Uint8Array(readFileSync(path));
  const got = sha256(bytes);
  if (got !== src.sha256) {
    throw new Error(
      `Checksum mismatch for ${src.package}@${src.version} ${src.file}: expected ${src.sha256}, got ${got}. ` + `The weights changed; refusing to build. Fix: reinstall with \`npm ci\`.`,
    );
  }
  return bytes;
}

/**
 * Feature dump for the pipeline study (issue 13): `npx tsx bench/study/dump.ts [--limit N]`.
 * Writes .cache/study/{variant}.f32 (one fixed-size record per lfw-dev image:
 * MobileFaceNet 512 + 7x7x512, FaceRes 1024 + 7x7x1024, float32) and meta.json.
 */
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { listIdentityImages } from '../../tests/unit/face/helpers/data.ts';
import { DIMS, dumpVariants, RECORD_FLOATS, STUDY_DIR, type DumpJob, type DumpMessage } from './shared.ts';

async function main() {
  const limitArg = process.argv.indexOf('--limit');
  let images = listIdentityImages('lfw-dev');
  if (limitArg > 0) images = images.slice(0, Number(process.argv[limitArg + 1]));
  mkdirSync(STUDY_DIR, { recursive: true });
  const variants = dumpVariants();
  const fds = variants.map((v) => openSync(join(STUDY_DIR, `${v}.f32`), 'w'));
  const meta: { name: string; identity: string; ok: boolean; refused?: boolean; code?: string }[] = images.map((im) => ({ name: im.name, identity: im.identity, ok: false }));
  const jobs: DumpJob[] = images.map((im, index) => ({ index, path: im.path, name: im.name }));
  let next = 0;
  let done = 0;
  const t0 = Date.now();
  const api = import.meta.resolve('tsx/esm/api');
  const W = Number(process.env.STUDY_WORKERS ?? 2);
  await Promise.all(
    Array.from(
      { length: W },
      () =>
        new Promise<void>((resolve, reject) => {
          const w = new Worker(`import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(new URL('./dumpWorker.ts', import.meta.url).href)});`, {
            eval: true,
            workerData: { mfnSide: 190 },
          });
          const send = () => {
            if (next >= jobs.length) {
              void w.terminate();
              resolve();
              return;
            }
            w.postMessage(jobs.slice(next, next + 8));
            next += 8;
          };
          w.on('error', reject);
          w.on('message', (m: DumpMessage) => {
            for (const r of 'out' in m ? m.out : []) {
              meta[r.index] = r.ok ? { ...meta[r.index], ok: true, refused: r.refused } : { ...meta[r.index], ok: false, code: r.code };
              if (r.ok) {
                variants.forEach((_, vi) => {
                  const rec = new Float32Array(RECORD_FLOATS);
                  let o = 0;
                  for (const part of [r.mf[vi][0], r.mf[vi][1], r.fr[vi][0], r.fr[vi][1]]) {
                    rec.set(part, o);
                    o += part.length;
                  }
                  writeSync(fds[vi], new Uint8Array(rec.buffer), 0, rec.byteLength, r.index * RECORD_FLOATS * 4);
                });
              }
              done++;
            }
            if (done % 80 < 8) process.stderr.write(`\r${done}/${jobs.length} ${(done / ((Date.now() - t0) / 1000)).toFixed(2)} img/s   `);
            send();
          });
        }),
    ),
  );
  fds.forEach((fd) => closeSync(fd));
  writeFileSync(join(STUDY_DIR, 'meta.json'), JSON.stringify({ variants, dims: DIMS, images: meta }));
  console.log(`\ndone ${done} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();

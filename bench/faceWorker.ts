/**
 * One worker of the face bench: runs the whole indexing path (decode, detect,
 * landmarks, align, embed) on the files it is sent, single-threaded WASM, as
 * one extraction worker of the app does. Started by bench/face.ts.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { AppError } from '../src/core/errors.ts';
import { fivePointsFrom68 } from '../src/face/fivePoints.ts';
import type { FaceAnalysis } from '../src/face/pipeline.ts';
import { decodeImageNode } from '../tests/unit/face/helpers/decodeNode.ts';
import { createPipeline } from '../tests/unit/face/helpers/models.ts';

export interface BenchJob {
  readonly index: number;
  readonly path: string;
  readonly name: string;
}

export interface BenchRecord {
  readonly index: number;
  readonly ok: boolean;
  readonly errorCode?: string;
  readonly faceCount: number;
  readonly score: number;
  /** Mean distance (aligned px) of the two aligned eye centres from the template's. */
  readonly eyeError: number;
  readonly fitResidual: number;
  readonly ms: { decode: number; detect: number; landmarks: number; align: number; embed: number };
  readonly embedding?: Float32Array;
}

export interface BenchWorkerConfig {
  readonly recognizerId: string;
  readonly channelOrder: 'RGB' | 'BGR';
}

const config = workerData as BenchWorkerConfig;
const setup = await createPipeline(config.recognizerId, { channelOrder: config.channelOrder });
const template = setup.recognizer.template;

function eyeError(a: FaceAnalysis): number {
  const five = fivePointsFrom68(a.landmarksAligned);
  return (Math.hypot(five[0][0] - template[0][0], five[0][1] - template[0][1]) + Math.hypot(five[1][0] - template[1][0], five[1][1] - template[1][1])) / 2;
}

async function process(jobs: readonly BenchJob[]): Promise<BenchRecord[]> {
  const done: { job: BenchJob; analysis?: FaceAnalysis; decodeMs: number; errorCode?: string }[] = [];
  for (const job of jobs) {
    const t0 = performance.now();
    try {
      const image = decodeImageNode(readFileSync(job.path), job.name);
      const decodeMs = performance.now() - t0;
      try {
        done.push({ job, analysis: await setup.pipeline.analyse(image, job.name), decodeMs });
      } catch (e) {
        done.push({ job, decodeMs, errorCode: e instanceof AppError ? e.code : 'internal' });
      }
    } catch (e) {
      done.push({ job, decodeMs: performance.now() - t0, errorCode: e instanceof AppError ? e.code : 'internal' });
    }
  }
  const analysed = done.flatMap((d) => (d.analysis ? [d.analysis] : []));
  const t0 = performance.now();
  const features = await setup.pipeline.embed(analysed);
  const embedMs = analysed.length ? (performance.now() - t0) / analysed.length : 0;
  let k = 0;
  return done.map(({ job, analysis, decodeMs, errorCode }): BenchRecord => {
    if (!analysis) {
      return { index: job.index, ok: false, errorCode, faceCount: 0, score: 0, eyeError: NaN, fitResidual: NaN, ms: { decode: decodeMs, detect: 0, landmarks: 0, align: 0, embed: 0 } };
    }
    const f = features[k++];
    return {
      index: job.index,
      ok: true,
      faceCount: analysis.faces.length,
      score: analysis.faces[analysis.chosenIndex].score,
      eyeError: eyeError(analysis),
      fitResidual: analysis.fitResidual,
      ms: { decode: decodeMs, detect: analysis.timings.detectMs, landmarks: analysis.timings.landmarksMs, align: analysis.timings.alignMs, embed: embedMs },
      embedding: f.embedding,
    };
  });
}

const port = parentPort;
if (!port) throw new Error('bench/faceWorker.ts runs as a worker thread that bench/face.ts starts');
port.on('message', (jobs: BenchJob[]) => {
  process(jobs).then(
    (records) => port.postMessage({ records }),
    (e: unknown) => port.postMessage({ error: String((e as Error)?.stack ?? e) }),
  );
});
port.postMessage({ ready: true });

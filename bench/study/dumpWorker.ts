/**
 * One worker of bench/study/dump.ts: for each lfw-dev image, the app's face
 * pipeline aligned to FaceRes's 224 frame, then every query variant
 * (none / crop / mask / sunglasses, drawn on that frame) embedded by FaceRes
 * directly and by MobileFaceNet through its fixed framing of the same pixels.
 */
import { readFileSync } from 'node:fs';
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { AppError } from '../../src/core/errors.ts';
import { boxArea } from '../../src/face/detector.ts';
import { applyOod } from '../../src/face/ood.ts';
import { dumpVariants, VARIANTS, type DumpJob, type DumpMessage, type DumpResult } from './shared.ts';
import { Recognizer } from '../../src/face/recognizer.ts';
import { resampleRect } from '../../src/face/pixels.ts';
import { decodeImageNode } from '../../tests/unit/face/helpers/decodeNode.ts';
import { createPipeline, loadSession, modelEntry } from '../../tests/unit/face/helpers/models.ts';

const setup = await createPipeline('faceres');
const mfnEntry = modelEntry('mobilefacenet-arcface');
const mfn = new Recognizer(await loadSession(mfnEntry), mfnEntry);
const side = (workerData as { mfnSide: number }).mfnSide;

if (!parentPort) throw new Error('dumpWorker.ts runs only as a worker thread started by bench/study/dump.ts');
const port: MessagePort = parentPort;

async function one(job: DumpJob): Promise<DumpResult> {
  try {
    const image = decodeImageNode(readFileSync(job.path), job.name);
    const a = await setup.pipeline.analyse(image, job.name);
    const areas = a.faces.map((f) => boxArea(f.box)).sort((x, y) => y - x);
    const refused = areas.length > 1 && areas[1] > 0.7 * areas[0];
    // The seed keeps each variant's place in VARIANTS, so a partial dump draws the same faces as a full one.
    const faces = dumpVariants().map((v) => applyOod(v, a, job.index * 4 + VARIANTS.indexOf(v) + 1));
    const fr = await setup.recognizer.embed(faces.map((f) => f.aligned));
    const off = (224 - side) / 2;
    const mf = await mfn.embed(faces.map((f) => resampleRect(f.aligned, { x: off, y: off, width: side, height: side }, 112, 112)));
    return { index: job.index, ok: true, refused, fr: fr.map((f) => [f.embedding, f.patches.data] as const), mf: mf.map((f) => [f.embedding, f.patches.data] as const) };
  } catch (e) {
    return { index: job.index, ok: false, code: e instanceof AppError ? e.code : String(e) };
  }
}

async function runBatch(jobs: readonly DumpJob[]): Promise<void> {
  const out: DumpResult[] = [];
  for (const j of jobs) out.push(await one(j));
  const message: DumpMessage = { out };
  port.postMessage(message);
}

// one() turns each job's failure into a result, so a rejection here means the worker itself is broken;
// left unhandled it ends the worker with an 'error' event, on which dump.ts fails.
port.on('message', (jobs: DumpJob[]) => void runBatch(jobs));
const ready: DumpMessage = { ready: true };
port.postMessage(ready);

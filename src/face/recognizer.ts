/**
 * Runs the recognizer on aligned faces: batches them into one NCHW tensor
 * with the manifest's channel order and normalisation, and returns each
 * face's embedding and patch map (transposed from NCHW to patch-major: row
 * p = y * w + x holds that patch's c channels).
 */
import { Tensor } from 'onnxruntime-web';
import type { ModelSession } from '../models/modelSession.ts';
import type { FaceFeatures, Point, RgbaImage, VisibleEmbeddings } from '../core/types.ts';
import type { ModelEntry, PatchGridSpec } from '../models/manifest.ts';
import { asRecognizerEntry, nativePatchGrid, type RecognizerEntry } from '../models/recognizers.ts';

export interface RecognizerOptions {
  /** Faces per session run (more = faster up to memory; 16 is plenty for WASM). */
  readonly maxBatch?: number;
  /** Which of the model's patch grids to return (default: the first). */
  readonly patchOutput?: string;
}

/** What the face pipeline needs of a recognizer: its input square, its template and features of aligned faces. */
export interface FaceEmbedder {
  readonly inputSize: number;
  readonly template: readonly Point[];
  embed(faces: readonly RgbaImage[], landmarks?: readonly (readonly Point[] | undefined)[]): Promise<FaceFeatures[]>;
}

export class Recognizer implements FaceEmbedder {
  readonly inputSize: number;
  readonly model: RecognizerEntry;
  private readonly grid: PatchGridSpec;
  private readonly maxBatch: number;
  /** The input array of a one-face batch, reused (see embed). */
  private spareInput: Float32Array | null = null;

  constructor(
    private readonly session: ModelSession,
    model: ModelEntry,
    options: RecognizerOptions = {},
  ) {
    const recognizer = asRecognizerEntry(model);
    if (model.input.layout !== 'NCHW') throw new Error(`model ${model.id}: only NCHW inputs are supported`);
    const [, channels, h, w] = model.input.shape;
    if (channels !== 3 || h !== w) throw new Error(`model ${model.id}: expected a square 3-channel input, got ${model.input.shape}`);
    const grid = options.patchOutput ? recognizer.patchGrids.find((g) => g.output === options.patchOutput) : nativePatchGrid(recognizer);
    if (!grid) throw new Error(`model ${model.id} has no patch output ${options.patchOutput}`);
    this.model = recognizer;
    this.grid = grid;
    this.inputSize = h;
    // A model exported with batch 1 can only take one face per run.
    this.maxBatch = model.input.shape[0] === -1 ? (options.maxBatch ?? 16) : 1;
  }

  /** The five-point template of this recognizer's input, in input pixels. */
  get template(): readonly Point[] {
    if (!this.model.alignmentTemplate) throw new Error(`model ${this.model.id} has no alignment template`);
    return this.model.alignmentTemplate;
  }

  /**
   * Float NCHW input for a batch of aligned faces (each inputSize x inputSize), in `into` when given (its length must
   * be the batch's).
   */
  toInput(faces: readonly RgbaImage[], into?: Float32Array): Float32Array {
    const S = this.inputSize;
    const plane = S * S;
    const { mean, std } = this.model.normalisation;
    const order = this.model.channelOrder === 'BGR' ? [2, 1, 0] : [0, 1, 2];
    if (into && into.length !== faces.length * 3 * plane) throw new Error(`recognizer input must hold ${faces.length * 3 * plane} floats, got ${into.length}`);
    const out = into ?? new Float32Array(faces.length * 3 * plane);
    faces.forEach((face, n) => {
      if (face.width !== S || face.height !== S) throw new Error(`aligned face is ${face.width}x${face.height}, the recognizer needs ${S}x${S}`);
      const d = face.data;
      for (let c = 0; c < 3; c++) {
        const base = (n * 3 + c) * plane;
        const src = order[c];
        const m = mean[c];
        const s = std[c];
        for (let i = 0; i < plane; i++) out[base + i] = (d[i * 4 + src] - m) / s;
      }
    });
    return out;
  }

  async embed(faces: readonly RgbaImage[], landmarks?: readonly (readonly Point[] | undefined)[]): Promise<FaceFeatures[]> {
    const results: FaceFeatures[] = [];
    for (let start = 0; start < faces.length; start += this.maxBatch) {
      const batch = faces.slice(start, start + this.maxBatch);
      const S = this.inputSize;
      // One face at a time (an import) reuses one input array, as the detector does (its comment says why); it is
      // taken for the run, so a second call while one is pending gets a fresh array.
      const spare = batch.length === 1 ? this.spareInput : null;
      if (spare) this.spareInput = null;
      const data = this.toInput(batch, spare ?? undefined);
      let out: Awaited<ReturnType<ModelSession['run']>>;
      try {
        out = await this.session.run({ [this.model.input.name]: new Tensor('float32', data, [batch.length, 3, S, S]) });
      } finally {
        if (batch.length === 1) this.spareInput ??= data;
      }
      const emb = out[this.model.embedding.output].data as Float32Array;
      const map = out[this.grid.output].data as Float32Array;
      const dim = this.model.embedding.dim;
      const visible = (this.model.visibleEmbeddings ?? []).map((v) => ({ damage: v.damage, data: out[v.output].data as Float32Array }));
      const { h, w, c } = this.grid;
      const cells = h * w;
      for (let n = 0; n < batch.length; n++) {
        const patches = new Float32Array(cells * c);
        const base = n * c * cells;
        for (let ch = 0; ch < c; ch++) {
          const plane = base + ch * cells;
          for (let p = 0; p < cells; p++) patches[p * c + ch] = map[plane + p];
        }
        const visibleEmbeddings: VisibleEmbeddings = Object.fromEntries(visible.map((v) => [v.damage, v.data.slice(n * dim, (n + 1) * dim)]));
        results.push({
          embedding: emb.slice(n * dim, (n + 1) * dim),
          patches: { h, w, c, data: patches },
          landmarks68: landmarks?.[start + n],
          cropSize: S,
          ...(visible.length ? { visibleEmbeddings } : {}),
        });
      }
    }
    return results;
  }
}

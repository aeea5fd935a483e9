/**
 * Two recognizers read as one (issue 13's default pipeline): the faces come
 * aligned to the *primary* recognizer's frame, which also gives the patch map
 * stage 2 transports; the secondary sees the same pixels through its own,
 * fixed framing (the square its template occupies inside the primary's
 * crop, resampled to its input size). Stage 1's fused cosine
 * w * cos_secondary + (1 - w) * cos_primary is an exact dot product of
 * concatenated vectors [sqrt(w) * unit(e_secondary), sqrt(1 - w) * unit(e_primary)],
 * which is what `embedding` holds, so the engine ranks them unchanged.
 *
 * Why the secondary does not align from the photo itself: a query transform
 * (crop, mask, sunglasses) damages one image of the face, and both
 * recognizers must see that same damaged image.
 */
import type { FaceFeatures, Point, RgbaImage } from '../core/types.ts';
import { resampleRect, type Rect } from './pixels.ts';
import type { FaceEmbedder, Recognizer } from './recognizer.ts';
import { fitSimilarity } from './similarity.ts';

export interface FusedRecognizerSpec {
  /** Stage-1 weight of the secondary's cosine, in [0, 1]. */
  readonly secondaryWeight: number;
}

/** Where `inner`'s template square lies inside `outer`'s crop, from the two five-point templates. */
export function framingRect(outerTemplate: readonly Point[], innerTemplate: readonly Point[], innerSize: number): Rect {
  const [a, b, tx, , , ty] = fitSimilarity(innerTemplate, outerTemplate);
  const scale = Math.hypot(a, b);
  if (Math.abs(b) > 1e-6 * scale) throw new Error('the two templates differ by a rotation; a fixed square framing cannot map one onto the other');
  return { x: tx, y: ty, width: innerSize * scale, height: innerSize * scale };
}

export class FusedRecognizer implements FaceEmbedder {
  readonly inputSize: number;
  readonly template: readonly Point[];
  /** The secondary's input square inside the primary's crop. */
  readonly secondaryRect: Rect;
  private readonly ws: number;
  private readonly wp: number;

  constructor(
    readonly primary: Recognizer,
    readonly secondary: Recognizer,
    spec: FusedRecognizerSpec,
  ) {
    if (!(spec.secondaryWeight >= 0 && spec.secondaryWeight <= 1)) throw new Error(`secondaryWeight must be in [0, 1], got ${spec.secondaryWeight}`);
    this.inputSize = primary.inputSize;
    this.template = primary.template;
    this.secondaryRect = framingRect(primary.template, secondary.template, secondary.inputSize);
    this.ws = Math.sqrt(spec.secondaryWeight);
    this.wp = Math.sqrt(1 - spec.secondaryWeight);
  }

  async embed(faces: readonly RgbaImage[], landmarks?: readonly (readonly Point[] | undefined)[]): Promise<FaceFeatures[]> {
    const S = this.secondary.inputSize;
    const primary = await this.primary.embed(faces, landmarks);
    const secondary = await this.secondary.embed(faces.map((f) => resampleRect(f, this.secondaryRect, S, S)));
    // The visible-part embeddings are the secondary's: FaceRes's map already transports in stage 2, MobileFaceNet's head is what compares a part.
    return primary.map((p, i) => {
      const visible = secondary[i].visibleEmbeddings;
      return { ...p, embedding: fuseEmbeddings(secondary[i].embedding, p.embedding, this.ws, this.wp), ...(visible ? { visibleEmbeddings: visible } : {}) };
    });
  }
}

/** [ws * unit(a), wp * unit(b)]; a zero vector stays zero (the engine then refuses it as non-finite or empty). */
export function fuseEmbeddings(a: Float32Array, b: Float32Array, ws: number, wp: number): Float32Array {
  const out = new Float32Array(a.length + b.length);
  const put = (v: Float32Array, w: number, at: number) => {
    let s = 0;
    for (let i = 0; i < v.length; i++) s += v[i] * v[i];
    const k = s > 0 ? w / Math.sqrt(s) : 0;
    for (let i = 0; i < v.length; i++) out[at + i] = v[i] * k;
  };
  put(a, ws, 0);
  put(b, wp, a.length);
  return out;
}

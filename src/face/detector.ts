/**
 * Face detection with the ultra-light SSD detector (public/models/face-detector.onnx,
 * from faceplugin-face-recognition-js): the whole image stretched to 320x240,
 * (x - 127) / 128, NCHW.
 *
 * Box decoding: the graph already contains the prior boxes and the
 * centre/size decoding (the package's own JS feeds the raw `boxes` output
 * straight to its NMS; its `decodeBBox` result is never used). `boxes` holds
 * corner-form (x1, y1, x2, y2) in 0..1 of the input, so only thresholding and
 * NMS remain here.
 *
 * Channel order: the package converts OpenCV's RGBA to BGR before the
 * detector. Measured with bench/face.ts on all 5,132 lfw-dev images: RGB found
 * a face in 5,132 (stage-1 P@1 98.91%), BGR in 5,131 (one miss, P@1 98.88%;
 * fewer secondary detections, 696 vs 790 images with several faces). RGB is
 * the default, matching the manifest.
 */
import { Tensor } from 'onnxruntime-web';
import type { ModelSession } from '../models/modelSession.ts';
import type { RgbaImage } from '../core/types.ts';
import { resampleRect, resizeImage, ResampleScratch, type Rect } from './pixels.ts';

/** A face box in image pixels (edge coordinates: x1 = left edge, x2 = right edge). */
export interface FaceBox {
  readonly x1: number;
  readonly y1: number;
  readonly x2: number;
  readonly y2: number;
}

export interface DetectedFace {
  readonly box: FaceBox;
  /** Detector confidence, 0..1. */
  readonly score: number;
}

export interface DetectorOptions {
  /** Minimum face score (the package uses 0.65). */
  readonly scoreThreshold?: number;
  /** Boxes overlapping a better one by more than this IoU are dropped. */
  readonly iouThreshold?: number;
  readonly channelOrder?: 'RGB' | 'BGR';
  /** Candidates kept before NMS, best first (the package uses 750). */
  readonly topK?: number;
  /** Pictures whose longer side is at most this also get the zoomed-out views (see detect). */
  readonly zoomOutUpToSide?: number;
}

export const DETECTOR_INPUT_WIDTH = 320;
export const DETECTOR_INPUT_HEIGHT = 240;

export interface DetectOptions {
  /** Also search a photo far from the input's 4:3 shape in 4:3 tiles (see detectorTiles). */
  readonly tiles?: boolean;
}

/**
 * How much the whole-picture view may squeeze faces (the photo's aspect over
 * the input's, or its inverse) before tiles are added. Stretching a wide
 * group photo into 320x240 narrows its faces: on lfw-dev group photos
 * composed side by side (tests/unit/library), canvases 2.9-3.4 times as
 * wide as tall (squeezed 2.2-2.5x) lost 7 of 468 faces, each found with
 * score 1.00 in a 4:3 crop around it; none was lost below a 2.2x squeeze.
 * 1.5 leaves landscape photos up to 2:1 (3:2, 16:9) to the whole view alone
 * and tiles wider ones, and portraits from 8:9 on (3:4 phone photos, squeezed
 * 1.78x, included).
 */
export const TILE_ABOVE_SQUEEZE = 1.5;
/** Neighbouring tiles share this fraction of a tile: a face narrower than that lies whole in one of them. */
export const TILE_OVERLAP = 1 / 3;
/** A tile's detection this close to a side shared with a neighbour (fraction of the tile's shorter side) is a cut face: the neighbour holds it whole. */
const TILE_INNER_EDGE_MARGIN = 0.02;

/** `count` starts from 0 to length - tile, evenly spaced, neighbours overlapping by at least TILE_OVERLAP of a tile. */
function tileStarts(length: number, tile: number): number[] {
  const count = Math.ceil((length - tile) / (tile * (1 - TILE_OVERLAP))) + 1;
  return Array.from({ length: count }, (_, i) => (count === 1 ? 0 : (i * (length - tile)) / (count - 1)));
}

/**
 * Regions of a picture that the detector sees each at the input's own 4:3
 * shape, unsqueezed: the full height of a wide picture (the full width of a
 * tall one) in overlapping steps. None for a picture the whole view squeezes
 * by TILE_ABOVE_SQUEEZE or less.
 */
export function detectorTiles(width: number, height: number): Rect[] {
  const aspect = DETECTOR_INPUT_WIDTH / DETECTOR_INPUT_HEIGHT;
  const r = width / height;
  if (r > aspect * TILE_ABOVE_SQUEEZE) return tileStarts(width, height * aspect).map((x) => ({ x, y: 0, width: height * aspect, height }));
  if (r < aspect / TILE_ABOVE_SQUEEZE) return tileStarts(height, width / aspect).map((y) => ({ x: 0, y, width, height: width / aspect }));
  return [];
}

export function boxArea(b: FaceBox): number {
  return Math.max(0, b.x2 - b.x1) * Math.max(0, b.y2 - b.y1);
}

export function intersectionOverUnion(a: FaceBox, b: FaceBox): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (boxArea(a) + boxArea(b) - inter);
}

/** Greedy NMS: best score first, dropping boxes that overlap a kept one by more than `iou`. */
export function nonMaxSuppression(faces: readonly DetectedFace[], iou: number): DetectedFace[] {
  const sorted = [...faces].sort((a, b) => b.score - a.score);
  const kept: DetectedFace[] = [];
  for (const f of sorted) {
    if (kept.every((k) => intersectionOverUnion(k.box, f.box) <= iou)) kept.push(f);
  }
  return kept;
}

/**
 * Where the image goes in the detector's 320x240 input: 'stretch' fills it
 * (what the package does, and what the network was trained on); a number z
 * zooms out, centring the image at 1/z of the input's height (aspect kept,
 * grey around it); a Rect (a tile) fills it with that region of the image.
 */
export type DetectorView = 'stretch' | number | Rect;

interface Placement {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

function placementOf(image: RgbaImage, view: DetectorView): Placement {
  const W = DETECTOR_INPUT_WIDTH;
  const H = DETECTOR_INPUT_HEIGHT;
  if (typeof view !== 'number') return { x: 0, y: 0, width: W, height: H };
  const scale = Math.min(W / (view * image.width), H / (view * image.height));
  const width = Math.max(1, Math.round(image.width * scale));
  const height = Math.max(1, Math.round(image.height * scale));
  return { x: Math.round((W - width) / 2), y: Math.round((H - height) / 2), width, height };
}

/**
 * The detector's input for one view as normalised NCHW floats (mid-grey, 128,
 * around a zoomed-out image). `reuse` supplies the memory (the output array,
 * 3 x 320 x 240, and the resampler's), the same floats as fresh arrays: in
 * the app's extraction workers (Chromium, the 2-core VM, 300 lfw-dev photos)
 * this step took 22 ms a photo with a fresh 0.9 MB output and 1.6 MB of
 * resampler memory, 6 ms with reused ones.
 */
export function detectorInput(image: RgbaImage, channelOrder: 'RGB' | 'BGR', view: DetectorView = 'stretch', reuse?: { readonly into: Float32Array; readonly scratch: ResampleScratch }): Float32Array {
  const W = DETECTOR_INPUT_WIDTH;
  const H = DETECTOR_INPUT_HEIGHT;
  const at = placementOf(image, view);
  const small = typeof view === 'object' ? resampleRect(image, view, W, H, reuse?.scratch) : resizeImage(image, at.width, at.height, reuse?.scratch);
  const plane = W * H;
  if (reuse && reuse.into.length !== 3 * plane) throw new Error(`detector input must hold ${3 * plane} floats, got ${reuse.into.length}`);
  const out = reuse ? reuse.into : new Float32Array(3 * plane);
  if (at.width !== W || at.height !== H) out.fill((128 - 127) / 128);
  const [c0, c2] = channelOrder === 'RGB' ? [0, 2] : [2, 0];
  const d = small.data;
  for (let y = 0; y < at.height; y++) {
    for (let x = 0; x < at.width; x++) {
      const i = (at.y + y) * W + at.x + x;
      const p = (y * at.width + x) * 4;
      out[i] = (d[p + c0] - 127) / 128;
      out[plane + i] = (d[p + 1] - 127) / 128;
      out[2 * plane + i] = (d[p + c2] - 127) / 128;
    }
  }
  return out;
}

export class FaceDetector {
  private readonly scoreThreshold: number;
  private readonly iouThreshold: number;
  private readonly channelOrder: 'RGB' | 'BGR';
  private readonly topK: number;
  private readonly zoomOutUpToSide: number;
  /** The resampler's memory and the input array, reused from photo to photo (see detectorInput). */
  private readonly scratch = new ResampleScratch();
  private spareInput: Float32Array | null = null;

  constructor(
    private readonly session: ModelSession,
    options: DetectorOptions = {},
  ) {
    this.scoreThreshold = options.scoreThreshold ?? 0.65;
    this.iouThreshold = options.iouThreshold ?? 0.4;
    this.channelOrder = options.channelOrder ?? 'RGB';
    this.topK = options.topK ?? 750;
    this.zoomOutUpToSide = options.zoomOutUpToSide ?? 200;
  }

  /**
   * Every face found, best score first, boxes clipped to the image.
   *
   * A face that fills the picture (an already cropped or aligned face) can be
   * bigger than the detector's largest prior (256 px of a 240 px input): it is
   * missed, or only its upper half is boxed when a mask hides the rest. So
   * zoomed-out views (the picture at 1/2 and 1/3 of the input's height) are
   * added when the whole-picture view finds nothing, and always for small
   * pictures (longer side <= 200 px by default), which are usually such crops
   * (aligned data sets are 112-160 px) and cheap to look at twice more.
   * With `options.tiles`, a picture far from 4:3 is also searched in
   * detectorTiles (photo libraries: rows of people); off by default, so the
   * gallery and query paths see what they always saw.
   */
  async detect(image: RgbaImage, options: DetectOptions = {}): Promise<DetectedFace[]> {
    const found = await this.detectInView(image, 'stretch');
    const views: DetectorView[] = options.tiles ? detectorTiles(image.width, image.height) : [];
    const small = Math.max(image.width, image.height) <= this.zoomOutUpToSide;
    if (found.length === 0 || small) views.push(2, 3);
    if (views.length === 0) return found;
    const all = [...found];
    for (const view of views) all.push(...(await this.detectInView(image, view)));
    return nonMaxSuppression(all, this.iouThreshold);
  }

  private async detectInView(image: RgbaImage, view: DetectorView): Promise<DetectedFace[]> {
    // One input array, taken for the run and given back after: a second photo's detection in this worker while the
    // first one's run is still pending (comlink calls interleave at awaits) gets a fresh one instead.
    const into = this.spareInput ?? new Float32Array(3 * DETECTOR_INPUT_WIDTH * DETECTOR_INPUT_HEIGHT);
    this.spareInput = null;
    let out: Awaited<ReturnType<ModelSession['run']>>;
    try {
      const input = new Tensor('float32', detectorInput(image, this.channelOrder, view, { into, scratch: this.scratch }), [1, 3, DETECTOR_INPUT_HEIGHT, DETECTOR_INPUT_WIDTH]);
      out = await this.session.run({ [this.session.inputNames[0]]: input });
    } finally {
      this.spareInput = into;
    }
    const scores = out.scores.data as Float32Array;
    const boxes = out.boxes.data as Float32Array;
    const at = placementOf(image, view);
    // Input fraction -> image pixels.
    const sx = DETECTOR_INPUT_WIDTH / at.width;
    const sy = DETECTOR_INPUT_HEIGHT / at.height;
    const ox = at.x / at.width;
    const oy = at.y / at.height;
    const tile = typeof view === 'object' ? view : null;
    const toX = tile ? (u: number) => clamp(tile.x + u * tile.width, tile.x, tile.x + tile.width) : (u: number) => clamp((u * sx - ox) * image.width, 0, image.width);
    const toY = tile ? (v: number) => clamp(tile.y + v * tile.height, tile.y, tile.y + tile.height) : (v: number) => clamp((v * sy - oy) * image.height, 0, image.height);
    const cutByTile = tile ? innerEdgeTest(tile, image) : () => false;
    const n = scores.length / 2;
    const candidates: DetectedFace[] = [];
    for (let i = 0; i < n; i++) {
      const score = scores[2 * i + 1]; // column 0 is background
      if (score < this.scoreThreshold) continue;
      const box = { x1: toX(boxes[4 * i]), y1: toY(boxes[4 * i + 1]), x2: toX(boxes[4 * i + 2]), y2: toY(boxes[4 * i + 3]) };
      if (box.x2 - box.x1 < 1 || box.y2 - box.y1 < 1 || cutByTile(box)) continue;
      candidates.push({ box, score });
    }
    candidates.sort((a, b) => b.score - a.score);
    return nonMaxSuppression(candidates.slice(0, this.topK), this.iouThreshold);
  }
}

/** Whether a box found in `tile` reaches a side of the tile that another tile continues (not the image's border). */
function innerEdgeTest(tile: Rect, image: RgbaImage): (box: FaceBox) => boolean {
  const m = TILE_INNER_EDGE_MARGIN * Math.min(tile.width, tile.height);
  const right = tile.x + tile.width;
  const bottom = tile.y + tile.height;
  // Half a pixel of slack: tile starts are fractional, and the last tile's far side is the border up to rounding.
  return (b) => (tile.x > 0.5 && b.x1 <= tile.x + m) || (right < image.width - 0.5 && b.x2 >= right - m) || (tile.y > 0.5 && b.y1 <= tile.y + m) || (bottom < image.height - 0.5 && b.y2 >= bottom - m);
}

function clamp(v: number, lo: number, hi: number): number {
  return v < lo ? lo : v > hi ? hi : v;
}

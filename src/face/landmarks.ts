/**
 * 68 facial landmarks (iBUG 300-W order) from public/models/face-landmarks68.onnx
 * (faceplugin-face-recognition-js): a 64x64 grey crop in 0..1 (x / 256) gives
 * 136 numbers, (x, y) pairs in 0..1 of the crop.
 *
 * Crop rule (the package's lib/fr_landmark.js): a square whose side is the
 * detector box's height, centred on the box, shrunk if larger than the image
 * and shifted to lie inside it. The package clips the square to the image
 * first (making it non-square and stretching the crop); shifting keeps the
 * face's proportions, which is what the network saw in training.
 */
import { Tensor } from 'onnxruntime-web';
import type { ModelSession } from '../models/modelSession.ts';
import type { Point, RgbaImage } from '../core/types.ts';
import type { FaceBox } from './detector.ts';
import { resampleRect, toGrey, type Rect } from './pixels.ts';

export const LANDMARK_INPUT_SIDE = 64;
export const LANDMARK_COUNT = 68;

/** The square crop (edge coordinates) the landmark network sees for `box`. */
export function landmarkCrop(box: FaceBox, imageWidth: number, imageHeight: number): Rect {
  const cx = (box.x1 + box.x2) / 2;
  const cy = (box.y1 + box.y2) / 2;
  const side = Math.min(box.y2 - box.y1, imageWidth, imageHeight);
  const x = Math.min(Math.max(cx - side / 2, 0), imageWidth - side);
  const y = Math.min(Math.max(cy - side / 2, 0), imageHeight - side);
  return { x, y, width: side, height: side };
}

export class LandmarkModel {
  constructor(private readonly session: ModelSession) {}

  /** 68 points in image pixel-centre coordinates (pixel i at i). */
  async predict(image: RgbaImage, box: FaceBox): Promise<Point[]> {
    const S = LANDMARK_INPUT_SIDE;
    const crop = landmarkCrop(box, image.width, image.height);
    const grey = toGrey(resampleRect(image, crop, S, S));
    for (let i = 0; i < grey.length; i++) grey[i] /= 256;
    const out = await this.session.run({ [this.session.inputNames[0]]: new Tensor('float32', grey, [1, 1, S, S]) });
    const flat = out[this.session.outputNames[0]].data as Float32Array;
    if (flat.length !== 2 * LANDMARK_COUNT) throw new Error(`landmark model gave ${flat.length} numbers, expected ${2 * LANDMARK_COUNT}`);
    const points: Point[] = [];
    // Outputs are fractions of the crop's extent (edge coordinates); -0.5 moves to pixel centres.
    for (let k = 0; k < LANDMARK_COUNT; k++) {
      points.push([crop.x + flat[2 * k] * crop.width - 0.5, crop.y + flat[2 * k + 1] * crop.height - 0.5]);
    }
    return points;
  }
}

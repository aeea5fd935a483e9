/**
 * Group photos composed in memory from single-person photos (issue 17's
 * library tests): the photos are scaled and pasted side by side on a grey
 * canvas, each one's labelled face box carried along, so a test knows where
 * every placed face is. Nothing is written to disk.
 */
import type { RgbaImage } from '../../../../src/core/types.ts';
import type { RandomSource } from '../../../../src/core/random.ts';
import { resizeImage } from '../../../../src/face/pixels.ts';

export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

export interface SourcePhoto {
  readonly name: string;
  readonly image: RgbaImage;
  /** The labelled face's box in the source photo. */
  readonly face: Rect;
}

export interface Placement {
  readonly source: SourcePhoto;
  readonly scale: number;
  /** Where the scaled photo's top-left corner went (may be outside the canvas: the photo is cut). */
  readonly x: number;
  readonly y: number;
  /** The face box on the canvas (scaled, shifted, clipped to the canvas). */
  readonly face: Rect;
}

export interface GroupPhoto {
  readonly image: RgbaImage;
  readonly placements: readonly Placement[];
}

export interface GroupLayout {
  /** Scale of each photo (its order is left to right). */
  readonly scales: readonly number[];
  /** Fraction of the first photo's width cut off by the canvas's left edge, and of the last one's by the right edge. */
  readonly cutLeft: number;
  readonly cutRight: number;
  /** Gaps between neighbouring photos, pixels. */
  readonly gap: number;
}

function clip(r: Rect, width: number, height: number): Rect {
  const x1 = Math.max(0, r.x);
  const y1 = Math.max(0, r.y);
  const x2 = Math.min(width, r.x + r.width);
  const y2 = Math.min(height, r.y + r.height);
  return { x: x1, y: y1, width: Math.max(0, x2 - x1), height: Math.max(0, y2 - y1) };
}

/** Pastes `sources` left to right as `layout` says; vertical positions drawn from `random`. */
export function composeGroupPhoto(sources: readonly SourcePhoto[], layout: GroupLayout, random: RandomSource): GroupPhoto {
  const scaled = sources.map((s, i) => resizeImage(s.image, Math.round(s.image.width * layout.scales[i]), Math.round(s.image.height * layout.scales[i])));
  const tallest = Math.max(...scaled.map((s) => s.height));
  const height = tallest + 40;
  const xs: number[] = [];
  let x = -Math.round(layout.cutLeft * scaled[0].width);
  for (const s of scaled) {
    xs.push(x);
    x += s.width + layout.gap;
  }
  const last = scaled[scaled.length - 1];
  const width = xs[xs.length - 1] + Math.round((1 - layout.cutRight) * last.width);
  const data = new Uint8ClampedArray(width * height * 4).fill(128);
  const placements: Placement[] = scaled.map((img, i) => {
    const y = Math.floor(random() * (height - img.height + 1));
    for (let row = 0; row < img.height; row++) {
      const from = Math.max(0, -xs[i]);
      const to = Math.min(img.width, width - xs[i]);
      if (to <= from) continue;
      data.set(img.data.subarray((row * img.width + from) * 4, (row * img.width + to) * 4), ((y + row) * width + xs[i] + from) * 4);
    }
    const k = img.width / sources[i].image.width;
    const f = sources[i].face;
    return { source: sources[i], scale: k, x: xs[i], y, face: clip({ x: xs[i] + f.x * k, y: y + f.y * k, width: f.width * k, height: f.height * k }, width, height) };
  });
  return { image: { width, height, data }, placements };
}

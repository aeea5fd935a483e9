import { useEffect, useState } from 'react';
import { fail } from '../controller.ts';
import { photoPreview, type PhotoPreview } from '../photoPreviews.ts';

export interface PhotoBox {
  readonly key: string;
  /** x, y, width, height in the photo's pixels. */
  readonly box: readonly [number, number, number, number];
  readonly caption?: string;
  readonly highlight?: boolean;
  readonly onClick?: () => void;
}

/** A library photo's preview with face boxes drawn over it, `size` px on its longer side. */
export function PhotoWithBoxes({ photoHash, boxes, size, alt }: { photoHash: string; boxes: readonly PhotoBox[]; size: number; alt: string }) {
  const [loaded, setLoaded] = useState<{ hash: string; preview: PhotoPreview | null } | null>(null);
  useEffect(() => {
    let live = true;
    photoPreview(photoHash).then(
      (preview) => live && setLoaded({ hash: photoHash, preview }),
      (e: unknown) => {
        if (live) fail(e);
      },
    );
    return () => {
      live = false;
    };
  }, [photoHash]);
  const preview = loaded?.hash === photoHash ? loaded.preview : undefined;
  if (preview === undefined) return <div className="thumb-placeholder" style={{ width: size, height: Math.round(size * 0.75) }} />;
  if (preview === null)
    return (
      <div className="photo-missing" style={{ width: size }} data-testid="photo-missing">
        No preview of this photo: it was imported before previews were kept. Drop its folder again to add one.
      </div>
    );
  const scale = size / Math.max(preview.width, preview.height);
  const width = Math.round(preview.width * scale);
  const height = Math.round(preview.height * scale);
  return (
    <div className="photo-with-boxes" style={{ width, height }} data-testid="photo-with-boxes">
      <img src={preview.url} alt={alt} width={width} height={height} />
      <svg viewBox={`0 0 ${preview.width} ${preview.height}`} width={width} height={height} aria-hidden={boxes.every((b) => !b.onClick)}>
        {boxes.map((b) => (
          <g key={b.key} className={`face-box${b.highlight ? ' highlight' : ''}${b.onClick ? ' clickable' : ''}`} data-testid="photo-face-box" data-key={b.key} onClick={b.onClick}>
            <rect x={b.box[0]} y={b.box[1]} width={b.box[2]} height={b.box[3]} vectorEffect="non-scaling-stroke" />
            {b.caption && <title>{b.caption}</title>}
          </g>
        ))}
      </svg>
    </div>
  );
}

import { useEffect, useState } from 'react';
import { galleryThumbnail } from '../controller.ts';

const cache = new Map<string, string>();

/** A gallery face's aligned thumbnail, fetched once per key from the engine worker. */
export function Thumb({ galleryKey, alt, size = 72 }: { galleryKey: string; alt: string; size?: number }) {
  const [fetched, setFetched] = useState<{ key: string; url: string } | null>(null);
  // Keyed by the face, so a new galleryKey never shows the previous face's picture while its own loads.
  const url = cache.get(galleryKey) ?? (fetched?.key === galleryKey ? fetched.url : undefined);
  useEffect(() => {
    if (cache.has(galleryKey)) return;
    let live = true;
    void galleryThumbnail(galleryKey).then((b) => {
      if (!b || !live) return;
      const u = URL.createObjectURL(b);
      cache.set(galleryKey, u);
      setFetched({ key: galleryKey, url: u });
    });
    return () => {
      live = false;
    };
  }, [galleryKey]);
  return url ? <img src={url} alt={alt} width={size} height={size} /> : <div className="thumb-placeholder" style={{ width: size, height: size }} />;
}

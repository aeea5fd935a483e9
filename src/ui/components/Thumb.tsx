import { useEffect, useState } from 'react';
import { galleryThumbnail } from '../controller.ts';

const cache = new Map<string, string>();

/** A gallery face's aligned thumbnail, fetched once per key from the engine worker. */
export function Thumb({ galleryKey, alt, size = 72 }: { galleryKey: string; alt: string; size?: number }) {
  const [url, setUrl] = useState(cache.get(galleryKey));
  useEffect(() => {
    if (cache.has(galleryKey)) return setUrl(cache.get(galleryKey));
    let live = true;
    void galleryThumbnail(galleryKey).then((b) => {
      if (!b || !live) return;
      const u = URL.createObjectURL(b);
      cache.set(galleryKey, u);
      setUrl(u);
    });
    return () => {
      live = false;
    };
  }, [galleryKey]);
  return url ? <img src={url} alt={alt} width={size} height={size} /> : <div className="thumb-placeholder" style={{ width: size, height: size }} />;
}

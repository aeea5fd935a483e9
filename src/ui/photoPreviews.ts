/**
 * Library photo previews as object URLs, fetched from the engine worker once
 * per photo. A preview never changes (photos are keyed by their content), so
 * the URLs are kept for the page's life, at most MAX of them (~50 kB each).
 */
import { requireEngine } from './controller.ts';

export interface PhotoPreview {
  readonly url: string;
  /** The frame the face boxes are in. */
  readonly width: number;
  readonly height: number;
}

const MAX = 300;
const cache = new Map<string, Promise<PhotoPreview | null>>();

/** Null when the photo has no stored preview (imported before previews were kept). */
export function photoPreview(photoHash: string): Promise<PhotoPreview | null> {
  const hit = cache.get(photoHash);
  if (hit) {
    // Most recently used last, so the oldest is evicted first.
    cache.delete(photoHash);
    cache.set(photoHash, hit);
    return hit;
  }
  const loading = requireEngine()
    .libraryPhoto(photoHash)
    .then((view) => (view?.preview && view.width && view.height ? { url: URL.createObjectURL(view.preview), width: view.width, height: view.height } : null));
  // A failed fetch is not remembered: the next render asks again.
  loading.catch(() => cache.delete(photoHash));
  cache.set(photoHash, loading);
  if (cache.size > MAX) {
    const [oldest, entry] = cache.entries().next().value as [string, Promise<PhotoPreview | null>];
    cache.delete(oldest);
    void entry.then((p) => p && URL.revokeObjectURL(p.url));
  }
  return loading;
}

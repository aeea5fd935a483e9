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
  // The stored photo alone: no scan of the library's faces for each result's thumbnail.
  const loading = requireEngine().libraryPhotoPreview(photoHash).then(toPreview);
  // A failed fetch is not remembered: the next render asks again.
  loading.catch(() => cache.delete(photoHash));
  remember(photoHash, loading);
  return loading;
}

/** The photo view already has the picture (libraryPhoto): it goes into the cache instead of crossing again. */
export function primePhotoPreview(photoHash: string, photo: StoredPicture | null): void {
  if (!cache.has(photoHash)) remember(photoHash, Promise.resolve(toPreview(photo)));
}

interface StoredPicture {
  readonly preview: Blob | null;
  readonly width: number | null;
  readonly height: number | null;
}

function toPreview(photo: StoredPicture | null): PhotoPreview | null {
  return photo?.preview && photo.width && photo.height ? { url: URL.createObjectURL(photo.preview), width: photo.width, height: photo.height } : null;
}

function remember(photoHash: string, loading: Promise<PhotoPreview | null>): void {
  cache.set(photoHash, loading);
  if (cache.size > MAX) {
    const [oldest, entry] = cache.entries().next().value as [string, Promise<PhotoPreview | null>];
    cache.delete(oldest);
    void entry.then((p) => p && URL.revokeObjectURL(p.url));
  }
}

/** The engine worker: wires the real ports into one AppEngine and exposes it through comlink. */
import * as Comlink from 'comlink';
import { AppEngine } from '../src/app/appEngine.ts';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import { parseDamageDetector } from '../src/engine/damageDetector.ts';
import damageDetectorUrl from '../src/models/damage/faceres-damage.bin?url';
import matchedNapUrl from '../src/models/damage/matched-nap.bin?url';
import { MATCHED_NAP_FILE, parseMatchedNap } from '../src/models/matchedNap.ts';
import { PhotoStore } from '../src/storage/photoStore.ts';
import { RecordGalleryStorage } from '../src/storage/recordGalleryStorage.ts';
import { encodeThumbnailJpeg } from './canvasImages.ts';
import { startExtractorPool } from './extractorPool.ts';
import { startStage2Helper } from './stage2HelperClient.ts';
import { DB_NAME, GalleryDb } from './storage/galleryDb.ts';
import { openOpfsGallery } from './storage/opfsDirectory.ts';

/** A file shipped with the app, fetched from its own origin. */
async function fetchBytes(url: string, name: string): Promise<ArrayBuffer> {
  const res = await fetch(url);
  if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
  return res.arrayBuffer();
}

installComlinkErrorHandler();
Comlink.expose(
  new AppEngine(
    {
      startExtractor: startExtractorPool,
      // Galleries live in the Origin Private File System (one folder per database name, recognizer and format).
      openStorage: ({ dbName = DB_NAME, format = 'compact' }) =>
        Promise.resolve(
          new RecordGalleryStorage({
            format,
            directory: (name) => openOpfsGallery(`${dbName}:${name}`),
            ...(format === 'compact' ? { thumbnails: { type: 'image/jpeg' as const, encode: encodeThumbnailJpeg } } : {}),
          }),
        ),
      // One folder of photo previews per database, whatever the recognizer (photos are keyed by content).
      openLibraryPhotos: async ({ dbName = DB_NAME }) => PhotoStore.open(await openOpfsGallery(`${dbName}:library-photos`)),
      // Earlier versions kept galleries in IndexedDB; start-up moves them over.
      openLegacyStorage: (dbName = DB_NAME) => GalleryDb.openIfExists(dbName),
      // Same-origin, fetched once at start-up like the models.
      loadDamageDetector: async () => parseDamageDetector(await fetchBytes(damageDetectorUrl, 'faceres-damage.bin'), 'faceres-damage.bin'),
      loadMatchedNap: async () => parseMatchedNap(await fetchBytes(matchedNapUrl, MATCHED_NAP_FILE), MATCHED_NAP_FILE),
      now: () => performance.now(),
      wallClock: () => Date.now(),
    },
    // Stage 2 on two cores where there are two (the CPU path; WebGPU scores on the GPU).
    { stage2Helper: startStage2Helper() },
  ),
);

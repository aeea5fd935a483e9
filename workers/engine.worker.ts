/** The engine worker: wires the real ports into one AppEngine and exposes it through comlink. */
import * as Comlink from 'comlink';
import { AppEngine } from '../src/app/appEngine.ts';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import { startExtractorPool } from './extractorPool.ts';
import { GalleryDb } from './storage/galleryDb.ts';

installComlinkErrorHandler();
Comlink.expose(
  new AppEngine({
    startExtractor: startExtractorPool,
    openStorage: (dbName) => GalleryDb.open(dbName),
    now: () => performance.now(),
    wallClock: () => Date.now(),
  }),
);

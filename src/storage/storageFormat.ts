/**
 * How a gallery is stored (src/storage/faceRecordCodec.ts has the bytes):
 * `compact`, the app's own, or `float32`, exact, the reference evaluation
 * compares it with. Its own module so the page can read `?storage=` without
 * loading the codecs.
 */
export type StorageFormat = 'compact' | 'float32';

export const STORAGE_FORMATS: readonly StorageFormat[] = ['compact', 'float32'];

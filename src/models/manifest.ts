/**
 * The shape of public/models/manifest.json, written by `npm run models`
 * (scripts/models/build.ts) and read by the worker at start-up. The types
 * are derived from the schema the file is checked against
 * (./manifestSchema.ts); lookups in it live in ./recognizers.ts.
 */
export type { ModelEntry, ModelManifest, ModelRole, ModelSource, PatchGridSpec } from './manifestSchema.ts';

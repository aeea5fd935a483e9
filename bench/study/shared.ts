/** Shapes and paths shared by the pipeline study's scripts (issue 13). */
import { join } from 'node:path';
import { REPO_ROOT } from '../../tests/unit/face/helpers/data.ts';

export const VARIANTS = ['none', 'crop', 'mask', 'sunglasses'] as const;
export type Variant = (typeof VARIANTS)[number];
export interface DumpJob { readonly index: number; readonly path: string; readonly name: string }
export const STUDY_DIR = join(REPO_ROOT, '.cache/study');
export const DIMS = { mfEmb: 512, mfPatch: 49 * 512, frEmb: 1024, frPatch: 49 * 1024 };
export const RECORD_FLOATS = DIMS.mfEmb + DIMS.mfPatch + DIMS.frEmb + DIMS.frPatch;

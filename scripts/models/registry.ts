/** Further model builders (e.g. recognizers converted from TF.js) register here. */
import { buildDlibResnet } from './tfjs/buildDlibResnet.ts';
import { buildFaceres } from './tfjs/buildFaceres.ts';
import type { BuiltModel } from './types.ts';

export const EXTRA_BUILDERS: readonly (() => BuiltModel | Promise<BuiltModel>)[] = [buildDlibResnet, buildFaceres];

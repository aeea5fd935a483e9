/** Further model builders (e.g. recognizers converted from TF.js) register here. */
import type { BuiltModel } from './types.ts';

export const EXTRA_BUILDERS: readonly (() => BuiltModel | Promise<BuiltModel>)[] = [];

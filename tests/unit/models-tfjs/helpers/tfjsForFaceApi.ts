/**
 * Stands in for `@tensorflow/tfjs` when face-api's no-bundle build is loaded
 * under Vitest (see dlib-parity.test.ts): tfjs-core + converter with the CPU
 * backend registered. The full @tensorflow/tfjs package is not a dependency;
 * face-api only needs these parts of it.
 */
import '@tensorflow/tfjs-backend-cpu';
// face-api calls chained ops (tensor.as3D ...), which the umbrella package registers; tfjs-core alone does not.
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';

export * from '@tensorflow/tfjs-core';
export * from '@tensorflow/tfjs-converter';

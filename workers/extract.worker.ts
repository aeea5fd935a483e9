/**
 * Feature-extraction worker: owns the ONNX sessions. The app starts one per
 * core; each is single-threaded (see ortBrowser.ts).
 */
import * as Comlink from 'comlink';
import { installComlinkErrorHandler } from '../src/app/comlinkErrors.ts';
import type { ModelsStatus, OrtBackendChoice } from '../src/app/engineApi.ts';
import { loadAllModels, type LoadedModels } from './modelHost.ts';

installComlinkErrorHandler();

let models: LoadedModels | undefined;

const api = {
  async init(choice: OrtBackendChoice, recognizerId?: string): Promise<ModelsStatus> {
    models = await loadAllModels(choice, recognizerId);
    return models.status;
  },
};

export type ExtractWorkerApi = typeof api;

Comlink.expose(api);

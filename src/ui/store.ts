/** UI state: settings, ids and small results only; features never live here. */
import { create } from 'zustand';
import type { ModelsStatus, OrtBackendChoice } from '../app/engineApi.ts';
import type { PlainError } from '../core/errors.ts';

export type ModelsPhase = { phase: 'loading' } | { phase: 'ready'; status: ModelsStatus } | { phase: 'failed'; error: PlainError };

interface AppState {
  ortBackend: OrtBackendChoice;
  models: ModelsPhase;
  setOrtBackend: (b: OrtBackendChoice) => void;
  setModels: (m: ModelsPhase) => void;
}

function initialBackend(): OrtBackendChoice {
  const b = new URLSearchParams(globalThis.location?.search ?? '').get('backend');
  return b === 'webgpu' || b === 'wasm' ? b : 'auto';
}

export const useAppStore = create<AppState>((set) => ({
  ortBackend: initialBackend(),
  models: { phase: 'loading' },
  setOrtBackend: (ortBackend) => set({ ortBackend }),
  setModels: (models) => set({ models }),
}));

/** The status line follows a model that moved from WebGPU to WASM, wherever the move is reported (src/app/modelMoves.ts). */
import { statusAfterModelMoves } from '../app/modelMoves.ts';
import type { ImportProblem } from '../app/engineApi.ts';
import { getState, setState } from './store.ts';

export function noteModelMoves(notices: readonly Pick<ImportProblem, 'code' | 'message'>[]): void {
  const models = getState().models;
  if (models.phase !== 'ready') return;
  const status = statusAfterModelMoves(models.status, notices);
  if (status !== models.status) setState({ models: { phase: 'ready', status } });
}

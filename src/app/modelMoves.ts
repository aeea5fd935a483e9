/**
 * A model that failed on WebGPU at run time moves to WASM in the worker that
 * ran it (src/models/modelSession.ts) and says so once, as a
 * `webgpu-run-failed` notice in that photo's import report or query. The
 * models' status, read when the workers started, must then stop claiming
 * WebGPU: this is the one rule for that, shared by every place a notice
 * arrives.
 */
import type { ImportProblem, ModelsStatus } from './engineApi.ts';

/** The notices (or import problems) a move is reported as. */
export const MODEL_MOVE_CODE = 'webgpu-run-failed';

/**
 * The status after the moves among `notices`: the backend in use is WASM (at least one model now runs there, the
 * rule the status was built by), the note says why, and a model the message names shows WASM. Unchanged (the same
 * object) when no notice is a move or the status already says all of it.
 */
export function statusAfterModelMoves(status: ModelsStatus, notices: readonly Pick<ImportProblem, 'code' | 'message'>[]): ModelsStatus {
  const moves = notices.filter((n) => n.code === MODEL_MOVE_CODE);
  if (moves.length === 0) return status;
  const moved = (id: string) => moves.some((m) => m.message.includes(`the ${id} model `));
  const models = status.models.map((m) => (m.backend !== 'wasm' && moved(m.id) ? { ...m, backend: 'wasm' as const } : m));
  const backendNote = moves[moves.length - 1].message;
  const changed = status.backend !== 'wasm' || status.backendNote !== backendNote || models.some((m, i) => m !== status.models[i]);
  return changed ? { ...status, backend: 'wasm', backendNote, models } : status;
}

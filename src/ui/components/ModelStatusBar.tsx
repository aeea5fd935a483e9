import type { OrtBackendChoice } from '../../app/engineApi.ts';
import { setOrtBackend } from '../controller.ts';
import { useAppStore } from '../store.ts';

const fmtMs = (ms: number) => (ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`);

export function ModelStatusBar() {
  const models = useAppStore((s) => s.models);
  const ortBackend = useAppStore((s) => s.ortBackend);
  return (
    <section className="status-bar" aria-label="Model status">
      <label>
        Backend{' '}
        <select value={ortBackend} onChange={(e) => void setOrtBackend(e.target.value as OrtBackendChoice)} data-testid="ort-backend">
          <option value="auto">auto</option>
          <option value="webgpu">WebGPU</option>
          <option value="wasm">WASM</option>
        </select>
      </label>
      {models.phase === 'loading' && !models.migrating && <span data-testid="models-status">loading models…</span>}
      {models.phase === 'loading' && models.migrating && (
        <span data-testid="migration-status">
          moving your gallery to the new storage: {models.migrating.done.toLocaleString('en')} of {models.migrating.total.toLocaleString('en')} faces…
        </span>
      )}
      {models.phase === 'failed' && (
        <span className="error" data-testid="models-status" role="alert">
          models failed: {models.error.file ? `${models.error.file}: ` : ''}
          {models.error.message} — {models.error.hint}
        </span>
      )}
      {models.phase === 'ready' && (
        <>
          <span data-testid="models-status" className="ok">
            models ready
          </span>
          <span data-testid="backend-in-use">{models.status.backend === 'webgpu' ? 'WebGPU' : 'WASM'}</span>
          {models.status.backendNote && <span className="note">{models.status.backendNote}</span>}
          <ul className="model-list">
            {models.status.models.map((m) => (
              <li key={m.id} data-testid={`model-${m.id}`}>
                {m.id}{' '}
                <small>
                  ({m.role}, {m.backend}, {fmtMs(m.loadMs)})
                </small>
              </li>
            ))}
          </ul>
        </>
      )}
    </section>
  );
}

import { dismissError } from '../controller.ts';
import { useAppStore } from '../store.ts';

/** Always visible: backend, model, gallery size, last query's stage timings, and any error with its hint. */
export function StatusLine() {
  const models = useAppStore((s) => s.models);
  const gallery = useAppStore((s) => s.gallery);
  const results = useAppStore((s) => s.results);
  const error = useAppStore((s) => s.error);
  const status = models.phase === 'ready' ? models.status : null;
  return (
    <div className="status-line">
      <span>
        features: <b data-testid="status-backend">{status ? (status.backend === 'webgpu' ? 'WebGPU' : 'WASM') : '…'}</b>
      </span>
      <span>
        model: <b>{status?.active.id ?? '…'}</b>
      </span>
      <span>
        gallery: <b data-testid="status-gallery">{gallery?.count ?? 0}</b>
      </span>
      {results && (
        <span data-testid="status-timings">
          stage 1 {results.stage1Ms.toFixed(1)} ms · stage 2 {results.stage2Ms.toFixed(1)} ms on <b data-testid="status-emd-backend">{results.sinkhornBackend === 'webgpu' ? 'WebGPU' : 'CPU'}</b>
          {results.sinkhornBackend === 'cpu' && results.stage2Workers > 1 && <span data-testid="status-stage2-workers"> ({results.stage2Workers} workers)</span>}
          {results.fallbackReason && (
            <span className="note" data-testid="emd-fallback">
              {' '}
              ({results.fallbackReason})
            </span>
          )}
        </span>
      )}
      {error && (
        <div className="error-banner" role="alert" data-testid="error-banner">
          <b>
            {error.file ? `${error.file}: ` : ''}
            {error.message}
          </b>{' '}
          — {error.hint}
          <button onClick={dismissError}>dismiss</button>
        </div>
      )}
    </div>
  );
}

import { useEffect, useRef } from 'react';
import { toPlainError } from '../core/errors.ts';
import { useAppStore } from './store.ts';
import { startExtractWorker } from './workerClient.ts';

/** (Re)loads the models in the extraction worker whenever the backend choice changes. */
export function useModels(): void {
  const ortBackend = useAppStore((s) => s.ortBackend);
  const setModels = useAppStore((s) => s.setModels);
  const workerRef = useRef<ReturnType<typeof startExtractWorker> | null>(null);
  useEffect(() => {
    let cancelled = false;
    workerRef.current?.worker.terminate();
    const w = startExtractWorker('extract-0');
    workerRef.current = w;
    setModels({ phase: 'loading' });
    w.api.init(ortBackend).then(
      (status) => !cancelled && setModels({ phase: 'ready', status }),
      (e: unknown) => !cancelled && setModels({ phase: 'failed', error: toPlainError(e) }),
    );
    return () => {
      cancelled = true;
    };
  }, [ortBackend, setModels]);
}

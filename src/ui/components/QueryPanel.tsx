import { useEffect } from 'react';
import type { OodTransform } from '../../core/types.ts';
import { chooseFace, setOod, setQueryFile } from '../controller.ts';
import { useAppStore } from '../store.ts';
import { DropZone } from './DropZone.tsx';

const OODS: OodTransform[] = ['none', 'crop', 'mask', 'sunglasses'];

export function QueryPanel() {
  const query = useAppStore((s) => s.query);
  const ood = useAppStore((s) => s.ood);
  const ready = useAppStore((s) => s.models.phase === 'ready');

  useEffect(() => {
    // Paste an image from the clipboard as the query.
    const onPaste = (e: ClipboardEvent) => {
      const f = Array.from(e.clipboardData?.files ?? []).find((x) => x.type.startsWith('image/'));
      if (f && ready) void setQueryFile(f.name || 'pasted image', f);
    };
    window.addEventListener('paste', onPaste);
    return () => window.removeEventListener('paste', onPaste);
  }, [ready]);

  return (
    <section className="panel query-panel" aria-label="Query">
      <h2>Query</h2>
      <DropZone
        testId="query-drop"
        small
        enabled={ready}
        onDrop={(data) => {
          const f = data.files[0];
          if (f) void setQueryFile(f.name, f);
        }}
      >
        Drop or paste a photo of a face
        <input
          type="file"
          accept="image/*"
          data-testid="query-input"
          disabled={!ready}
          onChange={(e) => {
            const f = e.target.files?.[0];
            if (f) void setQueryFile(f.name, f);
            e.target.value = '';
          }}
        />
      </DropZone>
      <label>
        Query transform{' '}
        <select value={ood} data-testid="ood-select" onChange={(e) => void setOod(e.target.value as OodTransform)}>
          {OODS.map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </label>
      {query && (
        <div className="query-view" data-testid="query-view">
          <img src={query.alignedUrl} alt="aligned query face" width={112} height={112} data-testid="query-aligned" />
          <div>
            <div className="file-name" data-testid="query-filename">
              {query.view.fileName}
            </div>
            {query.view.knownIdentity && (
              <div>
                identity: <b data-testid="query-identity">{query.view.knownIdentity}</b>
              </div>
            )}
            {query.view.notice && (
              <p className="note" data-testid="query-notice" title={query.view.notice.hint}>
                {query.view.notice.message}
              </p>
            )}
            {query.view.faces.length > 1 && (
              <div className="face-chooser" data-testid="face-chooser">
                {query.view.faces.length} faces found:{' '}
                {query.view.faces.map((f, i) => (
                  <button key={i} className={i === query.view.chosenIndex ? 'active' : ''} onClick={() => void chooseFace(i)}>
                    #{i + 1} ({Math.round(f.width)}×{Math.round(f.height)})
                  </button>
                ))}
              </div>
            )}
          </div>
        </div>
      )}
    </section>
  );
}

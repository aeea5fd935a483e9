import { useRef, useState } from 'react';
import { cancelImport, clearGallery, exportGallery, importEntries, importGalleryFile, removeIdentity, setQueryFromGallery, setQueryFromIdentity } from '../controller.ts';
import { downloadBlob } from '../exportResults.ts';
import { entriesFromDataTransfer, entriesFromFiles } from '../dropEntries.ts';
import { useAppStore } from '../store.ts';
import { DropZone } from './DropZone.tsx';
import { ImportStatus } from './ImportStatus.tsx';

export function GalleryPanel() {
  const gallery = useAppStore((s) => s.gallery);
  const ready = useAppStore((s) => s.models.phase === 'ready');
  const importing = useAppStore((s) => s.importing);
  const busy = importing !== null && !importing.finished;
  const [filter, setFilter] = useState('');
  const dirInput = useRef<HTMLInputElement>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const galleryFileInput = useRef<HTMLInputElement>(null);
  const notice = useAppStore((s) => s.notice);

  return (
    <section className="panel gallery-panel" aria-label="Gallery">
      <h2>Gallery</h2>
      <DropZone testId="gallery-drop" enabled={ready && !busy} onDrop={(data) => void entriesFromDataTransfer(data).then(importEntries)}>
        Drop folders of labelled faces (Name/Name_0001.jpg), images or a .zip here
        <div className="row">
          <button disabled={!ready || busy} onClick={() => dirInput.current?.click()}>
            Choose folder…
          </button>
          <button disabled={!ready || busy} onClick={() => fileInput.current?.click()}>
            Choose files…
          </button>
        </div>
        <input
          ref={dirInput}
          type="file"
          hidden
          multiple
          data-testid="gallery-folder-input"
          {...{ webkitdirectory: '', directory: '' }}
          onChange={(e) => {
            if (e.target.files) void importEntries(entriesFromFiles(e.target.files));
            e.target.value = '';
          }}
        />
        <input
          ref={fileInput}
          type="file"
          hidden
          multiple
          accept="image/*,.zip"
          data-testid="gallery-file-input"
          onChange={(e) => {
            if (e.target.files) void importEntries(entriesFromFiles(e.target.files));
            e.target.value = '';
          }}
        />
      </DropZone>
      <ImportStatus onCancel={cancelImport} kind="gallery" />
      {gallery && (
        <>
          <p data-testid="gallery-count">
            {gallery.count} images, {gallery.identities.length} identities
          </p>
          <div className="row">
            <input placeholder="filter identities" value={filter} onChange={(e) => setFilter(e.target.value)} />
            <button
              disabled={busy || gallery.count === 0}
              data-testid="gallery-clear"
              onClick={() => {
                if (confirm(`Remove all ${gallery.count} images from this gallery?`)) void clearGallery();
              }}
            >
              Clear all
            </button>
          </div>
          <div className="row">
            <button
              disabled={busy || gallery.count === 0}
              data-testid="gallery-export"
              onClick={() => void exportGallery().then((b) => b && downloadBlob(`gallery-${gallery.modelKey.replace(/[^\w.-]+/g, '_')}.dfemd.zip`, b))}
            >
              Export gallery
            </button>
            <button disabled={!ready || busy} onClick={() => galleryFileInput.current?.click()}>
              Import gallery file…
            </button>
            <input
              ref={galleryFileInput}
              type="file"
              hidden
              accept=".zip"
              data-testid="gallery-import-file"
              onChange={(e) => {
                const f = e.target.files?.[0];
                if (f) void importGalleryFile(f);
                e.target.value = '';
              }}
            />
          </div>
          {notice && (
            <p className="note" data-testid="gallery-notice">
              {notice}
            </p>
          )}
          <ul className="identity-list" data-testid="identity-list">
            {gallery.identities
              .filter((i) => i.label.toLowerCase().includes(filter.toLowerCase()))
              .slice(0, 300)
              .map((i) => (
                <li key={i.label} data-testid="identity">
                  <span className="label">{i.label}</span> <small>({i.count})</small>
                  <button
                    className="link"
                    data-testid="identity-use-as-query"
                    title={`search the gallery with the first image of ${i.label}`}
                    disabled={busy}
                    onClick={() => void setQueryFromIdentity(i.label)}
                  >
                    use as query
                  </button>
                  <button title="remove this identity" aria-label={`remove ${i.label}`} disabled={busy} onClick={() => void removeIdentity(i.label)}>
                    ✕
                  </button>
                </li>
              ))}
          </ul>
        </>
      )}
      <GalleryPickHint />
    </section>
  );
}

function GalleryPickHint() {
  const results = useAppStore((s) => s.results);
  if (!results || results.stage1.length === 0) return null;
  const top = results.stage1[0];
  return (
    <p className="hint">
      Tip: click “use as query” on any result or identity to search with a gallery face, e.g.{' '}
      <button className="link" onClick={() => void setQueryFromGallery(top.key)}>
        {top.label}
      </button>
      .
    </p>
  );
}

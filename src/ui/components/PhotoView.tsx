import { useEffect } from 'react';
import type { LibraryFaceView } from '../../app/libraryService.ts';
import { setQueryFromGallery } from '../controller.ts';
import { openLibraryPhoto } from '../libraryActions.ts';
import { useAppStore } from '../store.ts';
import { PhotoWithBoxes } from './PhotoWithBoxes.tsx';

export function personCaption(label: string): string {
  return label === '' ? 'not grouped yet' : label.startsWith('#') ? `Person ${label}` : label;
}

const caption = (f: LibraryFaceView) => `face ${f.faceIndex + 1}: ${personCaption(f.label)}`;

/** The open library photo with every face boxed; a face's box (or its line below) makes it the query. */
export function PhotoView() {
  const photo = useAppStore((s) => s.openPhoto);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') void openLibraryPhoto(null);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
  if (!photo) return null;
  const queryWith = (f: LibraryFaceView) => () => {
    void openLibraryPhoto(null);
    void setQueryFromGallery(f.key);
  };
  return (
    <div className="photo-view-backdrop" onClick={() => void openLibraryPhoto(null)}>
      <div className="photo-view panel" role="dialog" aria-label={`Photo ${photo.path}`} data-testid="photo-view" data-photo={photo.path} onClick={(e) => e.stopPropagation()}>
        <h3>
          {photo.path}{' '}
          <button className="link" onClick={() => void openLibraryPhoto(null)} data-testid="photo-view-close">
            close
          </button>
        </h3>
        <PhotoWithBoxes
          photoHash={photo.photoHash}
          alt={photo.path}
          size={640}
          boxes={photo.faces.map((f) => ({ key: f.key, box: f.box, caption: `${caption(f)} (click: use as query)`, onClick: queryWith(f) }))}
        />
        <ol className="photo-faces">
          {photo.faces.map((f) => (
            <li key={f.key} data-testid="photo-face" data-label={f.label}>
              {caption(f)}{' '}
              <button className="link" onClick={queryWith(f)}>
                use as query
              </button>
            </li>
          ))}
        </ol>
      </div>
    </div>
  );
}

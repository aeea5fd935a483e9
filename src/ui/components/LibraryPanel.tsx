import { useRef, useState } from 'react';
import type { PersonView } from '../../app/libraryService.ts';
import { cancelImport, setQueryFromGallery } from '../controller.ts';
import { entriesFromDataTransfer, entriesFromFiles } from '../dropEntries.ts';
import { importLibrary, mergePeople, moveFaceOut, namePerson, openLibraryPhoto, openPerson } from '../libraryActions.ts';
import { useAppStore } from '../store.ts';
import { DropZone } from './DropZone.tsx';
import { ImportStatus } from './ImportStatus.tsx';
import { Thumb } from './Thumb.tsx';

const personTitle = (p: PersonView) => p.name ?? `Unnamed person ${p.label}`;

/** The second gallery kind: a folder tree of unlabelled photos, every face indexed, grouped into people. */
export function LibraryPanel() {
  const library = useAppStore((s) => s.library);
  const ready = useAppStore((s) => s.models.phase === 'ready');
  const busy = useAppStore((s) => s.importing !== null && !s.importing.finished);
  const dirInput = useRef<HTMLInputElement>(null);
  return (
    <section className="panel library-panel" aria-label="Photo library">
      <h2>Photo library</h2>
      <DropZone testId="library-drop" enabled={ready && !busy} onDrop={(data) => void entriesFromDataTransfer(data).then(importLibrary)}>
        Drop a folder of your photos here: every face is found and grouped into people (folder names are ignored). Dropping it again adds only new photos.
        <div className="row">
          <button disabled={!ready || busy} onClick={() => dirInput.current?.click()}>
            Choose photo folder…
          </button>
        </div>
        <input
          ref={dirInput}
          type="file"
          hidden
          multiple
          data-testid="library-folder-input"
          {...{ webkitdirectory: '', directory: '' }}
          onChange={(e) => {
            if (e.target.files) void importLibrary(entriesFromFiles(e.target.files));
            e.target.value = '';
          }}
        />
      </DropZone>
      <ImportStatus onCancel={cancelImport} kind="library" />
      {library && library.faces > 0 && (
        <>
          <p data-testid="library-count">
            {library.photos} photos, {library.faces} faces, {library.people.length} people
          </p>
          {library.groupingUnavailable && (
            <p className="note" data-testid="library-grouping-unavailable">
              Not grouped into people: {library.groupingUnavailable}.
            </p>
          )}
          <ul className="people-list" data-testid="people-list">
            {library.people.slice(0, 300).map((p) => (
              <li key={p.label} data-testid="person" data-label={p.label}>
                <button className="person" onClick={() => void openPerson(p.label)} title={`show the ${p.count} faces of ${personTitle(p)}`}>
                  <Thumb galleryKey={p.coverKey} alt={personTitle(p)} size={48} />
                  <span className="label" data-testid="person-title">
                    {personTitle(p)}
                  </span>{' '}
                  <small data-testid="person-count">({p.count})</small>
                </button>
              </li>
            ))}
          </ul>
          <OpenPerson people={library.people} />
        </>
      )}
    </section>
  );
}

function OpenPerson({ people }: { people: readonly PersonView[] }) {
  const open = useAppStore((s) => s.openPerson);
  const [name, setName] = useState('');
  const [mergeInto, setMergeInto] = useState('');
  const person = open ? people.find((p) => p.label === open.label) : undefined;
  if (!open || !person) return null;
  const others = people.filter((p) => p.label !== person.label);
  return (
    <div className="open-person" data-testid="open-person">
      <h3>
        {personTitle(person)} <small>({person.count} faces)</small>
        <button className="link" onClick={() => void openPerson(null)}>
          close
        </button>
      </h3>
      <form
        className="row"
        onSubmit={(e) => {
          e.preventDefault();
          void namePerson(person.label, name).then(() => setName(''));
        }}
      >
        <input placeholder={person.name ? 'rename' : 'name this person'} value={name} onChange={(e) => setName(e.target.value)} data-testid="person-name-input" />
        <button type="submit" disabled={name.trim() === ''} data-testid="person-name-save">
          Name
        </button>
      </form>
      {others.length > 0 && (
        <div className="row">
          <select value={mergeInto} onChange={(e) => setMergeInto(e.target.value)} data-testid="person-merge-target" aria-label="merge into">
            <option value="">merge into…</option>
            {others.map((p) => (
              <option key={p.label} value={p.label}>
                {personTitle(p)} ({p.count})
              </option>
            ))}
          </select>
          <button disabled={mergeInto === ''} data-testid="person-merge" onClick={() => void mergePeople(person.label, mergeInto).then(() => setMergeInto(''))}>
            Merge
          </button>
        </div>
      )}
      <ul className="person-faces" data-testid="person-faces">
        {open.faces.map((f) => (
          <li key={f.key} data-testid="person-face">
            <Thumb galleryKey={f.key} alt={`${f.path}, face ${f.faceIndex + 1}`} size={64} />
            <button className="link" title={`open the photo (this face: box ${f.box.join(', ')})`} onClick={() => void openLibraryPhoto(f.photoHash)} data-testid="person-face-photo">
              {f.path}
            </button>
            <button className="link" onClick={() => void setQueryFromGallery(f.key)} data-testid="person-face-query">
              use as query
            </button>
            {person.count > 1 && (
              <button className="link" onClick={() => void moveFaceOut(f.key)} data-testid="person-face-move-out" title="not this person: make it a person of its own">
                move out
              </button>
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

import { useEffect } from 'react';
import { automation, initEngine } from './controller.ts';
import { Controls } from './components/Controls.tsx';
import { EvaluatePanel } from './components/EvaluatePanel.tsx';
import { GalleryPanel } from './components/GalleryPanel.tsx';
import { LibraryPanel } from './components/LibraryPanel.tsx';
import { LibraryResults } from './components/LibraryResults.tsx';
import { PhotoView } from './components/PhotoView.tsx';
import { ModelStatusBar } from './components/ModelStatusBar.tsx';
import { PairView } from './components/PairView.tsx';
import { QueryPanel } from './components/QueryPanel.tsx';
import { ResultRows } from './components/ResultRows.tsx';
import { StatusLine } from './components/StatusLine.tsx';

export function App() {
  useEffect(() => {
    (window as unknown as { __deepfaceEmd: typeof automation }).__deepfaceEmd = automation;
    void initEngine();
  }, []);
  return (
    <div className="app">
      <header>
        <h1>DeepFace-EMD</h1>
        <p className="tagline">Face identification with patch-wise EMD re-ranking, entirely in your browser: nothing leaves this machine.</p>
        <ModelStatusBar />
        <StatusLine />
      </header>
      <main className="layout">
        <div className="side">
          <GalleryPanel />
          <LibraryPanel />
        </div>
        <div className="center">
          <div className="query-and-controls">
            <QueryPanel />
            <Controls />
          </div>
          <ResultRows />
          <LibraryResults />
          <PairView />
          <EvaluatePanel />
        </div>
      </main>
      <PhotoView />
    </div>
  );
}

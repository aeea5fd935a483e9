import { ModelStatusBar } from './components/ModelStatusBar.tsx';
import { useModels } from './useModels.ts';

export function App() {
  useModels();
  return (
    <div className="app">
      <header>
        <h1>DeepFace-EMD</h1>
        <p className="tagline">Face identification in your browser; nothing leaves this machine.</p>
        <ModelStatusBar />
      </header>
    </div>
  );
}

import { useEffect, useRef, useState } from 'react';
import type { RgbaImage } from '../../core/types.ts';
import { jetCssGradient } from '../../viz/colormap.ts';
import { flowImage, flowTargets, patchAt } from '../../viz/flow.ts';
import { weightHeatmap } from '../../viz/heatmap.ts';
import { selectResult } from '../controller.ts';
import { personCaption } from './PhotoView.tsx';
import { blobToRgba, drawRgba } from '../imageData.ts';
import { useAppStore } from '../store.ts';

function Canvas({
  img,
  testId,
  label,
  onMove,
  onLeave,
  overlay,
}: {
  img: RgbaImage | null;
  testId: string;
  label: string;
  onMove?: (x: number, y: number) => void;
  onLeave?: () => void;
  overlay?: React.ReactNode;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ref.current && img) drawRgba(ref.current, img);
  }, [img]);
  return (
    <figure>
      <div className="canvas-wrap">
        <canvas
          ref={ref}
          data-testid={testId}
          onMouseMove={(e) => {
            if (!onMove) return;
            const r = e.currentTarget.getBoundingClientRect();
            onMove((e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
          }}
          onMouseLeave={onLeave}
        />
        {overlay}
      </div>
      <figcaption>{label}</figcaption>
    </figure>
  );
}

export function PairView() {
  const pair = useAppStore((s) => s.pair);
  const query = useAppStore((s) => s.query);
  const results = useAppStore((s) => s.results);
  const libraryResults = useAppStore((s) => s.libraryResults);
  const [decoded, setDecoded] = useState<{ qBlob: Blob; gBlob: Blob; q: RgbaImage; g: RgbaImage } | null>(null);
  /** The hovered query patch, with the grid it was picked on: after a grid change it no longer names a patch. */
  const [hover, setHover] = useState<{ grid: number; patch: number } | null>(null);
  const queryBlob = query?.view.aligned;
  const galleryBlob = pair?.galleryAligned;

  useEffect(() => {
    if (!queryBlob || !galleryBlob) return;
    let live = true;
    void Promise.all([blobToRgba(queryBlob, 112), blobToRgba(galleryBlob, 112)]).then(([q, g]) => {
      if (live) setDecoded({ qBlob: queryBlob, gBlob: galleryBlob, q, g });
    });
    return () => {
      live = false;
    };
  }, [queryBlob, galleryBlob]);

  if (!pair || !query) return null;
  // Faces decoded for another pair are never drawn under this pair's flow; the canvases wait for this pair's.
  const faces = decoded && decoded.qBlob === queryBlob && decoded.gBlob === galleryBlob ? decoded : null;
  const entry = results?.stage2.find((r) => r.key === pair.key) ?? results?.stage1.find((r) => r.key === pair.key);
  const libraryHit = libraryResults?.stage2.find((h) => h.key === pair.key) ?? libraryResults?.stage1.find((h) => h.key === pair.key);
  const title = entry?.label ?? (libraryHit ? `${personCaption(libraryHit.label)} in ${libraryHit.path} (face ${libraryHit.faceIndex + 1})` : pair.key);
  const g = pair.grid;
  const n = g * g;
  const hovered = hover && hover.grid === g ? hover.patch : null;
  const targets = hovered === null ? [] : flowTargets(pair.plan, n, hovered);
  const cellPct = 100 / g;
  return (
    <section className="panel pair-view" aria-label="Patch flow" data-testid="pair-view">
      <h2>
        Query vs {title} <button onClick={() => void selectResult(null)}>close</button>
      </h2>
      <p className="note" data-testid="pair-summary">
        s_emd {pair.sEmd.toFixed(4)} · {pair.iterations} Sinkhorn iterations · marginal error {pair.marginalError.toExponential(1)} · grid {g}×{g}
        {pair.via !== 'none' && <> · the query drawn with {pair.via === 'mask' ? 'a mask' : 'sunglasses'}, as this face wears</>}
      </p>
      <details className="help" data-testid="pair-help">
        <summary>What these numbers mean</summary>
        <p>
          Sinkhorn finds the transport plan (how much of each query patch goes to each gallery patch) by rescaling rows and columns in turns. The <b>reference</b> rule is the authors&apos;: it stops
          as soon as one round changes the row scaling little, often after 2 rounds, so the plan&apos;s row and column sums can still differ from the patch weights; the <b>marginal error</b> is the
          largest such difference. The <b>converged</b> rule keeps iterating until that error is below its tolerance. s_emd is computed from the plan as it stands.
        </p>
      </details>
      {faces && (
        <div className="pair-grid">
          <Canvas
            img={faces.q}
            testId="pair-query"
            label="query (hover a patch)"
            onMove={(x, y) => setHover({ grid: g, patch: patchAt(x, y, g) })}
            onLeave={() => setHover(null)}
            overlay={
              hovered !== null && (
                <div
                  className="cell hover"
                  data-testid="hover-cell"
                  style={{ left: `${(hovered % g) * cellPct}%`, top: `${Math.floor(hovered / g) * cellPct}%`, width: `${cellPct}%`, height: `${cellPct}%` }}
                />
              )
            }
          />
          <Canvas
            img={faces.g}
            testId="pair-gallery"
            label="gallery face: where the hovered patch sends mass"
            overlay={targets.map((t) => (
              <div
                key={t.j}
                className="cell target"
                style={{ left: `${(t.j % g) * cellPct}%`, top: `${Math.floor(t.j / g) * cellPct}%`, width: `${cellPct}%`, height: `${cellPct}%`, opacity: 0.25 + 0.75 * t.share }}
              />
            ))}
          />
          <Canvas img={flowImage(faces.g, pair.plan, g)} testId="pair-flow" label="flow: query rebuilt from gallery patches" />
          <Canvas img={weightHeatmap(faces.q, pair.u, g)} testId="pair-heat-query" label="query weights (u)" />
          <Canvas img={weightHeatmap(faces.g, pair.v, g)} testId="pair-heat-gallery" label="gallery weights (v)" />
          <WeightLegend />
        </div>
      )}
    </section>
  );
}

function WeightLegend() {
  return (
    <figure className="weight-legend" data-testid="weight-legend">
      <div className="colour-bar" style={{ background: jetCssGradient() }} />
      <div className="row between">
        <span>low weight</span>
        <span>high weight</span>
      </div>
      <figcaption>
        Patch weights: how much of the face&apos;s mass each patch carries into the matching (u for the query, v for the gallery face). The weighting method chooses them; a patch hidden by a mask or
        sunglasses should get little.
      </figcaption>
    </figure>
  );
}

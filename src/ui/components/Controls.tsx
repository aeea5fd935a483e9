import type { AdaptiveAlpha, SinkhornMode, Weighting } from '../../core/types.ts';
import { DEFAULT_SETTINGS } from '../../core/types.ts';
import { matchingPreset, PRESETS } from '../../models/presets.ts';
import { applyPreset, setRecognizer, updateSettings } from '../controller.ts';
import { useAppStore } from '../store.ts';

const WEIGHTINGS: Weighting[] = ['uniform', 'apc', 'cc', 'sc', 'sc-sim', 'lmk'];

export function Controls() {
  const s = useAppStore((st) => st.settings);
  const status = useAppStore((st) => (st.models.phase === 'ready' ? st.models.status : null));
  const native = status?.patchGrid.h ?? 7;
  const grids = Array.from({ length: native }, (_, i) => native - i);
  const isSum = s.alpha === 'sum';
  const adaptive = s.adaptiveAlpha ?? null;
  const preset = status ? matchingPreset(status.active.id, s) : undefined;
  // The rule chosen on lfw-dev belongs to the default pipeline's score scale.
  const defaultRule = DEFAULT_SETTINGS.adaptiveAlpha ?? null;
  return (
    <section className="panel controls" aria-label="Re-ranking settings">
      <h2>Re-ranking</h2>
      <label>
        preset{' '}
        <select value={preset?.id ?? 'custom'} data-testid="preset" onChange={(e) => void applyPreset(e.target.value)}>
          {PRESETS.map((p) => (
            <option key={p.id} value={p.id}>
              {p.title}
            </option>
          ))}
          <option value="custom" disabled>
            custom
          </option>
        </select>
      </label>
      <p className="note" data-testid="preset-summary">
        {preset ? preset.summary : 'Custom: settings moved away from a preset; pick one to go back.'}
      </p>
      <label>
        alpha{' '}
        <output data-testid="alpha-value">{adaptive ? (adaptive.byDamage ? 'auto (by damage kind)' : `auto (${adaptive.clean} / ${adaptive.damaged})`) : isSum ? 'sum' : s.alpha.toFixed(2)}</output>
        <input
          type="range"
          min={0}
          max={1}
          step={0.05}
          disabled={isSum}
          value={isSum ? 0.7 : adaptive ? adaptive.clean : s.alpha}
          data-testid="alpha"
          onChange={(e) => void updateSettings({ alpha: Number(e.target.value), adaptiveAlpha: null })}
        />
      </label>
      {defaultRule && (
        <label title={adaptiveRuleText(defaultRule)}>
          <input
            type="checkbox"
            checked={adaptive !== null}
            disabled={isSum}
            data-testid="alpha-adaptive"
            onChange={(e) => void updateSettings({ adaptiveAlpha: e.target.checked ? defaultRule : null })}
          />{' '}
          {defaultRule.byDamage ? 'alpha per query (by the damage the detector reads in the query)' : 'alpha per query (more EMD when the query looks damaged)'}
        </label>
      )}
      <label>
        <input type="checkbox" checked={isSum} data-testid="alpha-sum" onChange={(e) => void updateSettings({ alpha: e.target.checked ? 'sum' : 0.7, adaptiveAlpha: null })} /> sum mode (s_emd + s_cos)
      </label>
      <label>
        grid{' '}
        <select value={s.grid} data-testid="grid" onChange={(e) => void updateSettings({ grid: Number(e.target.value) })}>
          {grids.map((g) => (
            <option key={g} value={g}>
              {g}×{g}
            </option>
          ))}
        </select>
      </label>
      <label>
        weighting{' '}
        <select value={s.weighting} data-testid="weighting" onChange={(e) => void updateSettings({ weighting: e.target.value as Weighting })}>
          {WEIGHTINGS.map((w) => (
            <option key={w} value={w}>
              {w}
            </option>
          ))}
        </select>
      </label>
      <label>
        k <output>{s.k}</output>
        <input type="range" min={10} max={500} step={10} value={s.k} data-testid="k" onChange={(e) => void updateSettings({ k: Number(e.target.value) })} />
      </label>
      <details className="advanced">
        <summary>Advanced</summary>
        <label>
          Sinkhorn mode{' '}
          <select value={s.sinkhorn.mode} data-testid="sinkhorn-mode" onChange={(e) => void updateSettings({ sinkhorn: { ...s.sinkhorn, mode: e.target.value as SinkhornMode } })}>
            <option value="reference">reference (authors' stop rule)</option>
            <option value="converged">converged</option>
          </select>
        </label>
        <label>
          eps{' '}
          <input
            type="number"
            min={0.005}
            max={1}
            step={0.005}
            value={s.sinkhorn.eps}
            data-testid="sinkhorn-eps"
            onChange={(e) => void updateSettings({ sinkhorn: { ...s.sinkhorn, eps: Number(e.target.value) } })}
          />
        </label>
        <label>
          max iterations{' '}
          <input
            type="number"
            min={1}
            max={2000}
            step={1}
            value={s.sinkhorn.maxIter}
            data-testid="sinkhorn-iter"
            onChange={(e) => void updateSettings({ sinkhorn: { ...s.sinkhorn, maxIter: Number(e.target.value) } })}
          />
        </label>
        <label>
          EMD backend{' '}
          <select value={s.backend} data-testid="emd-backend" onChange={(e) => void updateSettings({ backend: e.target.value as 'auto' | 'webgpu' | 'cpu' })}>
            <option value="auto">auto</option>
            <option value="webgpu">WebGPU</option>
            <option value="cpu">CPU</option>
          </select>
        </label>
        {status && (
          <label>
            recognizer{' '}
            <select value={status.active.id} data-testid="recognizer" onChange={(e) => void setRecognizer(e.target.value)}>
              {status.recognizers.map((r) => (
                <option key={r.id} value={r.id} title={r.title}>
                  {r.id}
                </option>
              ))}
            </select>
          </label>
        )}
      </details>
    </section>
  );
}

function adaptiveRuleText(rule: AdaptiveAlpha): string {
  const b = rule.byDamage;
  const byScore = `alpha ${rule.clean} when the stage-1 top-1 score is >= ${rule.threshold}, else ${rule.damaged}`;
  const w = Object.entries(rule.secondaryCosineByDamage ?? {});
  const cosine = w.length > 0 ? `; with two recognizers, stage 2's cosine gives the second one weight ${w.map(([kind, x]) => `${x} (${kind})`).join(', ')}` : '';
  const v = Object.entries(rule.visibleByDamage ?? {});
  const visible =
    v.length > 0
      ? `; where the faces carry it, ${v.map(([kind, x]) => `a ${kind} query also weighs the cosine of the part the ${kind} leaves visible at ${x.visible} (alpha ${x.alpha}, second recognizer ${x.secondaryCosine})`).join(', ')}`
      : '';
  return b
    ? `alpha ${b.none} for a clean query, ${b.crop} cropped, ${b.mask} masked, ${b.sunglasses} sunglasses (read by the damage detector)${cosine}${visible}; without the detector: ${byScore}`
    : byScore;
}

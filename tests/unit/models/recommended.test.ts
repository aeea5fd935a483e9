import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SETTINGS } from '../../../src/core/types.ts';
import { parseManifest } from '../../../src/models/manifestSchema.ts';
import { DEFAULT_RECOGNIZER_ID } from '../../../src/models/pipelines.ts';
import { recognizerEntries } from '../../../src/models/recognizers.ts';
import { RECOMMENDED, settingsForRecognizer } from '../../../src/models/recommended.ts';

describe('per-recognizer stage-2 settings', () => {
  it('switching recognizer takes its native grid and its alpha, and keeps every other setting', () => {
    const current = { ...DEFAULT_SETTINGS, k: 40, weighting: 'sc' as const, alpha: 0.55 };
    const s = settingsForRecognizer('dlib-resnet', 8, current);
    expect(s).toEqual({ ...current, grid: 8, alpha: RECOMMENDED['dlib-resnet'].alpha, adaptiveAlpha: null });
    expect(settingsForRecognizer('not-a-model', 5, current)).toEqual({ ...current, grid: 5 });
  });

  it('the default settings are the default pipeline’s recommendation, and every built recognizer has one', () => {
    expect(RECOMMENDED[DEFAULT_RECOGNIZER_ID].alpha).toBe(DEFAULT_SETTINGS.alpha);
    expect(RECOMMENDED[DEFAULT_RECOGNIZER_ID].adaptiveAlpha ?? null).toEqual(DEFAULT_SETTINGS.adaptiveAlpha ?? null);
    const manifestPath = resolve('public/models/manifest.json');
    if (!existsSync(manifestPath)) throw new Error(`${manifestPath} is missing: run npm run models`);
    const recognizers = recognizerEntries(parseManifest(readFileSync(manifestPath, 'utf8'), manifestPath)).map((m) => m.id);
    expect(recognizers.length).toBeGreaterThanOrEqual(3);
    for (const id of recognizers) expect(RECOMMENDED[id], id).toBeDefined();
  });
});

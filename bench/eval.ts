/**
 * `npm run eval -- [--gallery DIR (default ../shared/data/lfw-dev)] [--preset default|paper] [--ood none|crop|mask|sunglasses] [--model ID]
 *   [--k 100] [--alpha 0.7] [--grid G] [--weights apc] [--sinkhorn reference|converged]
 *   [--limit N] [--seed S] [--json FILE] [--rankings] [--webgpu] [--storage compact|float32]
 *   [--also "weights=sc;grid=4;k=200,weights=uniform"]`
 *
 * `--preset` picks the starting point (src/models/presets.ts): `default`
 * (the app's default pipeline and its settings) unless told otherwise, or
 * `paper` (the published method: MobileFaceNet, alpha 0.7, APC, 7x7, k 100,
 * reference Sinkhorn). Every other flag overrides the preset; `--alpha`
 * replaces an adaptive alpha with that fixed one.
 *
 * `--also` adds variants of the main settings, separated by ';' (each a
 * comma-separated list of key=value overrides: weights, grid, k, alpha,
 * sinkhorn). They are evaluated on the same queries in the same run, so a
 * transformed query is embedded once for all of them; the JSON lists them
 * under `variants`, each with the same fields as the main report.
 *
 * `--storage` picks how the app stores the gallery: `compact` (the app's own:
 * int8 stage-1 vectors, 8-bit sparse patch maps, JPEG thumbnails) or
 * `float32` (exact, PNG thumbnails: the reference compact is checked against).
 *
 * Drives the real app in headless Chromium: imports DIR through the app's
 * own import path (the gallery is kept in a browser profile under .cache/, so
 * a second run over the same folder finds every image already indexed and
 * skips extraction), runs the app's leave-one-out evaluation, prints a
 * markdown table and writes the JSON report.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { EvalOptions, EvalReport, ImportProgress, ModelsStatus } from '../src/app/engineApi.ts';
import { type OodTransform, type RerankSettings, type SinkhornMode, type Weighting } from '../src/core/types.ts';
import { presetById, PRESETS, type PresetId } from '../src/models/presets.ts';
import { STORAGE_FORMATS, type StorageFormat } from '../src/storage/storageFormat.ts';
import { argValue, launchApp, repoRoot, runCliMain, servePreview, writeJsonIfAsked } from './browser.ts';

interface Automation {
  evaluate(opts: EvalOptions, onProgress?: (done: number, total: number) => void): Promise<EvalReport>;
  state(): { models: { phase: string; status?: ModelsStatus; error?: { message: string; hint: string } }; importing: ImportProgress | null; gallery: { count: number } | null };
}
declare global {
  interface Window {
    __deepfaceEmd: Automation;
    __evalProgress: (done: number, total: number) => void;
  }
}

export interface EvalArgs {
  readonly gallery: string;
  readonly ood: OodTransform;
  readonly preset: PresetId;
  readonly model: string;
  readonly settings: RerankSettings;
  readonly limit?: number;
  readonly seed: number;
  readonly rankings: boolean;
  readonly webgpu: boolean;
  readonly quiet?: boolean;
  readonly extraSettings?: readonly RerankSettings[];
  readonly storage: StorageFormat;
}

export type EvalJson = EvalReport & {
  preset?: PresetId;
  storage?: StorageFormat;
  index_images_per_s: number | null;
  failed_images: { file: string; code: string; message: string }[];
  gallery_dir: string;
  cached_images: number;
};

function storageArg(value: string | undefined): StorageFormat {
  if (value === undefined) return 'compact';
  const format = STORAGE_FORMATS.find((f) => f === value);
  if (!format) throw new Error(`--storage must be one of ${STORAGE_FORMATS.join(', ')}, got ${value}`);
  return format;
}

export function parseEvalArgs(argv: readonly string[]): EvalArgs {
  // With no --gallery: the development set the defaults were chosen on.
  const gallery = argValue(argv, 'gallery') ?? join(repoRoot, '../shared/data/lfw-dev');
  if (!existsSync(gallery)) throw new Error(`--gallery ${gallery} does not exist: give a folder laid out as Identity/Identity_0001.jpg`);
  const ood = (argValue(argv, 'ood') ?? 'none') as OodTransform;
  if (!['none', 'crop', 'mask', 'sunglasses'].includes(ood)) throw new Error(`--ood must be none, crop, mask or sunglasses, got ${ood}`);
  const alphaArg = argValue(argv, 'alpha');
  const num = (name: string, dflt: number) => {
    const v = argValue(argv, name);
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isFinite(n)) throw new Error(`--${name} must be a number, got ${v}`);
    return n;
  };
  const presetId = argValue(argv, 'preset') ?? 'default';
  const preset = presetById(presetId);
  if (!preset) throw new Error(`--preset must be one of ${PRESETS.map((p) => p.id).join(', ')}, got ${presetId}`);
  const base = preset.settings;
  const mode = (argValue(argv, 'sinkhorn') ?? base.sinkhorn.mode) as SinkhornMode;
  const settings: RerankSettings = {
    ...base,
    k: num('k', base.k),
    alpha: alphaArg === 'sum' ? 'sum' : num('alpha', base.alpha as number),
    adaptiveAlpha: alphaArg === undefined ? base.adaptiveAlpha : null,
    grid: num('grid', base.grid),
    weighting: (argValue(argv, 'weights') ?? base.weighting) as Weighting,
    sinkhorn: { ...base.sinkhorn, mode, maxIter: mode === base.sinkhorn.mode ? base.sinkhorn.maxIter : mode === 'converged' ? 1000 : 100 },
    backend: argv.includes('--webgpu') ? 'auto' : 'cpu',
  };
  const limit = argValue(argv, 'limit');
  const also = argValue(argv, 'also');
  const extraSettings = also
    ? also
        .split(';')
        .filter((v) => v.trim() !== '')
        .map((v) => applyOverrides(settings, v))
    : undefined;
  return {
    gallery: resolve(gallery),
    ood,
    preset: preset.id,
    model: argValue(argv, 'model') ?? preset.recognizerId,
    settings,
    limit: limit ? Number(limit) : undefined,
    seed: num('seed', 1),
    rankings: argv.includes('--rankings'),
    webgpu: argv.includes('--webgpu'),
    storage: storageArg(argValue(argv, 'storage')),
    extraSettings,
  };
}

/** `weights=sc,grid=4` applied to a copy of `base`; unknown keys or bad values throw, naming them. */
export function applyOverrides(base: RerankSettings, spec: string): RerankSettings {
  let s: RerankSettings = base;
  for (const pair of spec.split(',')) {
    const [key, value] = pair.split('=').map((x) => x.trim());
    const n = Number(value);
    const needNumber = () => {
      if (!Number.isFinite(n)) throw new Error(`--also: ${key} must be a number, got ${value}`);
      return n;
    };
    if (key === 'weights') s = { ...s, weighting: value as Weighting };
    else if (key === 'grid') s = { ...s, grid: needNumber() };
    else if (key === 'k') s = { ...s, k: needNumber() };
    else if (key === 'alpha') s = { ...s, alpha: value === 'sum' ? 'sum' : needNumber(), adaptiveAlpha: null };
    else if (key === 'sinkhorn') {
      if (value !== 'reference' && value !== 'converged') throw new Error(`--also: sinkhorn must be reference or converged, got ${value}`);
      s = { ...s, sinkhorn: { ...s.sinkhorn, mode: value, maxIter: value === 'converged' ? 1000 : 100 } };
    } else throw new Error(`--also: unknown key "${key}" in "${spec}" (use weights, grid, k, alpha or sinkhorn)`);
  }
  return s;
}

/**
 * The browser profile that caches a gallery's features for one recognizer,
 * and the fixed port its origin needs (IndexedDB is per origin, port included).
 */
export function evalProfile(gallery: string, model: string): { profileDir: string; port: number } {
  const profileKey = createHash('sha1').update(`${gallery}|${model}`).digest('hex').slice(0, 16);
  return { profileDir: join(repoRoot, '.cache/eval-profiles', profileKey), port: 42000 + (parseInt(profileKey.slice(0, 6), 16) % 8000) };
}

export async function runEval(args: EvalArgs): Promise<EvalJson> {
  const log = (s: string) => args.quiet || process.stderr.write(s);
  const { profileDir, port } = evalProfile(args.gallery, args.model);
  mkdirSync(profileDir, { recursive: true });
  const served = await servePreview({ port });
  const context = await launchApp({ profileDir, webgpu: args.webgpu });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => log(`page error: ${e.message}\n`));
    await page.exposeFunction('__evalProgress', (done: number, total: number) => log(`\r  evaluating ${args.ood}: ${done}/${total}   `));
    const params = new URLSearchParams({ backend: 'wasm', model: args.model, storage: args.storage });
    await page.goto(`${served.url}/?${params}`);
    // Loading the models and a large stored gallery can take minutes on a busy machine: wait while it
    // goes on, up to a generous limit, and then say what was still loading.
    const loadStarted = Date.now();
    const LOAD_LIMIT_MS = 15 * 60_000;
    for (;;) {
      const s = await page.evaluate(() =>
        window.__deepfaceEmd ? { phase: window.__deepfaceEmd.state().models.phase, error: window.__deepfaceEmd.state().models.error, gallery: window.__deepfaceEmd.state().gallery !== null } : null,
      );
      if (s?.phase === 'failed') throw new Error(`the app could not load its models: ${s.error?.message ?? 'no message'} (${s.error?.hint ?? 'no hint'})`);
      if (s?.phase === 'ready' && s.gallery) break;
      const waited = Date.now() - loadStarted;
      if (waited > LOAD_LIMIT_MS) {
        const what = !s ? 'the page itself' : s.phase === 'loading' ? 'the models' : 'the stored gallery';
        throw new Error(`the app was still loading ${what} after ${Math.round(waited / 1000)} s; is the machine very busy? Try again, or with a smaller --gallery.`);
      }
      await page.waitForTimeout(1000);
    }

    log(`indexing ${args.gallery} …\n`);
    await page.getByTestId('gallery-folder-input').setInputFiles(args.gallery);
    let last: ImportProgress | null = null;
    const started = Date.now();
    for (;;) {
      last = await page.evaluate(() => window.__deepfaceEmd.state().importing);
      if (last) log(`\r  ${last.done}/${last.total} images, ${last.imagesPerSecond.toFixed(1)}/s   `);
      if (last?.finished) break;
      if (!last && Date.now() - started > 60_000) {
        const banner = await page
          .getByTestId('error-banner')
          .innerText()
          .catch(() => 'no message');
        throw new Error(`the app did not start importing ${args.gallery} (${banner}); is it a folder of images (Identity/Identity_0001.jpg)? Symbolic links to folders are not followed.`);
      }
      await page.waitForTimeout(1000);
    }
    log('\n');
    const extracted = last.added;
    const report = await page.evaluate((opts) => window.__deepfaceEmd.evaluate(opts, (d: number, t: number) => window.__evalProgress(d, t)), {
      ood: args.ood,
      settings: args.settings,
      limit: args.limit,
      seed: args.seed,
      withRankings: args.rankings,
      extraSettings: args.extraSettings,
    } satisfies EvalOptions);
    log('\n');
    const run = {
      gallery_dir: args.gallery,
      index_images_per_s: extracted > 0 ? last.imagesPerSecond : null,
      cached_images: last.skippedDuplicates,
      failed_images: last.problems.map((p) => ({ file: p.file, code: p.code, message: p.message })),
    };
    return { ...report, preset: args.preset, storage: args.storage, ...run, ...(report.variants ? { variants: report.variants.map((v) => ({ ...v, ...run })) } : {}) };
  } finally {
    await context.close();
    served.close();
  }
}

/** A fixed alpha, the rule by damage kind as `by damage none/crop/mask/sunglasses`, or the score rule as `clean/damaged@threshold`. */
export function alphaText(r: EvalReport): string {
  const a = r.adaptive_alpha;
  if (a?.byDamage) return `by damage ${a.byDamage.none}/${a.byDamage.crop}/${a.byDamage.mask}/${a.byDamage.sunglasses}`;
  return a ? `${a.clean}/${a.damaged}@${a.threshold}` : String(r.alpha);
}

export function markdownRow(r: EvalJson): string {
  const f = (x: number) => x.toFixed(2);
  return `| ${r.model} | ${r.ood} | ${r.grid}x${r.grid} | ${r.weights} | ${alphaText(r)} | ${r.k} | ${r.n_queries} | ${f(r.stage1.p1)} / ${f(r.stage1.rp)} / ${f(r.stage1.mapr)} | ${f(r.stage2.p1)} / ${f(r.stage2.rp)} / ${f(r.stage2.mapr)} | ${f(r.max_precision_at_k)} | ${r.ms_per_query.stage1.toFixed(1)} / ${r.ms_per_query.stage2.toFixed(1)} |`;
}

export const MARKDOWN_HEAD =
  '| model | queries | grid | weights | alpha | k | n | stage 1 P@1 / RP / MAP@R | stage 2 P@1 / RP / MAP@R | max P@k | ms/query (1 / 2) |\n|---|---|---|---|---|---|---|---|---|---|---|';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = parseEvalArgs(argv);
  const report = await runEval(args);
  console.log(MARKDOWN_HEAD);
  console.log(markdownRow(report));
  for (const v of report.variants ?? []) console.log(markdownRow({ ...report, ...v }));
  for (const r of [report, ...(report.variants ?? [])]) {
    console.log(`\nalpha sweep (${r.weights} ${r.grid}x${r.grid} k ${r.k}, stage 2 P@1): ${r.alpha_sweep.map((a) => `${a.alpha}: ${a.stage2.p1.toFixed(2)}`).join(', ')}`);
  }
  if (report.damage_read)
    console.log(
      `\ndamage detector read the queries as: ${Object.entries(report.damage_read)
        .map(([k, n]) => `${k} ${n}`)
        .join(', ')}`,
    );
  console.log(
    `indexing: ${report.index_images_per_s === null ? `all ${report.cached_images} images cached` : `${report.index_images_per_s.toFixed(1)} images/s`}; ${report.failed_images.length} images not indexed`,
  );
  writeJsonIfAsked(argv, report);
}

runCliMain('eval', import.meta.url, main);

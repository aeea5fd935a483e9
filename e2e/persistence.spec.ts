/**
 * Issue 7, item 2: the gallery survives a browser restart (a persistent
 * profile), and an exported gallery file imported into an empty gallery gives
 * the same results without re-indexing. Issue 16: a gallery kept in
 * IndexedDB by an earlier version moves into the OPFS storage on load.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, expect, test, type Page } from '@playwright/test';
import { strFromU8, unzipSync } from 'fflate';
import { dropFiles, lfwMiniFiles, mirroredJpeg, readRow, requireLfwMini, zipOf } from './support/fixtures.ts';

async function ready(page: Page) {
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
}

async function query(page: Page) {
  await page.getByTestId('query-input').setInputFiles({ name: 'Alec_Baldwin_0002.jpg', mimeType: 'image/jpeg', buffer: mirroredJpeg(join(requireLfwMini(), 'Alec_Baldwin', 'Alec_Baldwin_0002.jpg')) });
  await expect(page.getByTestId('stage2-result')).toHaveCount(5, { timeout: 60_000 });
  return readRow(page, 2);
}

test('the gallery survives a browser restart', async ({ baseURL }, info) => {
  test.setTimeout(240_000);
  const profile = mkdtempSync(join(tmpdir(), 'dfemd-profile-'));
  const launch = () => chromium.launchPersistentContext(profile, { ...info.project.use.launchOptions, baseURL });
  let ctx = await launch();
  let page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().filter((f) => /^(Alec_Baldwin|Abdullah|Ai_Sugiyama|Aaron_Tippin)\//.test(f.path));
  await dropFiles(page, 'gallery-drop', [{ name: 'g.zip', bytes: zipOf(files) }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 120_000 });
  const count = await page.getByTestId('gallery-count').innerText();
  const before = await query(page);
  await ctx.close();

  ctx = await launch();
  page = ctx.pages()[0] ?? (await ctx.newPage());
  await page.goto('/?backend=wasm');
  await ready(page);
  await expect(page.getByTestId('gallery-count')).toHaveText(count);
  expect(await query(page)).toEqual(before);
  await ctx.close();
});

test('export the gallery to one file, clear, import it: same gallery, same results', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().filter((f) => /^(Alec_Baldwin|Abdullah|Ai_Sugiyama|Angela_Merkel)\//.test(f.path));
  await dropFiles(page, 'gallery-drop', [{ name: 'g.zip', bytes: zipOf(files) }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 120_000 });
  const count = await page.getByTestId('gallery-count').innerText();
  const before = await query(page);

  const download = page.waitForEvent('download');
  await page.getByTestId('gallery-export').click();
  const file = await (await download).path();

  page.on('dialog', (d) => void d.accept());
  await page.getByTestId('gallery-clear').click();
  await expect(page.getByTestId('gallery-count')).toHaveText(/^0 images/);

  await page.getByTestId('gallery-import-file').setInputFiles(file);
  await expect(page.getByTestId('gallery-notice')).toContainText(`${files.length} faces added`);
  await expect(page.getByTestId('gallery-count')).toHaveText(count);
  // The same ranking; scores equal up to float32 rounding (the export holds the stored values dequantised, and
  // importing quantises them again: the same codes, a patch scale possibly one float32 step off).
  const after = await query(page);
  expect(after.map((r) => ({ ...r, score: 0 }))).toEqual(before.map((r) => ({ ...r, score: 0 })));
  after.forEach((r, i) => expect(Math.abs(r.score - before[i].score)).toBeLessThan(1e-5));
});

test('a reload mid-import says how far it got; dropping the same files again finishes it', async ({ page }) => {
  test.setTimeout(300_000);
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().slice(0, 24);
  const zip = { name: 'big.zip', bytes: zipOf(files) };
  await dropFiles(page, 'gallery-drop', [zip]);
  // Reload once a few images are indexed, with most still to go.
  await expect(page.getByTestId('import-counts')).toHaveText(/^([3-9]|1\d) \/ 24/, { timeout: 120_000 });
  await page.reload();
  await ready(page);
  const notice = page.getByTestId('gallery-notice');
  await expect(notice).toHaveText(/The last import stopped after (\d+) of 24 files .*Drop the folder again to finish/, { timeout: 30_000 });
  const done = Number(/after (\d+) of/.exec(await notice.innerText())?.[1]);
  expect(done).toBeGreaterThanOrEqual(3);
  expect(done).toBeLessThan(24);
  // Nothing finished was lost, and the second drop skips it.
  const kept = Number(
    await page
      .getByTestId('gallery-count')
      .innerText()
      .then((t) => /\d+/.exec(t)?.[0]),
  );
  expect(kept).toBeGreaterThanOrEqual(done - 3); // refused images count as done but add nothing
  await dropFiles(page, 'gallery-drop', [zip]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 180_000 });
  await expect(page.getByTestId('import-counts')).toContainText(`${kept} duplicates skipped`);
  // Shown once: the next load has nothing to report.
  await page.reload();
  await ready(page);
  await expect(page.getByTestId('gallery-count')).toBeVisible();
  await expect(page.getByTestId('gallery-notice')).toHaveCount(0);
});

interface LegacyFace {
  key: string;
  modelKey: string;
  contentHash: string;
  label: string;
  fileName: string;
  addedAt: number;
  embedding: number[];
  patches: { h: number; w: number; c: number; data: number[] };
  landmarks68: number[] | null;
  cropSize: number;
  thumbnail: { bytes: number[]; type: string };
}

/** An export's faces as the IndexedDB records of the versions before the OPFS storage (issue 16) kept them. */
function legacyRecords(zip: Uint8Array): LegacyFace[] {
  const files = unzipSync(zip);
  const index = JSON.parse(strFromU8(files['index.json'])) as {
    modelKey: string;
    faces: {
      key: string;
      contentHash: string;
      label: string;
      fileName: string;
      addedAt: number;
      dim: number;
      h: number;
      w: number;
      c: number;
      landmarks: number;
      cropSize: number;
      thumbnailType?: string;
    }[];
  };
  return index.faces.map((e, i) => {
    const name = `faces/${String(i).padStart(6, '0')}`;
    const raw = files[`${name}.f32`];
    const floats = Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
    const cells = e.h * e.w * e.c;
    const jpeg = e.thumbnailType === 'image/jpeg';
    return {
      key: e.key,
      modelKey: index.modelKey,
      contentHash: e.contentHash,
      label: e.label,
      fileName: e.fileName,
      addedAt: e.addedAt,
      embedding: floats.slice(0, e.dim),
      patches: { h: e.h, w: e.w, c: e.c, data: floats.slice(e.dim, e.dim + cells) },
      landmarks68: e.landmarks ? floats.slice(e.dim + cells, e.dim + cells + e.landmarks) : null,
      cropSize: e.cropSize,
      thumbnail: { bytes: Array.from(files[`${name}.${jpeg ? 'jpg' : 'png'}`]), type: jpeg ? 'image/jpeg' : 'image/png' },
    };
  });
}

test('a gallery an earlier version kept in IndexedDB moves into the new storage on the next load: same gallery, same results, old records gone', async ({ page }) => {
  test.setTimeout(240_000);
  await page.goto('/?backend=wasm');
  await ready(page);
  const files = lfwMiniFiles().filter((f) => /^(Alec_Baldwin|Abdullah|Ai_Sugiyama|Angela_Merkel)\//.test(f.path));
  await dropFiles(page, 'gallery-drop', [{ name: 'g.zip', bytes: zipOf(files) }]);
  await expect(page.getByTestId('import-done')).toBeVisible({ timeout: 120_000 });
  const count = await page.getByTestId('gallery-count').innerText();
  const before = await query(page);
  const download = page.waitForEvent('download');
  await page.getByTestId('gallery-export').click();
  const records = legacyRecords(new Uint8Array(readFileSync(await (await download).path())));
  page.on('dialog', (d) => void d.accept());
  await page.getByTestId('gallery-clear').click();
  await expect(page.getByTestId('gallery-count')).toHaveText(/^0 images/);

  // The database as workers/storage/galleryDb.ts (version 2) created it, with these faces in it.
  await page.evaluate(async (faces) => {
    const db = await new Promise<IDBDatabase>((resolve, reject) => {
      const open = indexedDB.open('deepface-emd', 2);
      open.onupgradeneeded = () => {
        const items = open.result.createObjectStore('items', { keyPath: 'key' });
        items.createIndex('byModel', 'modelKey', { unique: false });
        items.createIndex('byModelLabel', ['modelKey', 'label'], { unique: false });
        open.result.createObjectStore('importJournals', { keyPath: 'modelKey' });
      };
      open.onsuccess = () => resolve(open.result);
      open.onerror = () => reject(open.error ?? new Error('open failed'));
    });
    const tx = db.transaction('items', 'readwrite');
    for (const f of faces) {
      tx.objectStore('items').put({
        ...f,
        embedding: Float32Array.from(f.embedding),
        patches: { ...f.patches, data: Float32Array.from(f.patches.data) },
        landmarks68: f.landmarks68 ? Float32Array.from(f.landmarks68) : null,
        thumbnail: new Blob([Uint8Array.from(f.thumbnail.bytes)], { type: f.thumbnail.type }),
      });
    }
    await new Promise<void>((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onerror = () => reject(tx.error ?? new Error('write failed'));
    });
    db.close();
  }, records);

  await page.reload();
  await ready(page);
  await expect(page.getByTestId('gallery-count')).toHaveText(count);
  const after = await query(page);
  expect(after.map((r) => ({ ...r, score: 0 }))).toEqual(before.map((r) => ({ ...r, score: 0 })));
  after.forEach((r, i) => expect(Math.abs(r.score - before[i].score)).toBeLessThan(1e-5));
  // Emptied, the old database is deleted, so later start-ups do not open it.
  const databases = await page.evaluate(async () => (await indexedDB.databases()).map((d) => d.name));
  expect(databases).not.toContain('deepface-emd');
});

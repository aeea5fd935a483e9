/** Files the end-to-end tests drop into the page, made at test time from ../shared/data (nothing is committed). */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { zipSync } from 'fflate';
import jpeg from 'jpeg-js';
import type { Page } from '@playwright/test';

export const sharedData = resolve(process.cwd(), '../shared/data');
export const lfwMini = join(sharedData, 'lfw-mini');

export function requireLfwMini(): string {
  if (!existsSync(lfwMini)) throw new Error(`Test data missing: ${lfwMini} (../shared/data beside the repository).`);
  return lfwMini;
}

export function lfwMiniFiles(): { path: string; bytes: Uint8Array }[] {
  const root = requireLfwMini();
  const out: { path: string; bytes: Uint8Array }[] = [];
  for (const id of readdirSync(root).sort()) for (const f of readdirSync(join(root, id)).sort()) out.push({ path: `${id}/${f}`, bytes: new Uint8Array(readFileSync(join(root, id, f))) });
  return out;
}

/** A left-right mirrored copy of a JPEG: same person, different bytes and slightly different features. */
export function mirroredJpeg(path: string): Buffer {
  const img = jpeg.decode(readFileSync(path), { useTArray: true });
  const out = Buffer.alloc(img.data.length);
  for (let y = 0; y < img.height; y++)
    for (let x = 0; x < img.width; x++) {
      const s = (y * img.width + x) * 4,
        d = (y * img.width + (img.width - 1 - x)) * 4;
      out.set(img.data.subarray(s, s + 4), d);
    }
  return jpeg.encode({ data: out, width: img.width, height: img.height }, 95).data;
}

/** A plain grey JPEG: a valid image with no face in it. */
export function faceless(): Buffer {
  const w = 200,
    h = 200;
  return jpeg.encode({ data: Buffer.alloc(w * h * 4, 128), width: w, height: h }, 90).data;
}

export function zipOf(files: { path: string; bytes: Uint8Array }[]): Uint8Array {
  return zipSync(Object.fromEntries(files.map((f) => [f.path, f.bytes])), { level: 0 });
}

/** Drops files onto an element as a user's drag-and-drop would (a DataTransfer with File objects). */
export async function dropFiles(page: Page, testId: string, files: { name: string; bytes: Uint8Array; type?: string }[]): Promise<void> {
  const payload = files.map((f) => ({ name: f.name, type: f.type ?? '', b64: Buffer.from(f.bytes).toString('base64') }));
  const dt = await page.evaluateHandle((items) => {
    const d = new DataTransfer();
    for (const it of items) {
      const bin = atob(it.b64);
      const arr = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) arr[i] = bin.charCodeAt(i);
      d.items.add(new File([arr], it.name, { type: it.type }));
    }
    return d;
  }, payload);
  await page.getByTestId(testId).dispatchEvent('dragover', { dataTransfer: dt });
  await page.getByTestId(testId).dispatchEvent('drop', { dataTransfer: dt });
}

/** Reads the visible results of one stage row. */
export async function readRow(page: Page, stage: 1 | 2): Promise<{ label: string; score: number; move: string }[]> {
  const items = page.getByTestId(`stage${stage}-result`);
  const n = await items.count();
  const out: { label: string; score: number; move: string }[] = [];
  for (let i = 0; i < n; i++) {
    const it = items.nth(i);
    out.push({
      label: (await it.getByTestId('result-label').innerText()).trim(),
      score: Number(await it.getAttribute('data-score')),
      move: stage === 2 ? (await it.getByTestId('rank-move').innerText()).trim() : '',
    });
  }
  return out;
}

/** Standard deviation of a canvas's pixels: 0 for a blank canvas. */
export async function canvasSpread(page: Page, testId: string): Promise<number> {
  return page.getByTestId(testId).evaluate((c: HTMLCanvasElement, id) => {
    const ctx = c.getContext('2d');
    if (!ctx) throw new Error(`canvas ${id} has no 2D context`);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    let s = 0,
      s2 = 0,
      n = 0;
    for (let i = 0; i < d.length; i += 4) {
      const v = d[i] + d[i + 1] + d[i + 2];
      s += v;
      s2 += v * v;
      n++;
    }
    return n ? Math.sqrt(Math.max(0, s2 / n - (s / n) ** 2)) : 0;
  }, testId);
}

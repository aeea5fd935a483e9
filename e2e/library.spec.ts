/**
 * Issue 17 through the real UI: a photo library of group photos composed at
 * test time from lfw-mini (three people side by side at different scales,
 * one cut by the photo's edge), imported as a library, grouped into people,
 * named, merged, searched with another photo of a placed person, and
 * imported again (nothing re-indexed). Runs once (WASM project): the library
 * path is the same whatever the EMD backend.
 */
import { readFileSync } from 'node:fs';
import { expect, test, type Page } from '@playwright/test';
import { composeLibrary, lfwMiniPhoto, writeLibrary } from '../tests/support/groupLibrary.ts';

const PEOPLE = ['Angela_Merkel', 'Alastair_Campbell', 'Ai_Sugiyama'] as const;
/** Group photos use images 1-4 of each person; image 5 is the query. */
const GROUPS = 4;

/** Photo g shows every person once, in an order rotated by g; photo 0 cuts its last person at the edge. */
function libraryFiles() {
  return composeLibrary(
    Array.from({ length: GROUPS }, (_, g) => ({
      path: `${g % 2 ? 'summer' : 'winter'}/group_${g}.jpg`,
      people: PEOPLE.map((_, i) => [PEOPLE[(i + g) % PEOPLE.length], g + 1] as const),
      cutRight: g === 0 ? 0.15 : 0,
    })),
    17,
  );
}

async function people(page: Page): Promise<{ title: string; count: number }[]> {
  return page.getByTestId('person').evaluateAll((els) =>
    els.map((el) => ({
      title: el.querySelector('[data-testid="person-title"]')?.textContent ?? '',
      count: Number((el.querySelector('[data-testid="person-count"]')?.textContent ?? '').replace(/\D/g, '')),
    })),
  );
}

test('a generated group-photo library: import, people, naming, merge, search, resume', async ({ page }, info) => {
  test.skip(info.project.name !== 'e2e-wasm', 'the library path does not depend on the EMD backend');
  await page.goto('/?backend=wasm');
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
  const folder = writeLibrary('Photos', libraryFiles());

  await page.getByTestId('library-folder-input').setInputFiles(folder);
  await expect(page.getByTestId('import-done')).toHaveText(`done: ${GROUPS * PEOPLE.length} added`, { timeout: 170_000 });
  await expect(page.getByTestId('library-count')).toHaveText(`${GROUPS} photos, ${GROUPS * PEOPLE.length} faces, ${PEOPLE.length} people`);
  // Each person's four photos form one person: never two faces of one photo together.
  expect((await people(page)).map((p) => p.count)).toEqual([4, 4, 4]);

  // Name the first person; the name replaces "Unnamed".
  await page.getByTestId('person').first().getByRole('button').click();
  await expect(page.getByTestId('person-face')).toHaveCount(4);
  await page.getByTestId('person-name-input').fill('First Person');
  await page.getByTestId('person-name-save').click();
  await expect(page.getByTestId('person-title').first()).toHaveText('First Person');

  // Search with the held-out photo of each person: the best re-ranked face is that person's, in a photo that shows them.
  for (const [p, person] of PEOPLE.entries()) {
    const { name, path } = lfwMiniPhoto(person, 5);
    await page.getByTestId('query-input').setInputFiles({ name, mimeType: 'image/jpeg', buffer: readFileSync(path) });
    await expect(page.getByTestId('query-filename')).toHaveText(name);
    await expect(page.getByTestId('library-results')).toHaveAttribute('data-query', name, { timeout: 60_000 });
    await expect(page.getByTestId('library-stage2-result')).toHaveCount(5, { timeout: 60_000 });
    // A clean query is also drawn with a mask and with sunglasses in the extraction worker (the search says what it matched),
    // and the drawn pairs are compared without the occluders' shared directions, which the engine worker fetched at start-up.
    await expect(page.getByTestId('library-matching')).toHaveText(
      /^matched: of the top 12, \d+ mask, \d+ sunglasses compared with the query drawn the same way \(drawn pairs compared without the occluder's 2 shared directions\)$/,
    );
    const top = page.getByTestId('library-stage2-result').first();
    const photo = await top.getAttribute('data-photo');
    const g = Number(/group_(\d)\.jpg$/.exec(photo ?? '')?.[1]);
    // In photo g person p stands at position (p - g) mod 3, and faces are numbered left to right.
    expect({ person, photo, face: Number(await top.getAttribute('data-face')) }).toEqual({ person, photo, face: (p - g + PEOPLE.length) % PEOPLE.length });
  }

  // The top hit's photo opens with every face boxed, left to right; clicking a box makes that face the query.
  const top = page.getByTestId('library-stage2-result').first();
  const photo = (await top.getAttribute('data-photo')) ?? '';
  // Its flow view, as for a labelled gallery's result.
  await top.getByTestId('library-result-flow').click();
  await expect(page.getByTestId('pair-view')).toContainText(`in ${photo} (face`);
  await expect(page.getByTestId('pair-flow')).toBeVisible();
  await top.getByTestId('library-result-open-photo').click();
  const view = page.getByTestId('photo-view');
  await expect(view).toHaveAttribute('data-photo', photo);
  await expect(view.getByTestId('photo-face-box')).toHaveCount(PEOPLE.length);
  await expect(view.getByTestId('photo-face')).toHaveCount(PEOPLE.length);
  await expect.poll(() => view.locator('img').evaluate((img: HTMLImageElement) => img.naturalWidth)).toBeGreaterThan(0);
  const xs = await view.locator('[data-testid="photo-face-box"] rect').evaluateAll((rects) => rects.map((r) => Number(r.getAttribute('x'))));
  expect(xs).toEqual([...xs].sort((a, b) => a - b));
  await view.getByTestId('photo-face-box').nth(1).click();
  await expect(view).toBeHidden();
  await expect(page.getByTestId('query-filename')).toHaveText(`${photo} (face 2)`);

  // Merge the second person into the first: one person of 8.
  await page.getByTestId('person').nth(1).getByRole('button').click();
  await page.getByTestId('person-merge-target').selectOption({ label: 'First Person (4)' });
  await page.getByTestId('person-merge').click();
  await expect
    .poll(async () => (await people(page)).map((p) => [p.title, p.count]))
    .toEqual([
      ['First Person', 8],
      [expect.stringMatching(/^Unnamed person #\d+$/), 4],
    ]);

  // Dropping the folder again indexes nothing new; the names and groups stay.
  await page.getByTestId('library-folder-input').setInputFiles(folder);
  await expect(page.getByTestId('import-done')).toHaveText('done: 0 added', { timeout: 60_000 });
  await expect(page.getByTestId('import-counts')).toContainText(`${GROUPS} duplicates skipped`);
  await page.reload();
  await expect(page.getByTestId('models-status')).toHaveText('models ready', { timeout: 60_000 });
  await expect(page.getByTestId('library-count')).toHaveText(`${GROUPS} photos, ${GROUPS * PEOPLE.length} faces, 2 people`);
  expect((await people(page))[0]).toEqual({ title: 'First Person', count: 8 });
});

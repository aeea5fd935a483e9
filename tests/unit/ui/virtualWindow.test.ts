import { describe, expect, it } from 'vitest';
import { virtualWindow } from '../../../src/ui/virtualWindow.ts';

const opts = { rowHeight: 20, visibleRows: 10, overscan: 5 };

describe('virtualWindow', () => {
  it('renders a short list whole, in a box as tall as its rows', () => {
    const w = virtualWindow(3, 0, opts);
    expect(w).toMatchObject({ first: 0, end: 3, padTop: 0, boxHeight: 60, listHeight: 60 });
  });

  it('renders only the visible rows and the overscan of a long list at the top', () => {
    const w = virtualWindow(5_000, 0, opts);
    expect(w).toMatchObject({ first: 0, end: 15, padTop: 0, boxHeight: 200, listHeight: 100_000 });
  });

  it('follows the scroll position with overscan on both sides', () => {
    // Scrolled to row 1,000 (20,000 px): rows 995..1,014 rendered, the first one 995 rows down.
    const w = virtualWindow(5_000, 20_000, opts);
    expect(w).toMatchObject({ first: 995, end: 1_015, padTop: 19_900 });
  });

  it('keeps a part-scrolled row in the window', () => {
    const w = virtualWindow(5_000, 20_010, opts);
    expect(w.first).toBe(995);
    expect(w.end).toBe(1_015);
  });

  it('stops at the end of the list', () => {
    const w = virtualWindow(5_000, 100_000 - 200, opts);
    expect(w).toMatchObject({ first: 4_985, end: 5_000, padTop: 99_700 });
  });

  it('clamps a scroll position past the end (the list shrank) to the last page', () => {
    const w = virtualWindow(30, 99_999, opts);
    expect(w).toMatchObject({ first: 15, end: 30, padTop: 300 });
  });

  it('renders nothing for no rows and treats a negative scroll as the top', () => {
    expect(virtualWindow(0, 0, opts)).toMatchObject({ first: 0, end: 0, boxHeight: 0, listHeight: 0 });
    expect(virtualWindow(100, -50, opts)).toMatchObject({ first: 0, end: 15 });
  });
});

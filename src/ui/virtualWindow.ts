/**
 * The rows a fixed-height scroll box shows of a long list of equal-height
 * rows: only those (and a few either side, so a fast scroll does not show
 * blanks) are rendered, while the list keeps its full height so the
 * scrollbar is true. Thousands of problem rows drawn at once froze the page.
 */

export interface VirtualWindowOptions {
  /** Height of every row, px (the rows must be styled to exactly this). */
  readonly rowHeight: number;
  /** Rows the box shows at once; a shorter list gets a shorter box. */
  readonly visibleRows: number;
  /** Extra rows rendered above and below the visible ones. */
  readonly overscan: number;
}

export interface VirtualWindow {
  /** First rendered row. */
  readonly first: number;
  /** One past the last rendered row. */
  readonly end: number;
  /** Space above the first rendered row, px. */
  readonly padTop: number;
  /** Height of the scroll box, px. */
  readonly boxHeight: number;
  /** Height of the whole list, px. */
  readonly listHeight: number;
  readonly rowHeight: number;
}

export function virtualWindow(rowCount: number, scrollTop: number, opts: VirtualWindowOptions): VirtualWindow {
  const { rowHeight, visibleRows, overscan } = opts;
  const listHeight = rowCount * rowHeight;
  const boxHeight = Math.min(rowCount, visibleRows) * rowHeight;
  // After the list shrinks the box may still hold an old, larger scroll position.
  const top = Math.min(Math.max(scrollTop, 0), listHeight - boxHeight);
  const firstVisible = Math.floor(top / rowHeight);
  const first = Math.max(0, firstVisible - overscan);
  const end = Math.min(rowCount, firstVisible + visibleRows + overscan);
  return { first, end, padTop: first * rowHeight, boxHeight, listHeight, rowHeight };
}

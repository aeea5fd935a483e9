/** MATLAB-style "jet" colour map, t in [0,1] -> RGB 0..255 (the paper's heatmaps use jet). */
export function jet(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t));
  const r = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 3)));
  const g = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 2)));
  const b = Math.min(1, Math.max(0, 1.5 - Math.abs(4 * x - 1)));
  return [Math.round(r * 255), Math.round(g * 255), Math.round(b * 255)];
}

/** The jet map as a CSS linear-gradient (left = low, right = high), for legends beside jet heatmaps. */
export function jetCssGradient(stops = 9): string {
  const colours = Array.from({ length: stops }, (_, i) => {
    const [r, g, b] = jet(i / (stops - 1));
    return `rgb(${r}, ${g}, ${b}) ${((100 * i) / (stops - 1)).toFixed(1)}%`;
  });
  return `linear-gradient(to right, ${colours.join(', ')})`;
}

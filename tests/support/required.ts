/**
 * A value a test or bench relies on being there (a map entry, a found
 * element, a regex group). Missing, it fails at that line with a sentence
 * naming what was missing, instead of a TypeError further down.
 */
export function required<T>(value: T | null | undefined, what: string): T {
  if (value === null || value === undefined) throw new Error(`missing: ${what}`);
  return value;
}

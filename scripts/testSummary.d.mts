export interface RunnerCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  readonly errors: number;
}
export function summariseTests(
  checks: readonly { readonly name: string; readonly ok: boolean }[],
  runners: readonly { readonly name: string; readonly ok: boolean; readonly report: RunnerCounts | null }[],
): { passed: number; failed: number; skipped: number; ok: boolean; notes: string[] };
export function vitestCounts(json: Record<string, unknown>): RunnerCounts;
export function playwrightCounts(json: Record<string, unknown>): RunnerCounts;

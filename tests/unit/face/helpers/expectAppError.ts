import { expect } from 'vitest';
import { AppError, type ErrorCode } from '../../../../src/core/errors.ts';

/** Asserts `fn` throws an AppError with `code` that names `file` in its message and carries a hint. */
export function expectAppError(fn: () => unknown, code: ErrorCode, file: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught, `expected AppError ${code}`).toBeInstanceOf(AppError);
  const err = caught as AppError;
  expect(err.code).toBe(code);
  expect(err.file).toBe(file);
  expect(err.message).toContain(file);
  expect(err.hint.length).toBeGreaterThan(10);
}

/**
 * Comlink's default "throw" handler keeps only name, message and stack; ours
 * keeps an AppError's code, hint and file across the worker boundary. Both
 * sides must call installComlinkErrorHandler() before any call is made.
 */
import * as Comlink from 'comlink';
import { fromPlainError, isPlainError, toPlainError, type PlainError } from '../core/errors.ts';

interface Thrown {
  value: unknown;
}

export function installComlinkErrorHandler(): void {
  // Comlink does not export its throw marker; its own handler knows how to recognise a thrown value.
  const builtin = Comlink.transferHandlers.get('throw');
  if (!builtin) throw new Error('comlink has no "throw" transfer handler to extend');
  if ((builtin as { appErrors?: true }).appErrors) return;
  const handler: Comlink.TransferHandler<Thrown, PlainError> & { appErrors: true } = {
    appErrors: true,
    canHandle: (v: unknown): v is Thrown => builtin.canHandle(v),
    serialize: ({ value }) => [toPlainError(value), []],
    deserialize: (p) => {
      throw isPlainError(p) ? fromPlainError(p) : new Error(String(p));
    },
  };
  Comlink.transferHandlers.set('throw', handler);
}

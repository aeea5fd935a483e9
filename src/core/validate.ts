/**
 * Untrusted JSON (the model manifest, an imported gallery's index) is checked
 * against a valibot schema before anything reads it. A failure becomes one
 * AppError naming the file, the path of the field at fault and the value found
 * there, so a person can open the file and see what is wrong.
 */
import * as v from 'valibot';
import { AppError, type ErrorCode } from './errors.ts';

export interface ValidationContext {
  /** The file the data came from, as the user knows it. */
  readonly file: string;
  /** What the data is, for the message ("the model manifest"). */
  readonly what: string;
  readonly code: ErrorCode;
  readonly hint: string;
}

/** Issues listed in one message; more would bury the first, which is usually the cause of the rest. */
const ISSUES_SHOWN = 3;
const VALUE_CHARS = 60;

/** `models[2].patchGrids[0].h`; the root is "(top level)". */
function issuePath(issue: v.BaseIssue<unknown>): string {
  let path = '';
  for (const item of issue.path ?? []) {
    const key: unknown = item.key;
    path += typeof key === 'number' ? `[${key}]` : `${path ? '.' : ''}${String(key)}`;
  }
  return path || '(top level)';
}

function shownValue(value: unknown): string {
  if (value === undefined) return 'missing';
  // A whole entry printed as JSON would bury the message; its id, if it has one, says which.
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object' && value !== null) {
    const id: unknown = (value as Record<string, unknown>).id;
    return typeof id === 'string' ? `the entry with id ${JSON.stringify(id)}` : 'an object';
  }
  const text = JSON.stringify(value) ?? String(value);
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS)}…` : text;
}

/** One line per issue: where, what was found, what was expected. */
function describeIssue(issue: v.BaseIssue<unknown>): string {
  return `${issuePath(issue)} is ${shownValue(issue.input)} (${issue.message})`;
}

export function validateWithSchema<const TSchema extends v.GenericSchema>(schema: TSchema, data: unknown, context: ValidationContext): v.InferOutput<TSchema> {
  const result = v.safeParse(schema, data);
  if (result.success) return result.output;
  const lines = result.issues.slice(0, ISSUES_SHOWN).map(describeIssue);
  const more = result.issues.length > ISSUES_SHOWN ? `; and ${result.issues.length - ISSUES_SHOWN} more` : '';
  throw new AppError(context.code, `${context.what} is invalid: ${lines.join('; ')}${more}`, context.hint, { file: context.file });
}

export function parseJsonWithSchema<const TSchema extends v.GenericSchema>(schema: TSchema, text: string, context: ValidationContext): v.InferOutput<TSchema> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new AppError(context.code, `${context.what} is not JSON (${e instanceof Error ? e.message : String(e)})`, context.hint, { file: context.file, cause: e });
  }
  return validateWithSchema(schema, data, context);
}

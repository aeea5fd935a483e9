/**
 * Every failure the user can meet is an AppError: a stable code (tests and the
 * UI switch on it), a message that names the file or object at fault, and a
 * fix-it hint a person can act on. Errors cross worker boundaries as plain
 * objects (see toPlainError / fromPlainError) so the code and hint survive.
 */
export type ErrorCode =
  // input images
  | 'empty-file'
  | 'not-an-image'
  | 'corrupt-image'
  | 'image-too-large'
  | 'image-too-small'
  | 'unsupported-image'
  | 'no-face'
  | 'several-faces'
  // an image that was indexed, with a note (a PlainNotice, not an error)
  | 'several-faces-indexed-central'
  | 'duplicate-image'
  // a model that failed on WebGPU and runs on WASM from then on (src/models/modelSession.ts)
  | 'webgpu-run-failed'
  // archives (dropped zips, gallery export files)
  | 'corrupt-archive'
  | 'unsupported-archive'
  | 'archive-limit'
  | 'unsafe-path'
  // models and backends
  | 'model-missing'
  | 'model-checksum'
  | 'model-load-failed'
  | 'no-webgpu'
  | 'gpu-device-lost'
  | 'gpu-pipeline-failed'
  // engine
  | 'invalid-vector'
  | 'invalid-argument'
  | 'weighting-undefined'
  | 'empty-gallery'
  | 'unknown-id'
  // storage and control
  | 'storage-quota'
  | 'storage-failed'
  | 'cancelled'
  | 'worker-crashed'
  | 'internal';

export interface PlainError {
  readonly __appError: true;
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string;
  readonly file?: string;
}

/** Something the user should know about a file that was still used (e.g. which face of a group photo was indexed): listed with the file, like an error, but nothing failed. */
export interface PlainNotice {
  readonly code: ErrorCode;
  readonly message: string;
  readonly hint: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly file?: string;

  constructor(code: ErrorCode, message: string, hint: string, options?: { file?: string; cause?: unknown }) {
    super(options?.file ? `${options.file}: ${message}` : message, { cause: options?.cause });
    this.name = 'AppError';
    this.code = code;
    this.hint = hint;
    this.file = options?.file;
  }

  /** The same error, now naming the file it is about. */
  forFile(file: string): AppError {
    if (this.file === file) return this;
    const bare = this.file ? this.message.slice(this.file.length + 2) : this.message;
    return new AppError(this.code, bare, this.hint, { file, cause: this.cause });
  }
}

export function toPlainError(e: unknown): PlainError {
  if (e instanceof AppError) {
    const bare = e.file ? e.message.slice(e.file.length + 2) : e.message;
    return { __appError: true, code: e.code, message: bare, hint: e.hint, file: e.file };
  }
  const message = e instanceof Error ? e.message : String(e);
  return {
    __appError: true,
    code: 'internal',
    message,
    hint: 'This is a bug in the app; please report it with the steps that led here.',
  };
}

export function fromPlainError(p: PlainError): AppError {
  return new AppError(p.code, p.message, p.hint, { file: p.file });
}

export function isPlainError(x: unknown): x is PlainError {
  return typeof x === 'object' && x !== null && (x as PlainError).__appError === true;
}

/** Wraps an unknown failure as an AppError with the given code, keeping AppErrors as they are. */
export function asAppError(e: unknown, code: ErrorCode, hint: string, file?: string): AppError {
  if (e instanceof AppError) return file ? e.forFile(file) : e;
  const message = e instanceof Error ? e.message : String(e);
  return new AppError(code, message, hint, { file, cause: e });
}

/**
 * The one interface the UI talks to. The same object runs in a Worker (via
 * comlink) or, in Node tests, in-process. Only small, structured-cloneable
 * values cross it; big arrays stay in the worker or move as transferables.
 */
import type { PlainError } from '../core/errors.ts';
import type { ExecutionBackend } from '../models/loadModels.ts';

export type OrtBackendChoice = 'auto' | ExecutionBackend;

export interface ModelStatus {
  readonly id: string;
  readonly title: string;
  readonly role: string;
  readonly backend: ExecutionBackend;
  readonly loadMs: number;
}

export interface WebGpuInfo {
  readonly available: boolean;
  /** True for a software adapter such as SwiftShader. */
  readonly isFallbackAdapter: boolean;
  readonly description: string;
}

export interface ModelsStatus {
  readonly backend: ExecutionBackend;
  readonly models: readonly ModelStatus[];
  readonly webgpu: WebGpuInfo;
  /** Why the backend differs from the one asked for, when it does. */
  readonly backendNote?: string;
  readonly totalMs: number;
}

export type InitResult = { ok: true; status: ModelsStatus } | { ok: false; error: PlainError };

/**
 * The messages between the main thread and the queue thread (see threaded.ts and thread-host.ts):
 * one request per call, one reply per request, and events (availability, log lines). Errors cross
 * as their catalogue code, message and details; Buffers cross as Uint8Arrays and are revived.
 */
import { InferqError, isErrorCode, toInferqError } from '../../errors/index.js';
import type { LogLevel } from '../../util/index.js';
import type { Job, NewJob } from '../port.js';
import type { QueueDurability } from './context.js';
import type { SqliteJobQueue } from './queue.js';
import type { InsertRow } from './statements.js';

/**
 * One enqueue of a batch: the id of the job it created (a bare number, the common case, so the
 * reply stays small; the main thread builds the Job itself), the identical job already stored, or
 * its error.
 */
export type EnqueueReply =
  | number
  | { readonly kind: 'existing'; readonly job: Job }
  | { readonly kind: 'failed'; readonly error: WireError };

/** The SQLite queue operations the thread serves as they are. */
type ForwardedMethod = 'claim' | 'retryLater' | 'cancel' | 'cancelRequested' | 'rerun' | 'list' | 'renew' | 'finish' | 'finishMany' | 'release' | 'defer' | 'claimExpired' | 'releaseOwner' | 'get' | 'stats'
  | 'registerWorker' | 'heartbeatWorker' | 'unregisterWorker' | 'staleWorkers' | 'workersOnHost' | 'publishRoute' | 'withdrawRoute' | 'routes' | 'recordDemand' | 'demand' | 'purgeFinished' | 'seedForBenchmark' | 'close';

/** What the queue thread serves: the SQLite queue's operations, plus enqueues in batches. */
export interface QueueThreadApi extends Pick<SqliteJobQueue, ForwardedMethod> {
  /** Enqueues the rows (`toInsertRow`) of one main-thread turn, or a part of it. */
  enqueueMany(rows: readonly InsertRow[]): Promise<EnqueueReply[]>;
}

/** A call from the main thread. */
export interface CallMessage {
  readonly id: number;
  readonly method: keyof QueueThreadApi;
  readonly args: readonly unknown[];
}

/** An error as it crosses threads. */
export interface WireError {
  readonly code: string;
  readonly message: string;
  readonly details: Record<string, string | number>;
}

/** A message from the queue thread. */
export type ThreadMessage =
  | { readonly type: 'reply'; readonly id: number; readonly value: unknown; readonly commits: number }
  | { readonly type: 'error'; readonly id: number; readonly error: WireError; readonly commits: number }
  | { readonly type: 'available'; readonly endpoint: string }
  | { readonly type: 'log'; readonly level: LogLevel; readonly message: string; readonly fields?: Record<string, unknown> };

/** The start parameters of the queue thread. */
export interface QueueThreadData {
  readonly file: string;
  readonly maxBatchDelayMs: number;
  readonly durability: QueueDurability;
}

/** An error to send across threads (InferqErrors keep their code; anything else is mapped by toInferqError: a storage fault, else InternalError). */
export function toWireError(err: unknown): WireError {
  const error = toInferqError(err);
  if (error === err || error.code !== 'InternalError') return { code: error.code, message: error.message, details: error.details };
  return { code: 'InternalError', message: err instanceof Error ? err.message : String(err), details: {} };
}

/** The InferqError a wire error stands for. */
export function fromWireError(wire: WireError): InferqError {
  return new InferqError(isErrorCode(wire.code) ? wire.code : 'InternalError', wire.message, wire.details);
}

/** A Buffer view of bytes that crossed a thread boundary (structured clone yields Uint8Array). */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** A job that crossed a thread boundary, with its inline body a Buffer again. */
export function reviveJob<T extends NewJob>(job: T): T {
  if (job.input.kind !== 'inline' || Buffer.isBuffer(job.input.body)) return job;
  return Object.assign({}, job, { input: { kind: 'inline' as const, body: asBuffer(job.input.body) } });
}

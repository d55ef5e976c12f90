/**
 * The row form of a job shared by the SQL backends: the columns of `jobs` as read back, the flat
 * insert row, and the conversions between them and the port's Job (inputs are stored as a small
 * JSON `input` column plus the inline body's bytes).
 */
import { InferqError } from '../errors/index.js';
import type { Job, JobInput, JobState, NewJob } from './port.js';

/** A row of `jobs` as read back (lease bookkeeping columns omitted). */
export interface JobRow {
  readonly seq: number;
  readonly endpoint: string;
  readonly inference_id: string;
  readonly state: JobState;
  readonly attempts: number;
  readonly received_at: number;
  readonly expires_at: number;
  readonly started_at: number | null;
  readonly finished_at: number | null;
  readonly failure_reason: string | null;
  readonly fingerprint: string;
  readonly input: string;
  readonly input_body: Buffer | null;
  readonly content_type: string | null;
  readonly accept: string | null;
  readonly custom_attributes: string | null;
  readonly output_bucket: string;
  readonly output_key: string;
  readonly failure_bucket: string;
  readonly failure_key: string;
  readonly invocation_timeout_seconds: number;
  readonly not_before: number | null;
  /** 0/1 in SQLite, a boolean in PostgreSQL. */
  readonly cancel_requested: number | boolean;
}

/**
 * The values of a job insert in the order of its placeholders: a flat row of primitives, cheap to
 * send to the queue thread and bound positionally (see {@link toInsertRow}).
 */
export type InsertRow = readonly [
  endpoint: string,
  inferenceId: string,
  receivedAt: number,
  expiresAt: number,
  fingerprint: string,
  input: string,
  inputBody: Uint8Array | null,
  contentType: string | null,
  accept: string | null,
  customAttributes: string | null,
  outputBucket: string,
  outputKey: string,
  failureBucket: string,
  failureKey: string,
  invocationTimeoutSeconds: number,
];

/** Largest inline body (bytes) a job may carry, as for SageMaker's inline `Body`. */
export const MAX_INLINE_BODY_BYTES = 128_000;

const INLINE_INPUT = JSON.stringify({ kind: 'inline' });

/** The `input` column of a job (an inline body itself goes to `input_body`). */
function encodeInput(input: JobInput): string {
  switch (input.kind) {
    case 'inline':
      if (input.body.length > MAX_INLINE_BODY_BYTES) {
        throw new InferqError('EntityTooLarge', `An inline request body may be at most ${MAX_INLINE_BODY_BYTES} bytes.`);
      }
      return INLINE_INPUT;
    case 'object':
      return JSON.stringify({ kind: 'object', location: { bucket: input.location.bucket, key: input.location.key } });
    case 'url':
      return JSON.stringify({ kind: 'url', url: input.url });
  }
}

/** The insert row of a new job; throws EntityTooLarge for an oversized inline body. */
export function toInsertRow(job: NewJob): InsertRow {
  return [
    job.endpoint,
    job.inferenceId,
    job.receivedAt,
    job.expiresAt,
    job.fingerprint,
    encodeInput(job.input),
    job.input.kind === 'inline' ? job.input.body : null,
    job.contentType ?? null,
    job.accept ?? null,
    job.customAttributes ?? null,
    job.output.bucket,
    job.output.key,
    job.failure.bucket,
    job.failure.key,
    job.invocationTimeoutSeconds,
  ];
}

function field(value: unknown, name: string): string {
  if (typeof value !== 'string') throw new InferqError('InternalError', `A stored job input has no valid "${name}".`);
  return value;
}

function decodeInput(text: string, body: Buffer | null): JobInput {
  const parsed = JSON.parse(text) as unknown;
  const record = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
  const location = typeof record.location === 'object' && record.location !== null ? (record.location as Record<string, unknown>) : {};
  switch (record.kind) {
    case 'inline':
      return { kind: 'inline', body: body ?? Buffer.alloc(0) };
    case 'object':
      return { kind: 'object', location: { bucket: field(location.bucket, 'bucket'), key: field(location.key, 'key') } };
    case 'url':
      return { kind: 'url', url: field(record.url, 'url') };
    default:
      throw new InferqError('InternalError', 'A stored job input has an unknown kind.');
  }
}

/** The Job a fresh insert of `job` stored as `seq` (what {@link toJob} would read back). */
export function insertedJob(job: NewJob, seq: number): Job {
  const input: JobInput = job.input.kind === 'object' ? { kind: 'object', location: { bucket: job.input.location.bucket, key: job.input.location.key } } : job.input;
  return {
    id: String(seq),
    inferenceId: job.inferenceId,
    endpoint: job.endpoint,
    input,
    ...(job.contentType === undefined ? {} : { contentType: job.contentType }),
    ...(job.accept === undefined ? {} : { accept: job.accept }),
    ...(job.customAttributes === undefined ? {} : { customAttributes: job.customAttributes }),
    output: { bucket: job.output.bucket, key: job.output.key },
    failure: { bucket: job.failure.bucket, key: job.failure.key },
    invocationTimeoutSeconds: job.invocationTimeoutSeconds,
    receivedAt: job.receivedAt,
    expiresAt: job.expiresAt,
    fingerprint: job.fingerprint,
    state: 'queued',
    attempts: 0,
  };
}

/** Builds the port's Job from a row; absent optional fields are omitted, not undefined. */
export function toJob(row: JobRow): Job {
  return {
    id: String(row.seq),
    inferenceId: row.inference_id,
    endpoint: row.endpoint,
    input: decodeInput(row.input, row.input_body),
    ...(row.content_type === null ? {} : { contentType: row.content_type }),
    ...(row.accept === null ? {} : { accept: row.accept }),
    ...(row.custom_attributes === null ? {} : { customAttributes: row.custom_attributes }),
    output: { bucket: row.output_bucket, key: row.output_key },
    failure: { bucket: row.failure_bucket, key: row.failure_key },
    invocationTimeoutSeconds: row.invocation_timeout_seconds,
    receivedAt: row.received_at,
    expiresAt: row.expires_at,
    fingerprint: row.fingerprint,
    state: row.state,
    attempts: row.attempts,
    ...(row.started_at === null ? {} : { startedAt: row.started_at }),
    ...(row.finished_at === null ? {} : { finishedAt: row.finished_at }),
    ...(row.failure_reason === null ? {} : { failureReason: row.failure_reason }),
    ...(row.not_before === null ? {} : { notBefore: row.not_before }),
    ...(row.cancel_requested === 1 || row.cancel_requested === true ? { cancelRequested: true as const } : {}),
  };
}

/** The columns of a job row as read back (both backends). */
export const JOB_COLUMNS = `seq, endpoint, inference_id, state, attempts, received_at, expires_at, started_at, finished_at,
  failure_reason, fingerprint, input, input_body, content_type, accept, custom_attributes, output_bucket, output_key,
  failure_bucket, failure_key, invocation_timeout_seconds, not_before, cancel_requested`;

/** States a job may be re-run from. */
export const RERUNNABLE: ReadonlySet<string> = new Set(['failed', 'expired', 'cancelled']);

/** The `seq` of a job id, or undefined when `id` is not one this backend issued. */
export function parseJobId(id: string): number | undefined {
  if (!/^[1-9]\d{0,15}$/.test(id)) return undefined;
  const seq = Number(id);
  return Number.isSafeInteger(seq) ? seq : undefined;
}

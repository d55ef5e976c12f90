/** Shared helpers of the job queue tests: job factories and error assertions. */
import assert from 'node:assert/strict';
import { isInferqError, type ErrorCode } from '../../src/errors/index.js';
import type { JobInput, NewJob } from '../../src/queue/index.js';

/** A new job on `endpoint` with sensible defaults; `overrides` win. */
export function newJob(endpoint: string, inferenceId: string, overrides: Partial<NewJob> = {}): NewJob {
  return {
    inferenceId,
    endpoint,
    input: { kind: 'object', location: { bucket: 'in', key: `${endpoint}/${inferenceId}` } },
    output: { bucket: 'out', key: `${endpoint}/${inferenceId}.out` },
    failure: { bucket: 'fail', key: `${endpoint}/${inferenceId}-error.out` },
    invocationTimeoutSeconds: 900,
    receivedAt: 1_000,
    expiresAt: 1_000 + 21_600_000,
    fingerprint: `fp-${inferenceId}`,
    ...overrides,
  };
}

/** An inline input carrying `text`. */
export function inline(text: string): JobInput {
  return { kind: 'inline', body: Buffer.from(text) };
}

/** Asserts `promise` rejects with an InferqError of one of `codes`. */
export async function rejectsWith(promise: Promise<unknown>, ...codes: ErrorCode[]): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isInferqError(err), `expected an InferqError, got ${String(err)}`);
    assert.ok(codes.includes(err.code), `expected ${codes.join('|')}, got ${err.code}: ${err.message}`);
    return true;
  });
}

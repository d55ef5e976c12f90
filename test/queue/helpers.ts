/** Shared helpers of the job queue tests: job factories and error assertions. */
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

export { rejectsWith } from '../helpers/inferq-errors.js';

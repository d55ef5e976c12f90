/**
 * The status API SageMaker lacks: `GET /endpoints/{name}/async-invocations/{InferenceId}` answers
 * the request's state, timestamps, attempts and locations. `?waitSeconds=N&unlessStatus=S` holds
 * the call (long poll) until the status differs from S or N seconds (≤ 60) pass.
 */
import type { ServerResponse } from 'node:http';
import { InferqError } from '../errors/index.js';
import type { Job, JobQueue, JobState } from '../queue/index.js';
import type { Clock } from '../util/index.js';
import { s3Uri } from './locations.js';

/** Status names on the wire. */
const STATUS: Readonly<Record<JobState, string>> = { queued: 'Queued', running: 'Running', succeeded: 'Succeeded', failed: 'Failed', expired: 'Expired', cancelled: 'Cancelled' };

/** The wire name of a state (`Queued`, …, `Cancelled`). */
export function statusName(state: JobState): string {
  return STATUS[state];
}

/** The state a wire status name stands for, or undefined when it is none. */
export function parseStatus(name: string): JobState | undefined {
  return (Object.keys(STATUS) as JobState[]).find((state) => STATUS[state] === name);
}

/** The JSON document of one request's status. */
export function describeJob(job: Job): Record<string, unknown> {
  const iso = (ms: number | undefined): string | undefined => (ms === undefined ? undefined : new Date(ms).toISOString());
  return {
    InferenceId: job.inferenceId,
    EndpointName: job.endpoint,
    Status: STATUS[job.state],
    Attempts: job.attempts,
    ReceivedTime: iso(job.receivedAt),
    StartedTime: iso(job.startedAt),
    FinishedTime: iso(job.finishedAt),
    ExpiresTime: iso(job.expiresAt),
    InputLocation: job.input.kind === 'object' ? s3Uri(job.input.location) : job.input.kind === 'url' ? job.input.url : undefined,
    OutputLocation: s3Uri(job.output),
    FailureLocation: s3Uri(job.failure),
    FailureReason: job.failureReason,
  };
}

/**
 * A long poll re-reads the job after 5, 10, 20, 40, 80 ms and then every 100 ms (the queue has no
 * change events, and the worker may be another process): a request that takes a few ms is seen done
 * a few ms after, not 100 ms after, for about four extra point reads per long poll.
 */
const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

function waitParams(query: URLSearchParams): { waitMs: number; unless?: string } {
  const raw = query.get('waitSeconds');
  if (raw === null) return { waitMs: 0 };
  if (!/^\d+$/.test(raw) || Number(raw) > 60) throw new InferqError('ValidationError', 'waitSeconds must be an integer from 0 to 60');
  const unless = query.get('unlessStatus') ?? undefined;
  if (unless !== undefined && !Object.values(STATUS).includes(unless)) throw new InferqError('ValidationError', `unlessStatus must be one of ${Object.values(STATUS).join(', ')}`);
  return { waitMs: Number(raw) * 1000, ...(unless !== undefined ? { unless } : {}) };
}

/** Answers the status of one request, optionally after a long poll. */
export async function getAsyncInvocation(queue: JobQueue, clock: Clock, endpoint: string, inferenceId: string, rawQuery: string, res: ServerResponse): Promise<void> {
  const { waitMs, unless } = waitParams(new URLSearchParams(rawQuery));
  const deadline = clock.now() + waitMs;
  let job = await queue.get(endpoint, inferenceId);
  let closed = false;
  res.once('close', () => { closed = true; });
  let pause = FIRST_POLL_MS;
  while (job && unless === STATUS[job.state] && clock.now() < deadline && !closed) {
    await new Promise((resolve) => setTimeout(resolve, pause));
    pause = Math.min(pause * 2, MAX_POLL_MS);
    job = await queue.get(endpoint, inferenceId);
  }
  if (!job) throw new InferqError('ValidationError', `Inference ${inferenceId} of endpoint ${endpoint} not found.`);
  const body = Buffer.from(JSON.stringify(describeJob(job)));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

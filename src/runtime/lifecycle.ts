/**
 * The request-lifecycle routes of the status API (issue 13), SageMaker-signed like the rest:
 * - `DELETE /endpoints/{name}/async-invocations/{id}` cancels a queued or running request;
 * - `GET /endpoints/{name}/async-invocations?status=&maxResults=&nextToken=` lists requests newest first;
 * - `POST /endpoints/{name}/async-invocations/{id}/retry` re-runs a failed, expired or cancelled one.
 * Each answers status documents (status.ts). A cancelled request ends with a failure object saying
 * so; a re-run one loses its old failure object before it is queued again, so it ends in exactly
 * one terminal object.
 */
import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { InferqError, isInferqError } from '../errors/index.js';
import type { ObjectStore } from '../objects/index.js';
import { CANCELLED_REASON, type Job, type JobOutcome, type JobQueue, type JobState, type NewNotification } from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';
import { describeJob, parseStatus, statusName } from './status.js';


/** How long the API holds a cancel or re-run lease (if its process dies, the next claimer finishes the job). */
const API_LEASE_MS = 30_000;
/** How long a cancel of a running request waits for its worker to abort the model call and record it. */
const CANCEL_WAIT_MS = 15_000;
const CANCEL_POLL_MS = 20;
const DEFAULT_MAX_RESULTS = 100;

/** What the lifecycle routes need. */
export interface LifecycleDeps {
  readonly queue: JobQueue;
  readonly store: ObjectStore;
  readonly clock: Clock;
  readonly logger: Logger;
  /**
   * The error notification of a request this API cancels (a queued one), recorded in the outbox in
   * the transaction that finishes it `cancelled`; undefined: none. Running requests are recorded
   * by their worker, the same way.
   */
  readonly cancelNotification?: (job: Job, outcome: JobOutcome, now: number) => NewNotification | undefined;
  /** Called once a cancel was recorded by this API (with its notification, if any): wakes the outbox drain. */
  readonly onCancelled?: (job: Job) => void;
}

/** The lifecycle operations, bound to their dependencies. */
export interface LifecycleRoutes {
  cancel(endpoint: string, inferenceId: string, res: ServerResponse): Promise<void>;
  list(endpoint: string, rawQuery: string, res: ServerResponse): Promise<void>;
  rerun(endpoint: string, inferenceId: string, res: ServerResponse): Promise<void>;
}

/** The same operations without HTTP (the dashboard): each resolves with the document the route answers. */
export interface LifecycleOperations {
  cancel(endpoint: string, inferenceId: string): Promise<Record<string, unknown>>;
  /** `rawQuery` as the list route takes it (`status`, `maxResults`, `nextToken`). */
  list(endpoint: string, rawQuery: string): Promise<{ Invocations: Record<string, unknown>[]; NextToken?: string }>;
  rerun(endpoint: string, inferenceId: string): Promise<Record<string, unknown>>;
  /**
   * Fails every queued request of `endpoint` with `reason` (in its failure object and status), as
   * when the endpoint is deleted; resolves to how many. Requests already running are left to finish
   * (one a worker claims between the listing and its cancel is cancelled instead).
   */
  failQueued(endpoint: string, reason: string): Promise<number>;
}

function sendJson(res: ServerResponse, doc: unknown): void {
  const body = Buffer.from(JSON.stringify(doc));
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}

function notFound(endpoint: string, inferenceId: string): InferqError {
  return new InferqError('ValidationError', `Inference ${inferenceId} of endpoint ${endpoint} not found.`);
}

/** Writes the failure object of a cancelled request (and removes an output an earlier, interrupted run left). */
export async function writeCancelledFailure(store: ObjectStore, job: Job, reason: string = CANCELLED_REASON): Promise<void> {
  await store.putObject(job.failure.bucket, job.failure.key, Readable.from([Buffer.from(`${reason}\n`)]), {
    contentType: 'text/plain; charset=utf-8',
    userMetadata: { 'inference-id': job.inferenceId },
  });
  if (job.attempts > 0) await deleteIfThere(store, job.output.bucket, job.output.key);
}

async function deleteIfThere(store: ObjectStore, bucket: string, key: string): Promise<void> {
  try {
    await store.deleteObject(bucket, key);
  } catch (err) {
    if (!isInferqError(err, 'NoSuchBucket') && !isInferqError(err, 'NoSuchKey')) throw err;
  }
}

const TERMINAL: ReadonlySet<JobState> = new Set<JobState>(['succeeded', 'failed', 'expired', 'cancelled']);

/** The opaque `NextToken`: the id to page before, and the status filter it was issued for. */
const tokenSchema = z.strictObject({ b: z.string().regex(/^[1-9]\d{0,15}$/), s: z.string().optional() });

function encodeToken(before: string, status: string | undefined): string {
  return Buffer.from(JSON.stringify(status === undefined ? { b: before } : { b: before, s: status })).toString('base64url');
}

function decodeToken(token: string, status: string | undefined): string {
  let parsed: z.infer<typeof tokenSchema> | undefined;
  try {
    const result = tokenSchema.safeParse(JSON.parse(Buffer.from(token, 'base64url').toString('utf8')));
    parsed = result.success ? result.data : undefined;
  } catch {
    parsed = undefined;
  }
  if (!parsed) throw new InferqError('ValidationError', 'nextToken is not a token this API issued.');
  if (parsed.s !== status) throw new InferqError('ValidationError', 'nextToken was issued for another status filter; pass the same status as for the first page.');
  return parsed.b;
}

function listParams(rawQuery: string): { state?: JobState; status?: string; limit: number; before?: string } {
  const query = new URLSearchParams(rawQuery);
  const status = query.get('status') ?? undefined;
  const state = status === undefined ? undefined : parseStatus(status);
  if (status !== undefined && state === undefined) throw new InferqError('ValidationError', `status must be one of ${['Queued', 'Running', 'Succeeded', 'Failed', 'Expired', 'Cancelled'].join(', ')}`);
  const rawMax = query.get('maxResults');
  if (rawMax !== null && (!/^\d{1,4}$/.test(rawMax) || Number(rawMax) < 1 || Number(rawMax) > 1000)) {
    throw new InferqError('ValidationError', 'maxResults must be an integer from 1 to 1000');
  }
  const token = query.get('nextToken');
  const before = token === null ? undefined : decodeToken(token, status);
  return {
    limit: rawMax === null ? DEFAULT_MAX_RESULTS : Number(rawMax),
    ...(state !== undefined ? { state, status } : {}),
    ...(before !== undefined ? { before } : {}),
  };
}

/** Creates the lifecycle routes over {@link createLifecycleOperations}. */
export function createLifecycleRoutes(deps: LifecycleDeps, ops: LifecycleOperations = createLifecycleOperations(deps)): LifecycleRoutes {
  return {
    cancel: async (endpoint, inferenceId, res) => sendJson(res, await ops.cancel(endpoint, inferenceId)),
    list: async (endpoint, rawQuery, res) => sendJson(res, await ops.list(endpoint, rawQuery)),
    rerun: async (endpoint, inferenceId, res) => sendJson(res, await ops.rerun(endpoint, inferenceId)),
  };
}

/** Creates the lifecycle operations; the API's leases are held under an owner of its own. */
export function createLifecycleOperations(deps: LifecycleDeps): LifecycleOperations {
  const { queue, store, clock } = deps;
  const owner = `api:${randomUUID().slice(0, 8)}`;

  const waitForEnd = async (endpoint: string, inferenceId: string): Promise<Job | undefined> => {
    const deadline = clock.now() + CANCEL_WAIT_MS;
    let job = await queue.get(endpoint, inferenceId);
    while (job && !TERMINAL.has(job.state) && clock.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, CANCEL_POLL_MS));
      job = await queue.get(endpoint, inferenceId);
    }
    return job;
  };

  return {
    async cancel(endpoint, inferenceId) {
      const result = await queue.cancel(endpoint, inferenceId, owner, API_LEASE_MS, clock.now());
      if (!result) throw notFound(endpoint, inferenceId);
      if (result.outcome === 'finished') {
        throw new InferqError('InvocationStateConflict', `Inference ${inferenceId} of endpoint ${endpoint} is already ${statusName(result.job.state)}; only a Queued or Running request can be cancelled.`);
      }
      if (result.outcome === 'leased') {
        await writeCancelledFailure(store, result.job);
        const outcome: JobOutcome = { state: 'cancelled', failureReason: CANCELLED_REASON };
        const now = clock.now();
        const kept = await queue.finish(owner, result.job.id, outcome, now, deps.cancelNotification?.(result.job, outcome, now));
        if (kept) deps.onCancelled?.(result.job);
      }
      const job = result.outcome === 'leased' ? await queue.get(endpoint, inferenceId) : await waitForEnd(endpoint, inferenceId);
      return describeJob(job ?? result.job);
    },

    async list(endpoint, rawQuery) {
      const params = listParams(rawQuery);
      const page = await queue.list(endpoint, {
        limit: params.limit,
        ...(params.state !== undefined ? { state: params.state } : {}),
        ...(params.before !== undefined ? { before: params.before } : {}),
      });
      return {
        Invocations: page.jobs.map((job) => describeJob(job)),
        ...(page.next !== undefined ? { NextToken: encodeToken(page.next, params.status) } : {}),
      };
    },

    async failQueued(endpoint, reason) {
      let failed = 0;
      for (;;) {
        const page = await queue.list(endpoint, { state: 'queued', limit: 500 });
        let progressed = false;
        for (const queued of page.jobs) {
          const result = await queue.cancel(endpoint, queued.inferenceId, owner, API_LEASE_MS, clock.now());
          if (result?.outcome !== 'leased') continue;
          await writeCancelledFailure(store, result.job, reason);
          const outcome: JobOutcome = { state: 'failed', failureReason: reason };
          const now = clock.now();
          if (await queue.finish(owner, result.job.id, outcome, now, deps.cancelNotification?.(result.job, outcome, now))) {
            failed += 1;
            progressed = true;
            deps.onCancelled?.(result.job);
          }
        }
        if (!progressed || page.next === undefined) return failed;
      }
    },

    async rerun(endpoint, inferenceId) {
      const existing = await queue.get(endpoint, inferenceId);
      if (!existing) throw notFound(endpoint, inferenceId);
      const now = clock.now();
      const ttlMs = Math.max(1000, existing.expiresAt - existing.receivedAt);
      const result = await queue.rerun(endpoint, inferenceId, owner, API_LEASE_MS, now, now + ttlMs);
      if (!result) throw notFound(endpoint, inferenceId);
      if (result.outcome === 'refused') {
        throw new InferqError('InvocationStateConflict', `Inference ${inferenceId} of endpoint ${endpoint} is ${statusName(result.job.state)}; only a Failed, Expired or Cancelled request can be run again.`);
      }
      await deleteIfThere(store, result.job.failure.bucket, result.job.failure.key);
      await queue.release(owner, result.job.id);
      const job = await queue.get(endpoint, inferenceId);
      return describeJob(job ?? result.job);
    },
  };
}

/**
 * Lease operations of the SQLite queue: claim (oldest first, including jobs whose worker's lease
 * ran out), claim of expired jobs for the TTL sweeper, renew, finish, release, defer. Each runs in one
 * IMMEDIATE transaction, so concurrent processes sharing the database never lease a job twice.
 */
import { InferqError } from '../../errors/index.js';
import type { Job, JobFinish, JobOutcome, TerminalState } from '../port.js';
import type { QueueContext } from './context.js';
import { parseJobId, toJob } from './statements.js';

const TERMINAL: ReadonlySet<string> = new Set<TerminalState>(['succeeded', 'failed', 'expired', 'cancelled']);

function positiveCount(max: number): number {
  return Number.isFinite(max) ? Math.max(0, Math.floor(max)) : 0;
}

/** Merges two ascending seq lists and keeps the first `max`. */
function oldestFirst(a: readonly { seq: number }[], b: readonly { seq: number }[], max: number): number[] {
  return [...a, ...b]
    .map((row) => row.seq)
    .sort((x, y) => x - y)
    .slice(0, max);
}

/**
 * Leases up to `max` jobs of `endpoint` to `owner` until `now + leaseMs`, by ascending seq: queued
 * jobs not yet expired, and running jobs whose lease ended at or before `now`. Increments attempts;
 * sets startedAt on the first claim.
 */
export function claimJobs(ctx: QueueContext, endpoint: string, owner: string, max: number, leaseMs: number, now: number): Job[] {
  const limit = positiveCount(max);
  if (limit === 0) return [];
  const { db, stmts } = ctx;
  return db
    .transaction(() => {
      const seqs = oldestFirst(stmts.staleHead.all(endpoint, now, limit), stmts.queuedHead.all({ endpoint, now, limit }), limit);
      const jobs: Job[] = [];
      for (const seq of seqs) {
        const row = stmts.claim.get({ seq, owner, until: now + leaseMs, now });
        if (row) jobs.push(toJob(row));
      }
      return jobs;
    })
    .immediate();
}

/** Leases up to `max` queued jobs whose expiresAt is at or before `now` (attempts unchanged). */
export function claimExpiredJobs(ctx: QueueContext, owner: string, max: number, leaseMs: number, now: number): Job[] {
  const limit = positiveCount(max);
  if (limit === 0) return [];
  const { db, stmts } = ctx;
  return db
    .transaction(() => {
      const jobs: Job[] = [];
      for (const { seq } of stmts.expiredHead.all(now, limit)) {
        const row = stmts.leaseExpired.get({ seq, owner, until: now + leaseMs });
        if (row) jobs.push(toJob(row));
      }
      return jobs;
    })
    .immediate();
}

/** Extends `owner`'s leases on `ids` to `now + leaseMs`; returns the ids it no longer holds. */
export function renewLeases(ctx: QueueContext, owner: string, ids: readonly string[], leaseMs: number, now: number): string[] {
  const { db, stmts } = ctx;
  return db
    .transaction(() => {
      const lost: string[] = [];
      for (const id of ids) {
        const seq = parseJobId(id);
        if (seq === undefined || stmts.renew.run(now + leaseMs, seq, owner).changes === 0) lost.push(id);
      }
      return lost;
    })
    .immediate();
}

function checkTerminal(outcome: JobOutcome): void {
  if (!TERMINAL.has(outcome.state)) throw new InferqError('InvalidArgument', `A job cannot finish in state ${String(outcome.state)}.`);
}

function finishOne(ctx: QueueContext, owner: string, id: string, outcome: JobOutcome, now: number): boolean {
  const seq = parseJobId(id);
  if (seq === undefined) return false;
  return ctx.stmts.finish.run(outcome.state, now, outcome.failureReason ?? null, seq, owner).changes > 0;
}

/** Records `outcome` if `owner` still holds the lease on `id`; false otherwise. */
export function finishJob(ctx: QueueContext, owner: string, id: string, outcome: JobOutcome, now: number): boolean {
  checkTerminal(outcome);
  return finishOne(ctx, owner, id, outcome, now);
}

/** {@link finishJob} for every entry, in one IMMEDIATE transaction (all checked terminal first). */
export function finishJobs(ctx: QueueContext, owner: string, finishes: readonly JobFinish[], now: number): boolean[] {
  for (const { outcome } of finishes) checkTerminal(outcome);
  if (finishes.length === 0) return [];
  return ctx.db.transaction(() => finishes.map(({ id, outcome }) => finishOne(ctx, owner, id, outcome, now))).immediate();
}

/** Puts `owner`'s job `id` back in the queue at its old position, refunding the attempt its claim counted. */
export function releaseJob(ctx: QueueContext, owner: string, id: string): void {
  const seq = parseJobId(id);
  if (seq === undefined) return;
  const row = ctx.stmts.release.get(seq, owner);
  if (row) ctx.notify([row.endpoint]);
}

/**
 * Refunds the attempt `owner`'s claim of `id` counted and lets its lease end at `until`, when the
 * job becomes claimable again (as a job whose lease ran out).
 */
export function deferJob(ctx: QueueContext, owner: string, id: string, until: number): void {
  const seq = parseJobId(id);
  if (seq !== undefined) ctx.stmts.defer.run(until, seq, owner);
}

/** Puts every job leased by `owner` back in the queue (attempts are not refunded); returns how many. */
export function releaseOwnerJobs(ctx: QueueContext, owner: string): number {
  const rows = ctx.db.transaction(() => ctx.stmts.releaseOwner.all(owner)).immediate();
  if (rows.length > 0) ctx.notify(new Set(rows.map((row) => row.endpoint)));
  return rows.length;
}

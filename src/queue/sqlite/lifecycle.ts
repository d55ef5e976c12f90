/**
 * The request-lifecycle operations of the SQLite queue (issue 13): the retry policy's durable wait,
 * cancel, re-run and the newest-first listing. Each write runs in one IMMEDIATE transaction.
 */
import type { CancelResult, JobPage, ListQuery, RerunResult } from '../port.js';
import type { QueueContext } from './context.js';
import { parseJobId, toJob } from './statements.js';

/** Queues `owner`'s leased job `id` again, claimable from `notBefore`, its attempt still counted. */
export function retryJobLater(ctx: QueueContext, owner: string, id: string, notBefore: number): boolean {
  const seq = parseJobId(id);
  if (seq === undefined) return false;
  return ctx.stmts.retryLater.get(notBefore, seq, owner) !== undefined;
}

/** Cancels a queued job (leasing it to `owner`) or flags a running one; see CancelResult. */
export function cancelJob(ctx: QueueContext, endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number): CancelResult | undefined {
  const { db, stmts } = ctx;
  return db
    .transaction((): CancelResult | undefined => {
      const row = stmts.byKey.get(endpoint, inferenceId);
      if (!row) return undefined;
      if (row.state === 'queued') {
        const leased = stmts.cancelQueued.get(owner, now + leaseMs, row.seq);
        if (leased) return { outcome: 'leased', job: toJob(leased) };
      }
      if (row.state === 'running') {
        const flagged = stmts.cancelRunning.get(row.seq);
        if (flagged) return { outcome: 'requested', job: toJob(flagged) };
      }
      return { outcome: 'finished', job: toJob(row) };
    })
    .immediate();
}

/** Of `ids`, those whose cancel was requested. */
export function cancelRequestedJobs(ctx: QueueContext, ids: readonly string[]): string[] {
  return ids.filter((id) => {
    const seq = parseJobId(id);
    return seq !== undefined && ctx.stmts.cancelFlag.get(seq) !== undefined;
  });
}

/** Resets a failed, expired or cancelled job and leases it to `owner`; see RerunResult. */
export function rerunJob(ctx: QueueContext, endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number, expiresAt: number): RerunResult | undefined {
  const { db, stmts } = ctx;
  return db
    .transaction((): RerunResult | undefined => {
      const row = stmts.byKey.get(endpoint, inferenceId);
      if (!row) return undefined;
      const leased = stmts.rerun.get(owner, now + leaseMs, expiresAt, row.seq);
      return leased ? { outcome: 'leased', job: toJob(leased) } : { outcome: 'refused', job: toJob(row) };
    })
    .immediate();
}

/** One page of `endpoint`'s jobs, newest first. */
export function listJobs(ctx: QueueContext, endpoint: string, query: ListQuery): JobPage {
  const limit = Math.max(1, Math.min(1000, Math.floor(query.limit)));
  const before = query.before === undefined ? Number.MAX_SAFE_INTEGER : parseJobId(query.before) ?? 0;
  const rows = query.state === undefined
    ? ctx.stmts.listAll.all(endpoint, before, limit + 1)
    : ctx.stmts.listState.all(endpoint, query.state, before, limit + 1);
  const jobs = rows.slice(0, limit).map(toJob);
  const last = jobs[jobs.length - 1];
  return rows.length > limit && last ? { jobs, next: last.id } : { jobs };
}

/**
 * The notification outbox of the SQLite queue: entries are inserted by the transaction that
 * finishes their job (leases.ts), claimed with a lease (an IMMEDIATE transaction, so processes
 * sharing the file never take the same entry twice) and settled by the delivering process.
 */
import type { NewNotification, NotificationSettlement, OutboxEntry } from '../port.js';
import type { QueueContext } from './context.js';
import { parseJobId, toOutboxEntry } from './statements.js';

/** Inserts `notification` for job `seq` (call inside the finishing transaction). */
export function insertNotification(ctx: QueueContext, seq: number, notification: NewNotification, now: number): void {
  ctx.stmts.outboxInsert.run({
    seq,
    topic: notification.topic,
    message: notification.message,
    bucket: notification.bodyFrom?.bucket ?? null,
    key: notification.bodyFrom?.key ?? null,
    now,
  });
}

/** Leases up to `max` due pending entries to `owner` until `now + leaseMs`. */
export function claimNotifications(ctx: QueueContext, owner: string, max: number, leaseMs: number, now: number): OutboxEntry[] {
  const limit = Number.isFinite(max) ? Math.max(0, Math.floor(max)) : 0;
  if (limit === 0) return [];
  const { db, stmts } = ctx;
  return db
    .transaction(() => {
      const entries: OutboxEntry[] = [];
      for (const { seq } of stmts.outboxDue.all(now, limit)) {
        const row = stmts.outboxClaim.get(owner, now + leaseMs, seq, now);
        if (row) entries.push(toOutboxEntry(row));
      }
      return entries;
    })
    .immediate();
}

/** Records how `owner`'s delivery attempt of entry `id` ended; false when it no longer holds it. */
export function settleNotification(ctx: QueueContext, owner: string, id: string, settlement: NotificationSettlement, now: number): boolean {
  const seq = parseJobId(id);
  if (seq === undefined) return false;
  return ctx.stmts.outboxSettle.run({
    seq,
    owner,
    state: settlement.state,
    retryAt: settlement.state === 'pending' ? settlement.retryAt : null,
    error: settlement.state === 'delivered' ? null : settlement.error,
    now,
  }).changes > 0;
}

/** The newest outbox entry of a request. */
export function notificationOf(ctx: QueueContext, endpoint: string, inferenceId: string): OutboxEntry | undefined {
  const row = ctx.stmts.outboxOf.get(endpoint, inferenceId);
  return row ? toOutboxEntry(row) : undefined;
}

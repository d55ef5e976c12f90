/**
 * Batches the terminal outcomes a worker process records: outcomes that become ready in the same
 * event-loop turn (typically every job whose output objects one group commit made durable) go to
 * the queue in one {@link JobQueue.finishMany} call — one round trip and one transaction instead of
 * one per job. Each caller still gets its own result; a failed call fails every entry of it (none
 * was recorded), and each caller retries on its own schedule.
 */
import type { Job, JobFinish, JobOutcome, JobQueue, NewNotification } from '../queue/index.js';
import type { Clock } from '../util/index.js';

/**
 * The notifications a worker records with terminal outcomes (see notify/): `build` returns the
 * outbox entry of a job's outcome (undefined: none), `recorded` is called after one was committed.
 */
export interface FinishNotifications {
  build(job: Job, outcome: JobOutcome & { readonly responseContentType?: string }, now: number): NewNotification | undefined;
  recorded(): void;
}

interface PendingFinish {
  readonly finish: JobFinish;
  readonly resolve: (kept: boolean) => void;
  readonly reject: (err: unknown) => void;
}

/** Collects finishes of one owner and sends them once per event-loop turn. */
export class FinishBatcher {
  private pending: PendingFinish[] = [];
  private scheduled = false;

  constructor(
    private readonly queue: Pick<JobQueue, 'finishMany'>,
    private readonly owner: string,
    private readonly clock: Clock,
  ) {}

  /** Records `outcome` (and `notification`, atomically) for job `id` with the next batch; resolves as {@link JobQueue.finish}. */
  finish(id: string, outcome: JobOutcome, notification?: NewNotification): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ finish: { id, outcome: { state: outcome.state, ...(outcome.failureReason !== undefined ? { failureReason: outcome.failureReason } : {}) }, ...(notification ? { notification } : {}) }, resolve, reject });
      if (this.scheduled) return;
      this.scheduled = true;
      setImmediate(() => this.flush());
    });
  }

  private flush(): void {
    this.scheduled = false;
    const batch = this.pending;
    this.pending = [];
    this.queue.finishMany(this.owner, batch.map((p) => p.finish), this.clock.now()).then(
      (kept) => batch.forEach((p, i) => p.resolve(kept[i] === true)),
      (err: unknown) => batch.forEach((p) => p.reject(err)),
    );
  }
}

/**
 * Batches the terminal outcomes a worker process records: outcomes that become ready in the same
 * event-loop turn (typically every job whose output objects one group commit made durable) go to
 * the queue in one {@link JobQueue.finishMany} call — one round trip and one transaction instead of
 * one per job. Each caller still gets its own result; a failed call fails every entry of it (none
 * was recorded), and each caller retries on its own schedule.
 */
import type { JobFinish, JobOutcome, JobQueue } from '../queue/index.js';
import type { Clock } from '../util/index.js';

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

  /** Records `outcome` for job `id` with the next batch; resolves as {@link JobQueue.finish}. */
  finish(id: string, outcome: JobOutcome): Promise<boolean> {
    return new Promise<boolean>((resolve, reject) => {
      this.pending.push({ finish: { id, outcome }, resolve, reject });
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

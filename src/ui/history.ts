/**
 * The dashboard's in-memory time series: every few seconds each endpoint's backlog (from the same
 * status function `GET /endpoints` answers with) and the completions and failures this process's
 * workers recorded since the last sample, kept for 15 minutes in a ring buffer per endpoint.
 */
import type { EndpointStatusDoc } from '../runtime/index.js';
import type { Clock, Logger } from '../util/index.js';

/** How often a sample is taken. */
export const SAMPLE_INTERVAL_MS = 3000;

/** How much history is kept. */
export const HISTORY_WINDOW_MS = 15 * 60 * 1000;

const CAPACITY = Math.ceil(HISTORY_WINDOW_MS / SAMPLE_INTERVAL_MS);

/** One endpoint's series, oldest first: epoch seconds, backlog (queued + running), completions and failures per sample. */
export interface EndpointSeries {
  readonly t: number[];
  readonly backlog: number[];
  readonly completed: number[];
  readonly failed: number[];
}

class Ring {
  private readonly rows: [number, number, number, number][] = [];
  private start = 0;

  push(row: [number, number, number, number]): void {
    if (this.rows.length < CAPACITY) this.rows.push(row);
    else {
      this.rows[this.start] = row;
      this.start = (this.start + 1) % CAPACITY;
    }
  }

  series(): EndpointSeries {
    const out: EndpointSeries = { t: [], backlog: [], completed: [], failed: [] };
    for (let i = 0; i < this.rows.length; i++) {
      const row = this.rows[(this.start + i) % this.rows.length]!;
      out.t.push(row[0]);
      out.backlog.push(row[1]);
      out.completed.push(row[2]);
      out.failed.push(row[3]);
    }
    return out;
  }
}

/** Counts finished requests and samples the backlog; `start` begins sampling. */
export class ActivityHistory {
  private readonly rings = new Map<string, Ring>();
  private readonly pending = new Map<string, { completed: number; failed: number }>();
  /** Completion and failure times (epoch ms) of the last minute, per endpoint. */
  private readonly recent = new Map<string, { completed: number[]; failed: number[] }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly status: () => Promise<readonly EndpointStatusDoc[]>, private readonly clock: Clock, private readonly logger: Logger) {}

  /** Records one request a worker of this process finished (succeeded, or failed/expired). */
  finished(endpoint: string, succeeded: boolean): void {
    const p = this.pending.get(endpoint) ?? { completed: 0, failed: 0 };
    if (succeeded) p.completed++;
    else p.failed++;
    this.pending.set(endpoint, p);
    const r = this.recent.get(endpoint) ?? { completed: [], failed: [] };
    (succeeded ? r.completed : r.failed).push(this.clock.now());
    this.recent.set(endpoint, r);
  }

  /** Completions and failures of the last 60 s. */
  perMinute(endpoint: string): { completed: number; failed: number } {
    const r = this.recent.get(endpoint);
    if (r === undefined) return { completed: 0, failed: 0 };
    const since = this.clock.now() - 60_000;
    while (r.completed.length > 0 && r.completed[0]! < since) r.completed.shift();
    while (r.failed.length > 0 && r.failed[0]! < since) r.failed.shift();
    return { completed: r.completed.length, failed: r.failed.length };
  }

  /** The series of every endpoint sampled so far. */
  series(): Record<string, EndpointSeries> {
    const out: Record<string, EndpointSeries> = {};
    for (const [name, ring] of this.rings) out[name] = ring.series();
    return out;
  }

  /** Takes one sample now. */
  async sample(): Promise<void> {
    const docs = await this.status();
    const t = Math.floor(this.clock.now() / 1000);
    for (const doc of docs) {
      if (doc.EndpointStatus !== 'InService') continue;
      const b = doc['Backlog'] as { Queued: number; Running: number };
      const p = this.pending.get(doc.EndpointName) ?? { completed: 0, failed: 0 };
      this.pending.delete(doc.EndpointName);
      let ring = this.rings.get(doc.EndpointName);
      if (ring === undefined) this.rings.set(doc.EndpointName, ring = new Ring());
      ring.push([t, b.Queued + b.Running, p.completed, p.failed]);
    }
  }

  /** Samples every {@link SAMPLE_INTERVAL_MS} until {@link stop}. */
  start(): void {
    if (this.timer) return;
    const tick = (): void => {
      this.sample().catch((err: unknown) => this.logger.warn('dashboard sample failed', { error: err instanceof Error ? err.message : String(err) }));
    };
    tick();
    this.timer = setInterval(tick, SAMPLE_INTERVAL_MS);
    this.timer.unref();
  }

  /** Stops sampling. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

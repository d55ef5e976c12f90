/**
 * The JobQueue port: durable storage of asynchronous inference requests ("jobs") and their
 * lifecycle. The embedded SQLite backend implements it first; a Redis (BullMQ) backend must pass
 * the same behaviour suite (test/queue/behaviour.ts).
 *
 * Glossary: a *job* is one accepted InvokeEndpointAsync request. It is *queued* until a worker
 * *claims* it, which gives the worker a *lease* (renewed by heartbeat) and moves it to *running*.
 * A worker that dies loses its lease; the job is then claimed again (its *attempts* count grows).
 * A job ends in exactly one terminal state: succeeded, failed, expired or cancelled. A failed job
 * may be *retried* by its endpoint's retry policy (it goes back to the queue with a not-before
 * time, its attempt counted) and a finished one *re-run* on request ({@link JobQueue.rerun}).
 */

/** Lifecycle states of a job. */
export type JobState = 'queued' | 'running' | 'succeeded' | 'failed' | 'expired' | 'cancelled';

/** Terminal states. */
export type TerminalState = Exclude<JobState, 'queued' | 'running'>;

/** An object-store location (`s3://bucket/key`). */
export interface ObjectLocation {
  readonly bucket: string;
  readonly key: string;
}

/** Where the job's payload comes from. */
export type JobInput =
  | { readonly kind: 'object'; readonly location: ObjectLocation }
  | { readonly kind: 'inline'; readonly body: Buffer }
  | { readonly kind: 'url'; readonly url: string };

/** A request to enqueue. */
export interface NewJob {
  /** Unique per endpoint; the idempotency key. */
  readonly inferenceId: string;
  readonly endpoint: string;
  readonly input: JobInput;
  readonly contentType?: string;
  readonly accept?: string;
  readonly customAttributes?: string;
  readonly output: ObjectLocation;
  readonly failure: ObjectLocation;
  readonly invocationTimeoutSeconds: number;
  /** Epoch ms when the request was accepted. */
  readonly receivedAt: number;
  /** Epoch ms after which a still-queued job expires (receivedAt + RequestTTLSeconds). */
  readonly expiresAt: number;
  /** Hash of the request parameters; a repeated inferenceId with another fingerprint is a conflict. */
  readonly fingerprint: string;
}

/** A stored job. */
export interface Job extends NewJob {
  /** Backend-assigned id, stable for the job's life. */
  readonly id: string;
  readonly state: JobState;
  /** Number of times the job was claimed. */
  readonly attempts: number;
  readonly startedAt?: number;
  readonly finishedAt?: number;
  /** For failed/expired/cancelled jobs: the reason written to the failure object. */
  readonly failureReason?: string;
  /** Epoch ms before which a queued job (waiting for its retry) is not claimed. */
  readonly notBefore?: number;
  /** True once a cancel was requested: whoever holds (or next claims) the job finishes it `cancelled`. */
  readonly cancelRequested?: true;
}

/** What {@link JobQueue.cancel} did. */
export interface CancelResult {
  /**
   * `leased`: the job was queued and is now leased to the caller, who writes its failure object
   * and finishes it `cancelled` (if the caller dies, the next claimer does, without running it).
   * `requested`: it is running; its worker learns it ({@link JobQueue.cancelRequested}) and aborts.
   * `finished`: it had already finished; nothing changed.
   */
  readonly outcome: 'leased' | 'requested' | 'finished';
  readonly job: Job;
}

/** What {@link JobQueue.rerun} did. */
export interface RerunResult {
  /**
   * `leased`: the finished job is reset (attempts 0, no outcome, new expiry) and leased to the
   * caller, who removes its old failure object and then {@link JobQueue.release}s it to the queue.
   * `refused`: it is queued, running or succeeded; nothing changed.
   */
  readonly outcome: 'leased' | 'refused';
  readonly job: Job;
}

/** A page query of {@link JobQueue.list}. */
export interface ListQuery {
  /** Only jobs in this state; all when absent. */
  readonly state?: JobState;
  /** Most jobs to return (1..1000). */
  readonly limit: number;
  /** Only jobs older than this id (the `next` of the previous page). */
  readonly before?: string;
}

/** One page of {@link JobQueue.list}: newest first. */
export interface JobPage {
  readonly jobs: readonly Job[];
  /** The `before` of the next page; absent on the last page. */
  readonly next?: string;
}

/** The outcome a worker records. */
export interface JobOutcome {
  readonly state: TerminalState;
  readonly failureReason?: string;
}

/** One entry of {@link JobQueue.finishMany}: the outcome to record for job `id`. */
export interface JobFinish {
  readonly id: string;
  readonly outcome: JobOutcome;
}

/** Result of {@link JobQueue.enqueue}. */
export interface EnqueueResult {
  readonly job: Job;
  /** False when an identical request with the same inferenceId already existed (idempotent replay). */
  readonly created: boolean;
}

/** Counts for one endpoint (the backlog metrics). */
export interface QueueStats {
  readonly queued: number;
  readonly running: number;
  /** Age in ms of the oldest queued job, 0 when none. */
  readonly oldestQueuedAgeMs: number;
}

/**
 * Durable job storage. Methods throw {@link InferqError}: `InferenceIdConflict` when an
 * inferenceId is reused with different parameters, `ServiceUnavailable` when closed or overloaded.
 */
export interface JobQueue {
  /** Stores a job durably; resolves only once it would survive a crash of this process. */
  enqueue(job: NewJob): Promise<EnqueueResult>;
  /**
   * Leases up to `max` jobs of `endpoint`, oldest first: queued jobs that have not expired, and
   * running jobs whose lease ran out (their previous worker died). Each claim increments attempts.
   */
  claim(endpoint: string, owner: string, max: number, leaseMs: number, now: number): Promise<Job[]>;
  /** Extends the leases `owner` holds on `ids`; returns the ids whose lease was lost. */
  renew(owner: string, ids: readonly string[], leaseMs: number, now: number): Promise<string[]>;
  /** Records a terminal outcome if `owner` still holds the lease; false when the lease was lost. */
  finish(owner: string, id: string, outcome: JobOutcome, now: number): Promise<boolean>;
  /**
   * {@link finish} for several jobs at once, in one round trip and one transaction where the
   * backend has them (a worker records the outcomes that became ready together in one call).
   * Resolves to one result per entry, in order: true where `owner` still held the lease. Rejects
   * with InvalidArgument, recording nothing, when any outcome is not terminal; a storage failure
   * rejects the whole call, and no outcome of it is recorded.
   */
  finishMany(owner: string, finishes: readonly JobFinish[], now: number): Promise<boolean[]>;
  /** Gives a leased job back to the queue without counting the attempt (e.g. the model became unhealthy). */
  release(owner: string, id: string): Promise<void>;
  /**
   * Gives a leased job back without counting the attempt, to be claimed again no earlier than
   * `until` (epoch ms): the retry of a job whose result inferq's own storage could not take. The
   * job stays `running` meanwhile (it has started) with nobody working on it: its lease simply
   * ends at `until`, and {@link claim} takes it then like any job whose lease ran out.
   */
  defer(owner: string, id: string, until: number): Promise<void>;
  /**
   * Puts `owner`'s leased job back in the queue, not claimable before `notBefore` (epoch ms), its
   * attempt still counted: the retry policy's durable wait. False when the lease was lost.
   */
  retryLater(owner: string, id: string, notBefore: number): Promise<boolean>;
  /** Requests the cancel of a job (see {@link CancelResult}); undefined when there is no such job. */
  cancel(endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number): Promise<CancelResult | undefined>;
  /** Of `ids`, those whose cancel was requested (a worker asks with each lease renewal). */
  cancelRequested(ids: readonly string[]): Promise<string[]>;
  /**
   * Resets a failed, expired or cancelled job for another run (see {@link RerunResult}), leased to
   * `owner` until `now + leaseMs`, expiring at `expiresAt`; undefined when there is no such job.
   */
  rerun(endpoint: string, inferenceId: string, owner: string, leaseMs: number, now: number, expiresAt: number): Promise<RerunResult | undefined>;
  /** Jobs of `endpoint`, newest first, a page at a time (keyset on the id: stable under inserts). */
  list(endpoint: string, query: ListQuery): Promise<JobPage>;
  /** Leases up to `max` queued jobs whose expiresAt has passed (for the TTL sweeper). */
  claimExpired(owner: string, max: number, leaseMs: number, now: number): Promise<Job[]>;
  /** Releases every lease held by `owner` (a worker process known to be dead). */
  releaseOwner(owner: string): Promise<number>;
  get(endpoint: string, inferenceId: string): Promise<Job | undefined>;
  stats(endpoint: string, now: number): Promise<QueueStats>;
  /** Calls `listener` when jobs for an endpoint may have become claimable (same-process fast path). */
  onAvailable(listener: (endpoint: string) => void): () => void;
  close(): Promise<void>;
}

/**
 * Registry of the worker processes that hold leases, so the leases of a process that died are
 * released at once instead of each waiting to run out: a restarted process finds the dead
 * processes of its own host by pid ({@link deadWorkers}); any process finds those, on any host,
 * whose heartbeat stopped ({@link staleWorkers}). An *owner* is the lease-owner string a process
 * passes to {@link JobQueue.claim}.
 */
export interface WorkerRegistry {
  /** Records (or re-records) `owner` as running in process `pid` on `hostname`. */
  registerWorker(owner: string, pid: number, hostname: string, now: number): Promise<void>;
  /** Refreshes `owner`'s heartbeat; false when `owner` is not registered (e.g. it was reaped). */
  heartbeatWorker(owner: string, now: number): Promise<boolean>;
  /** Forgets `owner` (clean shutdown, or after its leases were released). */
  unregisterWorker(owner: string): Promise<void>;
  /**
   * Owners registered on `hostname` whose process is gone according to `isAlive`. A pid can be
   * reused (a container's main process is often pid 1 after every restart), so call this at
   * startup before registering this process's own owners, with an `isAlive` that answers false
   * for the caller's own pid.
   */
  deadWorkers(hostname: string, isAlive: (pid: number) => boolean): Promise<string[]>;
  /**
   * Owners, on any host, whose last heartbeat (or registration) is older than `heartbeatBefore`
   * (epoch ms), oldest first: processes presumed dead, whose leases a survivor releases.
   */
  staleWorkers(heartbeatBefore: number): Promise<string[]>;
}

/** One endpoint a worker process serves real-time calls for, as it published it. */
export interface RouteEndpoint {
  readonly name: string;
  /** Calls the process can take in flight now (healthy instances × concurrency; 0 while starting). */
  readonly capacity: number;
  /** Calls in flight there now (real-time and async). */
  readonly inFlight: number;
}

/** A worker process's forwarding listener, as published in the registry ({@link RouteRegistry}). */
export interface WorkerRoute {
  /** The publishing process (its lease owner string). */
  readonly owner: string;
  /** Where API processes send forwarded real-time calls (`worker.advertiseUrl`). */
  readonly url: string;
  readonly endpoints: readonly RouteEndpoint[];
  /** Epoch ms of the last publication (its heartbeat). */
  readonly updatedAt: number;
}

/** Real-time demand an API process recorded for an endpoint no worker served. */
export interface EndpointDemand {
  readonly endpoint: string;
  /** Calls waiting in the recording process. */
  readonly waiting: number;
  /** Epoch ms of the last record. */
  readonly at: number;
}

/**
 * Where real-time calls go across processes: worker processes publish their forwarding routes
 * (URL, endpoints, capacity and load) and refresh them like a heartbeat; API-only processes read
 * the fresh ones and record demand for endpoints nobody serves, which workers with
 * `instances.min: 0` turn into a cold start.
 */
export interface RouteRegistry {
  /** Records (or replaces) `route` for its owner. */
  publishRoute(route: WorkerRoute): Promise<void>;
  /** Forgets `owner`'s route (clean shutdown). */
  withdrawRoute(owner: string): Promise<void>;
  /** Routes published at or after `updatedSince` (epoch ms), by owner. */
  routes(updatedSince: number): Promise<WorkerRoute[]>;
  /** Records that `waiting` real-time calls for `endpoint` wait for a route (keeps the largest recent count). */
  recordDemand(endpoint: string, waiting: number, now: number): Promise<void>;
  /** Demand recorded at or after `since` (epoch ms), by endpoint. */
  demand(since: number): Promise<EndpointDemand[]>;
}

/**
 * What the composition root opens for a configured queue backend: the JobQueue, its worker
 * registry, and the retention purge of finished jobs.
 */
export interface QueueBackend extends JobQueue, WorkerRegistry, RouteRegistry {
  /** Deletes terminal jobs that finished before `olderThan` (epoch ms); resolves to how many. */
  purgeFinished(olderThan: number): Promise<number>;
}

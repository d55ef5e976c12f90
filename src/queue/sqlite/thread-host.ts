/**
 * The queue thread: owns the SQLite connection (inserts, commits, checkpoints all happen here, off
 * the event loop that serves HTTP) and serves the calls of threaded.ts one message at a time.
 * Calls that arrive together are started together, so enqueue messages that arrive together share
 * one transaction, as the enqueues of one tick do on a single thread.
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { Logger, LogLevel } from '../../util/index.js';
import { openJobDatabase } from './schema.js';
import { createStatements, type InsertRow } from './statements.js';
import { SqliteQueue } from './queue.js';
import { toWireError, type CallMessage, type EnqueueReply, type QueueThreadApi, type QueueThreadData, type ThreadMessage } from './thread-protocol.js';

function forwardingLogger(post: (message: ThreadMessage) => void): Logger {
  const log = (level: LogLevel) => (message: string, fields?: Record<string, unknown>): void => {
    try {
      post({ type: 'log', level, message, ...(fields ? { fields } : {}) });
    } catch {
      post({ type: 'log', level, message, fields: { fields: Object.keys(fields ?? {}).join(',') } }); // a field value that cannot be cloned
    }
  };
  const logger: Logger = { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error'), child: () => logger };
  return logger;
}

/** The API of the thread over one opened queue. */
function threadApi(queue: SqliteQueue): QueueThreadApi {
  return {
    async enqueueMany(rows: readonly InsertRow[]): Promise<EnqueueReply[]> {
      const outcomes = await queue.enqueueMany(rows);
      return outcomes.map((outcome): EnqueueReply => {
        if (typeof outcome === 'number') return outcome;
        return 'error' in outcome ? { kind: 'failed', error: toWireError(outcome.error) } : { kind: 'existing', job: outcome.existing };
      });
    },
    claim: (...args) => queue.claim(...args),
    renew: (...args) => queue.renew(...args),
    finish: (...args) => queue.finish(...args),
    finishMany: (...args) => queue.finishMany(...args),
    release: (...args) => queue.release(...args),
    defer: (...args) => queue.defer(...args),
    claimExpired: (...args) => queue.claimExpired(...args),
    retryLater: (...args) => queue.retryLater(...args),
    cancel: (...args) => queue.cancel(...args),
    cancelRequested: (...args) => queue.cancelRequested(...args),
    rerun: (...args) => queue.rerun(...args),
    list: (...args) => queue.list(...args),
    releaseOwner: (...args) => queue.releaseOwner(...args),
    get: (...args) => queue.get(...args),
    stats: (...args) => queue.stats(...args),
    registerWorker: (...args) => queue.registerWorker(...args),
    heartbeatWorker: (...args) => queue.heartbeatWorker(...args),
    unregisterWorker: (...args) => queue.unregisterWorker(...args),
    workersOnHost: (...args) => queue.workersOnHost(...args),
    staleWorkers: (...args) => queue.staleWorkers(...args),
    publishRoute: (...args) => queue.publishRoute(...args),
    withdrawRoute: (...args) => queue.withdrawRoute(...args),
    routes: (...args) => queue.routes(...args),
    recordDemand: (...args) => queue.recordDemand(...args),
    demand: (...args) => queue.demand(...args),
    purgeFinished: (...args) => queue.purgeFinished(...args),
    seedForBenchmark: (...args) => queue.seedForBenchmark(...args),
    close: () => queue.close(),
  };
}

function serve(): void {
  const port = parentPort;
  if (port === null) throw new Error('thread-host.ts runs only as a worker thread');
  const data = workerData as QueueThreadData;
  const post = (message: ThreadMessage): void => port.postMessage(message);
  const db = openJobDatabase(data.file);
  const queue = new SqliteQueue({ db, stmts: createStatements(db), logger: forwardingLogger(post) }, data.maxBatchDelayMs, data.durability);
  queue.onAvailable((endpoint) => post({ type: 'available', endpoint }));
  const api = threadApi(queue);
  const answering = new Set<Promise<void>>();
  port.on('message', (call: CallMessage) => {
    const method = api[call.method].bind(api) as (...args: readonly unknown[]) => Promise<unknown>;
    // close() answers last: after every earlier call (whose enqueues it commits) has been answered.
    const earlier = call.method === 'close' ? [...answering] : [];
    const result = method(...call.args);
    const settled = earlier.length === 0 ? result : Promise.allSettled([result, ...earlier]).then(() => result);
    const answer = settled.then(
      (value) => post({ type: 'reply', id: call.id, value, commits: queue.commitCount() }),
      (err: unknown) => post({ type: 'error', id: call.id, error: toWireError(err), commits: queue.commitCount() }),
    );
    answering.add(answer);
    void answer.finally(() => answering.delete(answer));
  });
}

serve();

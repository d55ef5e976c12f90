/**
 * Opening the storage adapters the configuration names: the object store (embedded or S3) with the
 * endpoints' buckets, the job queue (SQLite in the data directory or a PostgreSQL schema) and the
 * control-plane resources beside it. Failures to reach a backend are StartupErrors naming it.
 */
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { EndpointConfig, ObjectsConfig, ResolvedConfig } from '../config/index.js';
import { InferqError, StartupError, isInferqError } from '../errors/index.js';
import { openLocalObjectStore, openS3ObjectStore, type ObjectStore } from '../objects/index.js';
import {
  openPostgresJobQueue, openPostgresResourceStore, openSqliteJobQueue, openSqliteResourceStore, type QueueBackend, type ResourceStore,
} from '../queue/index.js';
import type { Clock, Logger } from '../util/index.js';
import { QUEUE_DB, openInDataDir } from './data-dir.js';

/** Fetches an `http(s)` input location (the URL input path of async requests). */
export async function fetchUrl(url: string, signal: AbortSignal): Promise<{ body: Readable; length?: number }> {
  const res = await fetch(url, { signal, redirect: 'error' });
  if (!res.ok || !res.body) throw new InferqError('InvalidArgument', `GET ${url} answered ${res.status}`);
  const length = Number(res.headers.get('content-length') ?? NaN);
  return { body: Readable.fromWeb(res.body as WebReadableStream<Uint8Array>), ...(Number.isFinite(length) ? { length } : {}) };
}

/** Creates the endpoints' output and failure buckets that are missing (on whichever backend); an S3 backend that fails is a StartupError. */
export async function ensureBuckets(store: ObjectStore, endpoints: readonly EndpointConfig[], objects: ObjectsConfig): Promise<void> {
  const buckets = new Set(endpoints.flatMap((e) => [e.async.output.bucket, e.async.failure.bucket]));
  for (const bucket of buckets) {
    try {
      await store.createBucket(bucket);
    } catch (err) {
      if (isInferqError(err, 'BucketAlreadyOwnedByYou')) continue;
      if (objects.backend !== 's3' || !isInferqError(err)) throw err;
      const where = objects.s3.endpoint ?? `AWS S3 (${objects.s3.region})`;
      throw new StartupError('objects-backend', where, `cannot create the output bucket ${bucket} on the S3 backend ${where}: ${err.code}: ${err.message}`, { cause: err });
    }
  }
}

/** The object store the configuration names: the embedded one in the data directory, or an S3 API. */
export async function openObjectStore(config: ResolvedConfig, logger: Logger, clock: Clock): Promise<ObjectStore> {
  const { objects, server: cfg } = config;
  if (objects.backend === 's3') return openS3ObjectStore(objects.s3);
  return openInDataDir(cfg.dataDir, 'object store', () => openLocalObjectStore({ dataDir: cfg.dataDir, clock, logger: logger.child('objects') }));
}

/** The URL without its password, for messages. */
function redactedUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(the configured queue.url)';
  }
}

/** Opens the configured queue backend: SQLite in the data directory, or a PostgreSQL schema (LISTENing at once when this process runs workers). */
export async function openQueue(config: ResolvedConfig, logger: Logger, clock: Clock, withWorkers: boolean): Promise<QueueBackend> {
  const { server: cfg, queue: q } = config;
  if (q.backend === 'sqlite') {
    return openInDataDir(cfg.dataDir, 'queue database', () => openSqliteJobQueue({ file: join(cfg.dataDir, QUEUE_DB), clock, logger: logger.child('queue'), durability: cfg.queueDurability }));
  }
  try {
    return await openPostgresJobQueue({ url: q.url, schema: q.schema, maxConnections: q.maxConnections, listen: withWorkers, logger: logger.child('queue'), ...(q.password !== undefined ? { password: q.password } : {}) });
  } catch (err) {
    const url = redactedUrl(q.url);
    const cause: unknown = err instanceof Error ? err.cause : undefined;
    const reason = cause instanceof Error ? cause.message : err instanceof Error ? err.message : String(err);
    throw new StartupError('queue-open', url, `cannot open the job queue in schema ${q.schema} of ${url}: ${reason}`, { cause: err });
  }
}

/** Opens the control-plane resources in the queue database of the configured backend. */
export async function openResources(config: ResolvedConfig, logger: Logger): Promise<ResourceStore> {
  const { server: cfg, queue: q } = config;
  if (q.backend === 'sqlite') return openInDataDir(cfg.dataDir, 'queue database', () => openSqliteResourceStore(join(cfg.dataDir, QUEUE_DB)));
  try {
    return await openPostgresResourceStore({ url: q.url, schema: q.schema, logger: logger.child('resources'), ...(q.password !== undefined ? { password: q.password } : {}) });
  } catch (err) {
    const url = redactedUrl(q.url);
    throw new StartupError('queue-open', url, `cannot open the control-plane resources in schema ${q.schema} of ${url}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

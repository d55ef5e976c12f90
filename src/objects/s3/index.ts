/**
 * The S3 backend of the ObjectStore port: objects on any S3 API (AWS S3, MinIO, Ceph, moto, or
 * another inferq's embedded store) through `@aws-sdk/client-s3`. Without configured keys the
 * client takes the AWS default credential chain (environment, profile, container or instance role).
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { ObjectStore } from '../port.js';
import { S3ObjectStore } from './store.js';

/** Options of {@link openS3ObjectStore} (the `objects.s3` settings). */
export interface S3ObjectStoreOptions {
  /** The S3 API's base URL; undefined for AWS S3 (the region's endpoint). */
  readonly endpoint?: string;
  readonly region: string;
  /** Path-style addressing (`endpoint/bucket/key`), which MinIO, Ceph and moto need. */
  readonly forcePathStyle: boolean;
  /** Static keys; undefined: the AWS default credential chain. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Most connections kept open to the backend. @default 64 */
  readonly maxSockets?: number;
  /** Attempts per call the SDK makes on throttling, 5xx and network errors (bodies that stream are not replayed). @default 3 */
  readonly maxAttempts?: number;
}

/** Seconds a connection attempt to the backend may take before the call fails as StorageUnavailable. */
const CONNECT_TIMEOUT_MS = 5_000;

/**
 * Opens an S3-backed object store. Nothing is sent until the first call: a backend that is down
 * at start shows as StorageUnavailable on use (async work waits and is retried).
 */
export function openS3ObjectStore(options: S3ObjectStoreOptions): ObjectStore {
  const client = new S3Client({
    region: options.region,
    forcePathStyle: options.forcePathStyle,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(options.credentials === undefined ? {} : { credentials: { ...options.credentials } }),
    maxAttempts: options.maxAttempts ?? 3,
    // inferq states the checksums it wants (and S3 verifies them); none are added by default.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    requestHandler: { connectionTimeout: CONNECT_TIMEOUT_MS, httpAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 64 }, httpsAgent: { keepAlive: true, maxSockets: options.maxSockets ?? 64 } },
  });
  return new S3ObjectStore(client, options.region);
}

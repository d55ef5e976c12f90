/**
 * Storage faults of inferq's own disk: which failures count (by their errno / SQLite code, along
 * the cause chain), how they are reported (StorageFull / StorageReadOnly, 503, retryable), and
 * the backoff of the work retried after one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { InferqError, isStorageFault, toInferqError, toStorageFault } from '../../src/errors/index.js';
import { sleepUnlessAborted, storageRetryDelay } from '../../src/worker/backoff.js';

function systemError(code: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: failed, write`), { code });
}

test('ENOSPC, EDQUOT and SQLITE_FULL are StorageFull; EROFS and SQLITE_READONLY* StorageReadOnly; both 503 and retryable', () => {
  for (const code of ['ENOSPC', 'EDQUOT']) assert.equal(toInferqError(systemError(code)).code, 'StorageFull', code);
  assert.equal(toInferqError(new Database.SqliteError('database or disk is full', 'SQLITE_FULL')).code, 'StorageFull');
  assert.equal(toInferqError(systemError('EROFS')).code, 'StorageReadOnly');
  assert.equal(toInferqError(new Database.SqliteError('attempt to write a readonly database', 'SQLITE_READONLY_DBMOVED')).code, 'StorageReadOnly');
  const full = toInferqError(systemError('ENOSPC'));
  assert.equal(full.httpStatus, 503);
  assert.equal(full.retryable, true);
  assert.equal(full.spec.s3, 'ServiceUnavailable');
  assert.equal(full.spec.sagemaker, 'ServiceUnavailable');
  assert.match(full.message, /storage is full/);
  assert.equal((full.cause as NodeJS.ErrnoException).code, 'ENOSPC');
  assert.ok(isStorageFault(full));
});

test('a storage fault is found along the cause chain; other failures are not storage faults', () => {
  const wrapped = new Error('commit failed', { cause: new Error('sync failed', { cause: systemError('ENOSPC') }) });
  assert.equal(toStorageFault(wrapped)?.code, 'StorageFull');
  assert.equal(toStorageFault(new InferqError('InternalError', 'x', {}, { cause: systemError('EDQUOT') }))?.code, 'StorageFull');
  const known = new InferqError('StorageFull', 'already reported');
  assert.equal(toStorageFault(known), known);
  for (const other of [systemError('EIO'), systemError('ECONNRESET'), new Database.SqliteError('busy', 'SQLITE_BUSY'), new TypeError('boom'), 'ENOSPC', undefined]) {
    assert.equal(toStorageFault(other), undefined, String(other));
  }
  assert.equal(toInferqError(systemError('EIO')).code, 'InternalError');
  assert.equal(isStorageFault(new InferqError('ServiceUnavailable', 'busy')), false);
  // A cycle of causes ends the search instead of looping.
  const a: { code?: string; cause?: unknown } = {};
  a.cause = a;
  assert.equal(toStorageFault(a), undefined);
});

test('the storage retry backoff doubles from the first wait up to the longest', () => {
  const policy = { initialMs: 1000, maxMs: 30_000 };
  assert.deepEqual([1, 2, 3, 4, 5, 6, 7, 100].map((n) => storageRetryDelay(policy, n)), [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
  assert.equal(storageRetryDelay({ initialMs: 200, maxMs: 1000 }, 0), 200);
});

test('the backoff wait ends early when its signal aborts', async () => {
  const abort = new AbortController();
  const started = performance.now();
  const wait = sleepUnlessAborted(60_000, abort.signal);
  abort.abort();
  await wait;
  assert.ok(performance.now() - started < 30_000);
  await sleepUnlessAborted(60_000, abort.signal); // already aborted: resolves at once
});

test('StorageUnavailable (an S3 backend that is unreachable or failing) is a storage fault: 503, retryable', () => {
  const err = new InferqError('StorageUnavailable', 'The S3 backend could not be reached');
  assert.ok(isStorageFault(err));
  assert.equal(err.httpStatus, 503);
  assert.equal(err.retryable, true);
  assert.equal(err.spec.s3, 'ServiceUnavailable');
  assert.equal(isStorageFault(new InferqError('ServiceUnavailable', 'busy')), false);
});

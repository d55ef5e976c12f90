/**
 * S3 fidelity with real boto3 (scenarios of test/python/s3_fidelity.py) and the aws CLI `s3api`
 * commands: odd keys in DeleteObjects, conditional writes, part reads, emptying a bucket with lost
 * uploads, conditional reads.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { aws, awsEnv, run } from '../helpers/clients.js';

const SCRIPT = join(ROOT, 'test/python/s3_fidelity.py');

let server: ServerProcess;
let work: string;

before(async () => {
  server = await startServer();
  work = tempDir('inferq-fidelity-');
});
after(async () => {
  await server?.stop();
  server?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

type ErrorPair = [code: string, status: number];

/** Runs one scenario; asserts exit code 0 and returns its JSON. */
async function scenario<T>(name: string, bucket: string): Promise<T> {
  const r = await run('python3', [SCRIPT, name, bucket], awsEnv(server.url));
  assert.equal(r.code, 0, `scenario ${name} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

/** Runs `aws s3api …` and parses its JSON answer; asserts success. */
async function s3api<T>(...args: string[]): Promise<T> {
  const r = await aws(server.url, ['s3api', ...args, '--output', 'json']);
  assert.equal(r.code, 0, `aws s3api ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return (r.stdout.trim() ? JSON.parse(r.stdout) : {}) as T;
}

describe('boto3: S3 fidelity', () => {
  test('delete_objects with quotes, apostrophes, ampersands and angle brackets in keys deletes them all', async () => {
    const out = await scenario<{ deleted: string[]; errors: unknown[]; left: number }>('delete_odd_keys', 'py-odd-keys');
    assert.deepEqual(out.deleted, ['<tag>', 'a&b', "it's", 'say "hi"', 'semi;colon', 'ü/日本']);
    assert.deepEqual(out.errors, []);
    assert.equal(out.left, 0);
  });

  test('put_object and complete_multipart_upload with IfNoneMatch / IfMatch; a repeated completion', async () => {
    const out = await scenario<Record<string, ErrorPair | string | number[]>>('conditional_writes', 'py-cond-writes');
    assert.deepEqual(out['again'], ['PreconditionFailed', 412]);
    assert.deepEqual(out['wrong'], ['PreconditionFailed', 412]);
    assert.deepEqual(out['missing'], ['NoSuchKey', 404]);
    assert.equal(out['kept'], 'first');
    assert.equal(out['replaced'], 'second');
    assert.deepEqual(out['blocked'], ['PreconditionFailed', 412]);
    assert.deepEqual(out['stillOpen'], [1, 2], 'a refused completion leaves the upload open');
    assert.match(String(out['done']), /^"[0-9a-f]{32}-2"$/);
    assert.equal(out['repeated'], out['done']);
  });

  test('get_object / head_object with PartNumber', async () => {
    const out = await scenario<Record<string, unknown>>('parts', 'py-parts');
    assert.deepEqual(out['parts'], [[206, 3, 5 * 1024 * 1024], [206, 3, 5 * 1024 * 1024 + 7], [206, 3, 100]]);
    assert.deepEqual(out['head'], [206, 5 * 1024 * 1024 + 7, 3]);
    assert.deepEqual(out['beyond'], ['InvalidPartNumber', 416]);
    assert.deepEqual(out['withRange'], ['InvalidRequest', 400]);
    assert.deepEqual(out['plain'], [206, 'bytes 0-9/10', false, '0123456789']);
    assert.deepEqual(out['plainBeyond'], ['InvalidPartNumber', 416]);
  });

  test('a bucket whose upload ids were lost is emptied with the list_multipart_uploads paginator', async () => {
    const out = await scenario<{ notEmpty: ErrorPair; found: string[]; distinct: number; prefixes: string[]; gone: number }>('lost_upload', 'py-lost');
    assert.deepEqual(out.notEmpty, ['BucketNotEmpty', 409]);
    assert.deepEqual(out.found, ['lost/0/file', 'lost/0/file', 'lost/0/file', 'lost/1/file', 'lost/1/file']);
    assert.equal(out.distinct, 5);
    assert.deepEqual(out.prefixes, ['lost/0/', 'lost/1/']);
    assert.equal(out.gone, 404);
  });

  test('get_object / head_object with each condition and the documented combinations', async () => {
    const out = await scenario<Record<string, [number, number]>>('conditional_reads', 'py-cond-reads');
    assert.deepEqual(out, {
      ifMatch: [200, 200],
      ifMatchOther: [412, 412],
      ifNoneMatch: [304, 304],
      ifNoneMatchOther: [200, 200],
      ifModifiedSinceEarlier: [200, 200],
      ifModifiedSinceNow: [304, 304],
      ifUnmodifiedSinceEarlier: [412, 412],
      ifUnmodifiedSinceNow: [200, 200],
      matchWinsOverUnmodified: [200, 200],
      noneMatchFalseModifiedTrue: [304, 304],
    });
  });
});

describe('aws CLI: S3 fidelity', () => {
  test('s3api list-multipart-uploads finds a lost upload; abort-multipart-upload; delete-bucket succeeds', async () => {
    await s3api('create-bucket', '--bucket', 'cli-lost');
    await s3api('create-multipart-upload', '--bucket', 'cli-lost', '--key', 'forgotten.bin');
    const blocked = await aws(server.url, ['s3api', 'delete-bucket', '--bucket', 'cli-lost']);
    assert.notEqual(blocked.code, 0);
    assert.match(blocked.stderr, /BucketNotEmpty/);
    const listed = await s3api<{ Uploads?: { Key: string; UploadId: string }[] }>('list-multipart-uploads', '--bucket', 'cli-lost');
    assert.equal(listed.Uploads?.length, 1);
    const [upload] = listed.Uploads ?? [];
    assert.equal(upload?.Key, 'forgotten.bin');
    await s3api('abort-multipart-upload', '--bucket', 'cli-lost', '--key', upload.Key, '--upload-id', upload.UploadId);
    await s3api('delete-bucket', '--bucket', 'cli-lost');
  });

  test('s3api put-object --if-none-match "*" refuses to overwrite; get-object --part-number', async () => {
    await s3api('create-bucket', '--bucket', 'cli-cond');
    const src = join(work, 'body.txt');
    writeFileSync(src, 'created once');
    await s3api('put-object', '--bucket', 'cli-cond', '--key', 'k', '--body', src, '--if-none-match', '*');
    writeFileSync(src, 'overwritten');
    const again = await aws(server.url, ['s3api', 'put-object', '--bucket', 'cli-cond', '--key', 'k', '--body', src, '--if-none-match', '*']);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /PreconditionFailed/);
    const out = join(work, 'part.out');
    const part = await s3api<{ ContentRange?: string; PartsCount?: number }>('get-object', '--bucket', 'cli-cond', '--key', 'k', '--part-number', '1', out);
    assert.equal(part.ContentRange, 'bytes 0-11/12');
    assert.equal(part.PartsCount, undefined);
    assert.equal(readFileSync(out, 'utf8'), 'created once');
  });
});

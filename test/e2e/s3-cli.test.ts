/** The S3 API with the real `aws` CLI: high-level `s3` commands, presigned URLs, a 100 MB multipart transfer and `s3api` errors. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { startServer, tempDir, type ServerProcess } from '../helpers/server.js';
import { aws, awsEnv, run, type RunResult } from '../helpers/clients.js';

let server: ServerProcess;
let work: string;

before(async () => {
  server = await startServer();
  work = tempDir('inferq-cli-');
});
after(async () => {
  await server?.stop();
  server?.cleanup();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs the CLI and asserts it succeeded; returns stdout. */
async function ok(args: string[]): Promise<string> {
  const r = await aws(server.url, args);
  assert.equal(r.code, 0, `aws ${args.join(' ')} failed (${r.code}):\n${r.stderr}`);
  return r.stdout;
}

/** Runs the CLI and asserts it failed; returns the result. */
async function fails(args: string[]): Promise<RunResult> {
  const r = await aws(server.url, args);
  assert.notEqual(r.code, 0, `aws ${args.join(' ')} unexpectedly succeeded:\n${r.stdout}`);
  return r;
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/** Writes `size` random bytes to `path` in 1 MiB chunks, never holding the whole file in memory. */
async function writeRandomFile(path: string, size: number): Promise<void> {
  function* chunks(): Generator<Buffer> {
    for (let left = size; left > 0; left -= 1 << 20) yield randomBytes(Math.min(left, 1 << 20));
  }
  await pipeline(Readable.from(chunks()), createWriteStream(path));
}

describe('aws CLI (s3 high-level commands)', () => {
  test('mb, cp up and down, ls (bucket and recursive), rm', async () => {
    assert.match(await ok(['s3', 'mb', 's3://cli-basic']), /make_bucket: cli-basic/);
    const src = join(work, 'hello.txt');
    writeFileSync(src, 'hello from the aws cli\n');
    await ok(['s3', 'cp', src, 's3://cli-basic/dir/hello.txt', '--only-show-errors']);
    await ok(['s3', 'cp', src, 's3://cli-basic/top.txt', '--only-show-errors']);

    const down = join(work, 'hello.down.txt');
    await ok(['s3', 'cp', 's3://cli-basic/dir/hello.txt', down, '--only-show-errors']);
    assert.equal(readFileSync(down, 'utf8'), 'hello from the aws cli\n');

    const buckets = await ok(['s3', 'ls']);
    assert.match(buckets, /\bcli-basic$/m);
    const top = await ok(['s3', 'ls', 's3://cli-basic']);
    assert.match(top, /^\s+PRE dir\/$/m);
    assert.match(top, /\s23 top\.txt$/m);
    assert.doesNotMatch(top, /hello\.txt/);
    const all = await ok(['s3', 'ls', 's3://cli-basic', '--recursive']);
    assert.deepEqual(all.trim().split('\n').map((l) => l.trim().split(/\s+/).slice(2)), [['23', 'dir/hello.txt'], ['23', 'top.txt']]);

    assert.match(await ok(['s3', 'rm', 's3://cli-basic/dir/hello.txt']), /delete: s3:\/\/cli-basic\/dir\/hello\.txt/);
    const after = await ok(['s3', 'ls', 's3://cli-basic', '--recursive']);
    assert.deepEqual(after.trim().split('\n').map((l) => l.trim().split(/\s+/).at(-1)), ['top.txt']);
    const missing = await fails(['s3', 'cp', 's3://cli-basic/dir/hello.txt', join(work, 'gone.txt'), '--only-show-errors']);
    assert.match(missing.stderr, /404|Not Found|NoSuchKey/);
  });

  test('rb on a non-empty bucket fails; rb --force empties and removes it', async () => {
    await ok(['s3', 'mb', 's3://cli-rb']);
    const src = join(work, 'rb.txt');
    writeFileSync(src, 'x');
    for (const key of ['a', 'b/c', 'b/d/e']) await ok(['s3', 'cp', src, `s3://cli-rb/${key}`, '--only-show-errors']);
    const refused = await fails(['s3', 'rb', 's3://cli-rb']);
    assert.match(refused.stderr, /BucketNotEmpty/);
    assert.equal((await ok(['s3', 'ls', 's3://cli-rb', '--recursive'])).trim().split('\n').length, 3);
    await ok(['s3', 'rb', 's3://cli-rb', '--force']);
    assert.doesNotMatch(await ok(['s3', 'ls']), /\bcli-rb$/m);
    const gone = await fails(['s3api', 'head-bucket', '--bucket', 'cli-rb']);
    assert.match(gone.stderr, /404|Not Found/);
  });
});

describe('aws CLI presigned URLs', () => {
  before(async () => {
    await ok(['s3', 'mb', 's3://cli-presign']);
    const src = join(work, 'presign.txt');
    writeFileSync(src, 'presigned body');
    await ok(['s3', 'cp', src, 's3://cli-presign/p/presign me.txt', '--only-show-errors']);
  });

  test('s3 presign (default: Signature Version 2 query auth) fetched with node fetch', async () => {
    const url = (await ok(['s3', 'presign', 's3://cli-presign/p/presign me.txt', '--expires-in', '300'])).trim();
    assert.match(url, /[?&]AWSAccessKeyId=test&/);
    assert.match(url, /[?&]Expires=\d+/);
    const res = await fetch(url);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(await res.text(), 'presigned body');
    const tampered = url.replace('/p/presign%20me.txt', '/p/other.txt');
    assert.notEqual(tampered, url);
    const bad = await fetch(tampered);
    assert.equal(bad.status, 403);
    assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  });

  test('s3 presign with signature_version = s3v4 (config file) fetched with node fetch', async () => {
    const config = join(work, 'aws-s3v4.cfg');
    writeFileSync(config, '[default]\ns3 =\n    signature_version = s3v4\n');
    const r = await run('aws', ['--endpoint-url', server.url, 's3', 'presign', 's3://cli-presign/p/presign me.txt', '--expires-in', '300'], { ...awsEnv(server.url), AWS_CONFIG_FILE: config });
    assert.equal(r.code, 0, r.stderr);
    const url = r.stdout.trim();
    assert.match(url, /[?&]X-Amz-Algorithm=AWS4-HMAC-SHA256&/);
    const res = await fetch(url);
    assert.equal(res.status, 200, await res.clone().text());
    assert.equal(await res.text(), 'presigned body');
    const bad = await fetch(url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=0000'));
    assert.equal(bad.status, 403);
    assert.match(await bad.text(), /<Code>SignatureDoesNotMatch<\/Code>/);
  });
});

describe('aws CLI multipart transfer', () => {
  test('a 100 MiB file goes up through multipart and comes back byte-identical', async () => {
    await ok(['s3', 'mb', 's3://cli-big']);
    const dir = join(work, 'big');
    mkdirSync(dir);
    const up = join(dir, 'up.bin');
    const down = join(dir, 'down.bin');
    const size = 100 * 1024 * 1024;
    await writeRandomFile(up, size);
    const want = await sha256File(up);
    await ok(['s3', 'cp', up, 's3://cli-big/nested/big.bin', '--only-show-errors']);
    const head = JSON.parse(await ok(['s3api', 'head-object', '--bucket', 'cli-big', '--key', 'nested/big.bin', '--output', 'json'])) as { ContentLength: number; ETag: string };
    assert.equal(head.ContentLength, size);
    assert.match(head.ETag, /^"[0-9a-f]{32}-13"$/, 'the CLI uploads 8 MiB parts: 13 of them');
    rmSync(up);
    await ok(['s3', 'cp', 's3://cli-big/nested/big.bin', down, '--only-show-errors']);
    assert.equal(statSync(down).size, size);
    assert.equal(await sha256File(down), want);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('aws CLI s3api', () => {
  before(async () => {
    await ok(['s3', 'mb', 's3://cli-api']);
  });

  test('get-object on a missing key exits non-zero with NoSuchKey; head-bucket on a missing bucket is 404', async () => {
    const missingKey = await fails(['s3api', 'get-object', '--bucket', 'cli-api', '--key', 'no/such/key', join(work, 'never.out')]);
    assert.match(missingKey.stderr, /NoSuchKey/);
    const missingBucketGet = await fails(['s3api', 'get-object', '--bucket', 'cli-no-such-bucket', '--key', 'k', join(work, 'never.out')]);
    assert.match(missingBucketGet.stderr, /NoSuchBucket/);
    const missingBucket = await fails(['s3api', 'head-bucket', '--bucket', 'cli-no-such-bucket']);
    assert.match(missingBucket.stderr, /\(404\)|Not Found/);
    await ok(['s3api', 'head-bucket', '--bucket', 'cli-api']);
  });

  test('list-objects-v2 paginates with --max-items/--page-size and returns unusual keys exactly', async () => {
    const names = [
      'plain.txt', 'with space.txt', 'two  spaces', 'plus+sign', 'a+b c', 'ünïcödé.txt', '日本語/ファイル.txt', 'emoji-😀', 'percent%20literal',
      'percent%', 'tilde~', 'amp&and', 'eq=sign', 'hash#tag', 'q?mark', 'semi;colon', 'comma,', 'quote\'s', 'paren(1)', 'at@sign', 'dollar$',
      'bracket[0]', 'nested/deep/dir/file', 'nested/deep/other', 'Zupper',
    ];
    const dir = join(work, 'list-src');
    for (const name of names) {
      const path = join(dir, name);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, name);
    }
    await ok(['s3', 'cp', dir, 's3://cli-api/list/', '--recursive', '--only-show-errors']);
    const expected = names.map((n) => `list/${n}`).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));

    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const args = ['s3api', 'list-objects-v2', '--bucket', 'cli-api', '--prefix', 'list/', '--max-items', '7', '--page-size', '3', '--output', 'json'];
      if (token) args.push('--starting-token', token);
      const page = JSON.parse(await ok(args)) as { Contents?: { Key: string; Size: number }[]; NextToken?: string };
      assert.ok((page.Contents?.length ?? 0) <= 7);
      for (const c of page.Contents ?? []) {
        assert.equal(c.Size, Buffer.byteLength(c.Key.slice('list/'.length)), `size of ${c.Key}`);
        seen.push(c.Key);
      }
      token = page.NextToken;
      pages++;
    } while (token);
    assert.equal(pages, 4, '25 keys in pages of at most 7 items');
    assert.deepEqual(seen, expected);

    const withSpace = await run('aws', ['--endpoint-url', server.url, 's3', 'cp', 's3://cli-api/list/a+b c', '-'], awsEnv(server.url));
    assert.equal(withSpace.code, 0, withSpace.stderr);
    assert.equal(withSpace.stdout, 'a+b c');
  });
});

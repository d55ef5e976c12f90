/** The S3 API with real boto3: each test runs one scenario of test/python/s3_boto3.py and checks its exit code and JSON. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join, relative } from 'node:path';
import { ROOT, startServer, type ServerProcess } from '../helpers/server.js';
import { awsEnv, run } from '../helpers/clients.js';
import { walk } from '../helpers/fs.js';

const SCRIPT = join(ROOT, 'test/python/s3_boto3.py');

let server: ServerProcess;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
  server?.cleanup();
});

/** Runs one scenario; asserts exit code 0 and returns its JSON. */
async function scenario<T>(name: string, bucket: string, ...args: string[]): Promise<T> {
  const r = await run('python3', [SCRIPT, name, bucket, ...args], awsEnv(server.url));
  assert.equal(r.code, 0, `scenario ${name} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

type ErrorPair = [code: string, status: number];

describe('boto3 against the embedded store', () => {
  test('create_bucket, put_object with Metadata/ContentType, head_object, get_object with Range', async () => {
    const out = await scenario<{ metadata: Record<string, string>; contentType: string; range: string; rangeLength: number; suffix: string }>('basics', 'py-basics');
    assert.deepEqual(out.metadata, { owner: 'bob', 'mixed-case': 'Value 1' });
    assert.equal(out.contentType, 'text/x-custom; charset=utf-8');
    assert.equal(out.range, '456789');
    assert.equal(out.rangeLength, 6);
    assert.equal(out.suffix, 'def');
  });

  test('list_objects_v2 paginator with Delimiter (page size 2) and with Prefix', async () => {
    const out = await scenario<{ contents: string[]; prefixes: string[]; pages: number; nested: string[] }>('listing', 'py-listing');
    assert.deepEqual(out.contents, ['a.txt', 'd.txt']);
    assert.deepEqual(out.prefixes, ['b/', 'c/', 'e/', 'many/']);
    assert.equal(out.pages, 3);
    assert.deepEqual(out.nested, Array.from({ length: 12 }, (_, i) => `many/${String(i).padStart(2, '0')}`));
  });

  test('copy_object (COPY and REPLACE directives) and delete_objects', async () => {
    const out = await scenario<Record<string, unknown>>('copy_delete', 'py-copy');
    assert.equal(out['copiedBody'], 'copy source');
    assert.deepEqual(out['copiedMeta'], { k: 'v' });
    assert.equal(out['copiedType'], 'text/plain');
    assert.deepEqual(out['replacedMeta'], { new: 'meta' });
    assert.equal(out['replacedType'], 'application/octet-stream');
    assert.deepEqual(out['deleted'], ['dst/copied', 'dst/replaced', 'missing', 'src']);
    assert.deepEqual(out['errors'], []);
    assert.equal(out['left'], 0);
  });

  test('upload_fileobj of ~20 MB in 8 MB parts and download_fileobj round-trip', async () => {
    const out = await scenario<{ size: number; etag: string; sent: string; received: string; receivedSize: number }>('transfer', 'py-transfer');
    const size = 20 * 1024 * 1024 + 12345;
    assert.equal(out.size, size);
    assert.equal(out.receivedSize, size);
    assert.match(out.etag, /^"[0-9a-f]{32}-3"$/);
    assert.equal(out.received, out.sent);
  });

  for (const signature of ['default', 's3v4'] as const) {
    test(`generate_presigned_url for put_object and get_object (${signature === 'default' ? 'boto3 default: SigV2 query auth' : 'SigV4'}) fetched with urllib`, async () => {
      const out = await scenario<Record<string, string | number>>('presign', `py-presign-${signature}`, signature);
      if (signature === 'default') assert.match(String(out['putUrl']), /[?&]AWSAccessKeyId=/);
      else assert.match(String(out['putUrl']), /[?&]X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-SignedHeaders=content-type%3Bhost/);
      assert.equal(out['wrongTypeStatus'], 403, 'the presigned Content-Type is signed');
      assert.equal(out['putStatus'], 200, String(out['putBody']));
      assert.equal(out['contentType'], 'text/plain');
      assert.equal(out['getStatus'], 200, String(out['getBody']));
      assert.equal(out['getBody'], 'sent through a presigned PUT');
      assert.equal(out['tamperedStatus'], 403);
      assert.match(String(out['tamperedBody']), /<Code>SignatureDoesNotMatch<\/Code>/);
    });
  }

  test('client errors: NoSuchKey, NoSuchBucket, BucketNotEmpty, InvalidRange, InvalidPart, NoSuchUpload', async () => {
    const out = await scenario<Record<string, ErrorPair | string>>('errors', 'py-errors');
    assert.deepEqual(out['noSuchKey'], ['NoSuchKey', 404]);
    assert.deepEqual(out['noSuchKeyHead'], ['404', 404]);
    assert.deepEqual(out['noSuchBucket'], ['NoSuchBucket', 404]);
    assert.deepEqual(out['noSuchBucketPut'], ['NoSuchBucket', 404]);
    assert.deepEqual(out['bucketNotEmpty'], ['BucketNotEmpty', 409]);
    assert.deepEqual(out['invalidRange'], ['InvalidRange', 416]);
    assert.deepEqual(out['alreadyOwned'], ['BucketAlreadyOwnedByYou', 409]);
    assert.deepEqual(out['invalidPart'], ['InvalidPart', 400]);
    assert.deepEqual(out['invalidPartNumber'], ['InvalidPart', 400]);
    assert.deepEqual(out['wrongEtagVisible'], ['404', 404]);
    assert.equal(out['completedEtag'], `"${createHash('md5').update(createHash('md5').update('only part').digest()).digest('hex')}-1"`);
    assert.equal(out['completedBody'], 'only part');
    assert.deepEqual(out['noSuchUploadPart'], ['NoSuchUpload', 404]);
    assert.deepEqual(out['noSuchUploadComplete'], ['NoSuchUpload', 404]);
    assert.deepEqual(out['abortedVisible'], ['404', 404]);
  });

  test('keys: dot segments, leading slashes, spaces, unicode, 1024 bytes ok, 1025 bytes KeyTooLongError', async () => {
    const out = await scenario<{ listed: string[]; tooLong: ErrorPair; tooLongUtf8: ErrorPair; bMissing: ErrorPair }>('keys', 'py-keys');
    const expected = ['../../etc/passwd', 'a/../b', '//lead', 'sp ace', 'ü/日本', 'k'.repeat(1024)];
    assert.deepEqual(out.listed, [...expected].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    assert.deepEqual(out.tooLong, ['KeyTooLongError', 400]);
    assert.deepEqual(out.tooLongUtf8, ['KeyTooLongError', 400]);
    assert.deepEqual(out.bMissing, ['404', 404], '"a/../b" is its own key, not "b"');
    const outside = walk(server.dataDir).map((f) => relative(server.dataDir, f)).filter((f) => !f.startsWith('objects/') && !f.startsWith('queue/'));
    assert.deepEqual(outside, [], 'nothing is written outside <dataDir>/objects and <dataDir>/queue');
    assert.ok(!walk(server.dataDir).some((f) => f.endsWith('passwd')));
  });
});

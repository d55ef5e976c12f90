/**
 * S3 fidelity with real boto3 against the built server: UploadPartCopy, multipart checksums
 * (composite and full-object, boto3's managed transfers), ListBuckets paging, fetch-owner,
 * GetBucketLocation, encoding-type=url and virtual-hosted–style addressing. Each test runs one
 * scenario of test/python/s3_fidelity_b.py and checks its exit code and JSON.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ROOT, startServer, type ServerProcess } from '../helpers/server.js';
import { awsEnv, run } from '../helpers/clients.js';

const SCRIPT = join(ROOT, 'test/python/s3_fidelity_b.py');
const MiB = 1024 * 1024;

let server: ServerProcess;

before(async () => {
  server = await startServer();
});
after(async () => {
  await server?.stop();
  server?.cleanup();
});

async function scenario<T>(name: string, bucket: string): Promise<T> {
  const r = await run('python3', [SCRIPT, name, bucket], awsEnv(server.url));
  assert.equal(r.code, 0, `scenario ${name} failed (${r.code}):\n${r.stderr}\n${r.stdout}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as T;
}

describe('boto3: UploadPartCopy', () => {
  test('ranges, copy-source conditions, errors, a whole-object part and boto3 managed copy', async () => {
    const out = await scenario<Record<string, unknown>>('part_copy', 'fid-part-copy');
    const size = 12 * MiB + 321;
    assert.deepEqual(out['outside'], ['InvalidArgument', 400, `Range specified is not valid for source object of size: ${size}`]);
    assert.deepEqual(out['startOutside'], ['InvalidArgument', 400, `Range specified is not valid for source object of size: ${size}`]);
    assert.deepEqual(out['improper'], Array.from({ length: 7 }, () => ['InvalidArgument', 400]));
    for (const name of ['ifMatchWrong', 'ifNoneMatchSame', 'ifModifiedSinceFuture', 'ifUnmodifiedSincePast']) assert.deepEqual(out[name], ['PreconditionFailed', 412], name);
    assert.deepEqual(out['noSuchSource'], ['NoSuchKey', 404]);
    assert.deepEqual(out['noSuchUpload'], ['NoSuchUpload', 404]);
    assert.deepEqual(out['sizes'], [5 * MiB, 5 * MiB, size - 10 * MiB]);
    assert.match(String(out['completedEtag']), /^"[0-9a-f]{32}-3"$/);
    assert.equal(out['assembledMatches'], true);
    assert.equal(out['wholeMatches'], true);
    assert.deepEqual([...(out['managedRanges'] as string[])].sort(), ['bytes=0-5242879', 'bytes=10485760-12583232', 'bytes=5242880-10485759']);
    assert.equal(out['managedEtag'], out['completedEtag'], 'the same parts give the same multipart ETag');
    assert.equal(out['managedMatches'], true);
  });
});

describe('boto3: multipart checksums', () => {
  test("create_multipart_upload(ChecksumAlgorithm='SHA256'): parts checked, listed, and a composite checksum on Complete, HEAD and GET", async () => {
    const out = await scenario<Record<string, unknown>>('checksum_composite', 'fid-checksum');
    assert.deepEqual(out['created'], ['SHA256', 'COMPOSITE']);
    assert.deepEqual(out['badDigest'], ['BadDigest', 400, 'The SHA256 you specified did not match the calculated checksum.']);
    assert.deepEqual(out['otherAlgorithm'], ['InvalidRequest', 400, 'Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: crc32']);
    assert.deepEqual(out['noChecksum'], ['InvalidRequest', 400, 'Checksum Type mismatch occurred, expected checksum Type: sha256, actual checksum Type: null']);
    assert.deepEqual(out['partChecksums'], out['expectedPartChecksums']);
    assert.deepEqual(out['listed'], ['SHA256', 'COMPOSITE', out['expectedPartChecksums']]);
    assert.deepEqual(out['missingPartChecksum'], ['InvalidRequest', 400, 'The upload was created using a sha256 checksum. The complete request must include the checksum for each part. It was missing for part 1 in the request.']);
    assert.deepEqual(out['wrongPartChecksum'], ['InvalidPart', 400]);
    assert.deepEqual(out['invalidPartChecksum'], ['InvalidArgument', 400]);
    assert.deepEqual(out['gap'], ['InvalidPartOrder', 400]);
    assert.deepEqual(out['wrongExpected'], ['BadDigest', 400, 'The sha256 you specified did not match the calculated checksum.']);
    assert.deepEqual(out['wrongCount'], ['BadDigest', 400]);
    assert.deepEqual(out['wrongType'], ['BadDigest', 400]);
    assert.equal(out['notVisible'], true, 'a refused Complete leaves nothing visible');
    assert.match(String(out['expectedComposite']), /^[A-Za-z0-9+/]{43}=-3$/);
    assert.deepEqual(out['completed'], [out['expectedComposite'], 'COMPOSITE']);
    assert.deepEqual(out['head'], [out['expectedComposite'], 'COMPOSITE']);
    assert.deepEqual(out['headWithoutMode'], [null, null]);
    assert.equal(out['bodyMatches'], true);
    assert.deepEqual(out['invalidAlgorithm'], ['InvalidRequest', 400]);
    assert.deepEqual(out['fullObjectSha'], ['InvalidRequest', 400, 'The FULL_OBJECT checksum type cannot be used with the sha1 checksum algorithm.']);
  });

  test('upload_fileobj: CRC32 composite by default; with the whole ChecksumCRC32 a FULL_OBJECT CRC that boto3 validates on GET; a wrong one is BadDigest', async () => {
    const out = await scenario<Record<string, unknown>>('checksum_transfer', 'fid-transfer');
    const [composite, type] = out['default'] as [string, string];
    assert.match(composite, /^[A-Za-z0-9+/]{6}==-3$/);
    assert.equal(type, 'COMPOSITE');
    assert.deepEqual(out['full'], [out['expectedFull'], 'FULL_OBJECT']);
    assert.equal(out['getValidates'], 'StreamingChecksumBody', 'botocore validates the full-object CRC32 while reading');
    assert.equal(out['bodyMatches'], true);
    assert.deepEqual(out['wrongError'], ['BadDigest', 400]);
    assert.equal(out['wrongVisible'], false);
  });
});

describe('boto3: bucket and listing details', () => {
  test('list_buckets paginator (MaxBuckets, ContinuationToken, Prefix), BucketRegion, invalid arguments', async () => {
    const out = await scenario<Record<string, unknown>>('list_buckets', 'fid-lb');
    assert.deepEqual(out['pages'], [['fid-lb-0', 'fid-lb-1'], ['fid-lb-2', 'fid-lb-3'], ['fid-lb-4']]);
    assert.deepEqual(out['tokens'], [true, true, false]);
    assert.deepEqual(out['prefixes'], ['fid-lb-', 'fid-lb-', 'fid-lb-']);
    assert.deepEqual(out['regions'], ['us-east-1']);
    assert.deepEqual(out['one'], [['fid-lb-0'], true]);
    assert.deepEqual(out['unpaged'], [true, false, false], 'without parameters: every bucket, no token, no BucketRegion');
    assert.deepEqual(out['otherRegion'], []);
    assert.deepEqual(out['zero'], ['InvalidArgument', 400]);
    assert.deepEqual(out['tooMany'], ['InvalidArgument', 400]);
    assert.deepEqual(out['badToken'], ['InvalidArgument', 400]);
  });

  test('list_objects_v2 has Owner only with FetchOwner=True, list_objects always; get_bucket_location is null in us-east-1', async () => {
    const out = await scenario<Record<string, unknown>>('owner_location', 'fid-owner');
    assert.equal(out['v2'], false);
    assert.deepEqual(out['v2FetchOwner'], { DisplayName: 'inferq', ID: 'inferq' });
    assert.equal(out['v2FetchOwnerFalse'], false);
    assert.deepEqual(out['v1'], { DisplayName: 'inferq', ID: 'inferq' });
    assert.equal(out['location'], null);
    assert.deepEqual(out['locationMissing'], ['NoSuchBucket', 404]);
  });

  test('EncodingType=url encodes Key, Prefix, Delimiter, StartAfter, Marker, NextMarker and CommonPrefixes; boto3 round-trips every key', async () => {
    const out = await scenario<Record<string, unknown>>('encoding', 'fid-encoding');
    assert.deepEqual(out['v2'], { EncodingType: 'url', Prefix: 'dir+one/', Delimiter: '/', StartAfter: 'dir+one/100%25.csv' });
    assert.deepEqual(out['v2Keys'], ['dir+one/a+b.txt', 'dir+one/ctl%01%02%09tab', 'dir+one/plus%2Bsign', 'dir+one/x%3C%26%3E%27%22', 'dir+one/%7Etilde*star']);
    assert.deepEqual(out['v2PrefixCommonPrefixes'], ['dir+one/%C3%BCn%C3%AF/']);
    assert.deepEqual(out['v2CommonPrefixes'], ['dir+']);
    assert.equal(out['v2AllDelimiter'], '+');
    assert.deepEqual(out['v1'], { EncodingType: 'url', Prefix: 'dir+one/', Marker: 'dir+one/%2B', NextMarker: 'dir+one/a+b.txt', IsTruncated: true });
    assert.deepEqual(out['v1Keys'], ['dir+one/100%25.csv', 'dir+one/a+b.txt']);
    const keys = ['dir one/a b.txt', 'dir one/plus+sign', 'dir one/100%.csv', 'dir one/ünï/日本', 'dir one/ctl\x01\x02\ttab', 'dir one/x<&>\'"', 'dir one/~tilde*star'];
    const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    assert.deepEqual(out['roundTrip'], sorted);
    assert.deepEqual(out['roundTripV1'], sorted);
    assert.deepEqual(out['badEncoding'], ['InvalidArgument', 400]);
  });
});

describe('boto3: virtual-hosted–style addressing', () => {
  test("addressing_style 'virtual' against http://localhost:<port>: every operation, SigV2 and SigV4 presigned URLs", async () => {
    // <bucket>.localhost does not resolve on this glibc host; the scenario resolves it to 127.0.0.1
    // in the client process (as an /etc/hosts line would). The requests carry Host: <bucket>.localhost:<port>.
    const out = await scenario<Record<string, unknown>>('virtual_host', 'fid-vhost');
    const hosts = out['hosts'] as Record<string, string[]>;
    const vhost = `fid-vhost.localhost:${server.port}`;
    assert.deepEqual(hosts[vhost], ['CompleteMultipartUpload', 'CopyObject', 'CreateBucket', 'CreateMultipartUpload', 'DeleteBucket', 'DeleteObjects', 'GetObject', 'HeadBucket', 'ListObjects', 'ListObjectsV2', 'PutObject', 'UploadPart', 'UploadPartCopy']);
    assert.deepEqual(hosts[`localhost:${server.port}`], ['GetBucketLocation'], 'botocore sends only GetBucketLocation path-style');
    assert.equal(out['body'], 'virtual');
    assert.deepEqual(out['metadata'], { m: '1' });
    assert.equal(out['bigMatches'], true);
    assert.equal(out['partCopied'], true);
    assert.deepEqual(out['listed'], ['big', 'copied', 'dir/a b+c.txt', 'part-copied']);
    assert.deepEqual(out['listedV1'], out['listed']);
    assert.equal(out['location'], null);
    for (const signature of ['s3', 's3v4']) {
      const p = (out['presigned'] as Record<string, Record<string, unknown>>)[signature]!;
      assert.deepEqual(p, { host: vhost, status: 200, body: 'virtual', putStatus: 200 }, signature);
    }
    assert.equal(out['deleted'], 6);
    assert.deepEqual(out['bucketGone'], ['404', 404]);
  });
});

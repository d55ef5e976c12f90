/**
 * Upload checksums: CRC32 / CRC32C / CRC64NVME / SHA vectors, the base64 wire form, streaming
 * verification of headers and trailers, Content-MD5, and error codes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, it } from 'node:test';
import { CHECKSUM_ALGORITHMS, computeChecksum, createChecksumVerifier, type ChecksumVerifier } from '../../src/auth/index.js';
import { isInferqError, type ErrorCode } from '../../src/errors/index.js';

const CHECK = Buffer.from('123456789');

function hex(b64: string): string {
  return Buffer.from(b64, 'base64').toString('hex');
}

async function run(verifier: ChecksumVerifier, pieces: readonly Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  await pipeline(
    Readable.from(pieces),
    verifier,
    new Writable({
      write(c: Buffer, _e, done) {
        out.push(c);
        done();
      },
    }),
  );
  return Buffer.concat(out);
}

async function fails(code: ErrorCode, verifier: ChecksumVerifier, pieces: readonly Buffer[]): Promise<void> {
  await assert.rejects(run(verifier, pieces), (err: unknown) => {
    assert.ok(isInferqError(err), String(err));
    assert.equal(err.code, code, err.message);
    return true;
  });
}

void describe('computeChecksum', () => {
  void it('matches the standard check values', () => {
    assert.equal(hex(computeChecksum('CRC32', CHECK)), 'cbf43926');
    assert.equal(hex(computeChecksum('CRC32C', CHECK)), 'e3069283');
    assert.equal(hex(computeChecksum('CRC64NVME', CHECK)), 'ae8b14860a799888');
    assert.equal(computeChecksum('CRC32', CHECK), 'y/Q5Jg==');
    assert.equal(computeChecksum('CRC32C', CHECK), '4waSgw==');
    assert.equal(computeChecksum('CRC64NVME', CHECK), 'rosUhgp5mIg=');
    assert.equal(computeChecksum('SHA1', CHECK), createHash('sha1').update(CHECK).digest('base64'));
    assert.equal(computeChecksum('SHA256', CHECK), createHash('sha256').update(CHECK).digest('base64'));
  });

  void it('matches S3 values for the empty body and "hello"', () => {
    assert.equal(computeChecksum('CRC32', Buffer.alloc(0)), 'AAAAAA==');
    assert.equal(computeChecksum('CRC32C', Buffer.alloc(0)), 'AAAAAA==');
    assert.equal(computeChecksum('CRC64NVME', Buffer.alloc(0)), 'AAAAAAAAAAA=');
    // The JS SDK sent x-amz-checksum-crc32: NhCmhg== for "hello".
    assert.equal(computeChecksum('CRC32', Buffer.from('hello')), 'NhCmhg==');
  });

  void it('gives the same result whatever the input slicing (slice-by-8 vs byte tail)', async () => {
    const data = Buffer.alloc(10_007);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7919) & 0xff;
    for (const alg of CHECKSUM_ALGORITHMS) {
      const whole = computeChecksum(alg, data);
      const verifier = createChecksumVerifier({ [`x-amz-checksum-${alg.toLowerCase()}`]: whole }, () => ({}));
      const pieces = [1, 3, 8, 13, 1000, 5].map((n, k, all) => {
        const start = all.slice(0, k).reduce((a, b) => a + b, 0);
        return data.subarray(start, start + n);
      });
      const rest = data.subarray(pieces.reduce((a, b) => a + b.length, 0));
      await run(verifier, [...pieces, rest]);
      assert.deepEqual(verifier.verifiedChecksums(), { [alg]: whole });
    }
  });
});

void describe('createChecksumVerifier', () => {
  const body = Buffer.from('hello world');
  const md5 = createHash('md5').update(body).digest('base64');

  void it('verifies Content-MD5 and header checksums', async () => {
    const headers = { 'content-md5': md5, 'x-amz-checksum-crc32c': computeChecksum('CRC32C', body), 'x-amz-checksum-sha256': computeChecksum('SHA256', body) };
    const verifier = createChecksumVerifier(headers, () => ({}), { compute: ['CRC64NVME'] });
    assert.ok((await run(verifier, [body.subarray(0, 4), body.subarray(4)])).equals(body));
    assert.deepEqual(verifier.verifiedChecksums(), { CRC32C: headers['x-amz-checksum-crc32c'], SHA256: headers['x-amz-checksum-sha256'] });
    assert.equal(verifier.computedChecksums().CRC64NVME, computeChecksum('CRC64NVME', body));
  });

  void it('reports mismatches as BadDigest', async () => {
    await fails('BadDigest', createChecksumVerifier({ 'content-md5': md5 }, () => ({})), [Buffer.from('hello World')]);
    await fails('BadDigest', createChecksumVerifier({ 'x-amz-checksum-crc64nvme': computeChecksum('CRC64NVME', body) }, () => ({})), [Buffer.from('hello')]);
  });

  void it('rejects malformed digests as InvalidDigest', () => {
    const malformed: Record<string, string>[] = [
      { 'content-md5': 'not base64!' },
      { 'content-md5': Buffer.alloc(15).toString('base64') },
      { 'x-amz-checksum-crc32': 'AAAAAAAA' },
      { 'x-amz-checksum-sha1': 'AAAA' },
    ];
    for (const headers of malformed) assert.throws(() => createChecksumVerifier(headers, () => ({})), (err: unknown) => isInferqError(err, 'InvalidDigest'));
    assert.throws(() => createChecksumVerifier({ 'x-amz-trailer': 'x-amz-checksum-md5' }, () => ({})), (err: unknown) => isInferqError(err, 'InvalidArgument'));
  });

  void it('verifies a checksum named by x-amz-trailer from the trailers', async () => {
    const crc = computeChecksum('CRC32', body);
    const headers = { 'x-amz-trailer': 'x-amz-checksum-crc32' };
    const ok = createChecksumVerifier(headers, () => ({ 'x-amz-checksum-crc32': crc }));
    await run(ok, [body]);
    assert.deepEqual(ok.verifiedChecksums(), { CRC32: crc });
    await fails('BadDigest', createChecksumVerifier(headers, () => ({ 'x-amz-checksum-crc32': computeChecksum('CRC32', Buffer.from('x')) })), [body]);
    await fails('InvalidDigest', createChecksumVerifier(headers, () => ({ 'x-amz-checksum-crc32': '!!' })), [body]);
    await fails('InvalidRequest', createChecksumVerifier(headers, () => ({})), [body]);
  });

  void it('passes bodies through when nothing is requested', async () => {
    const verifier = createChecksumVerifier({}, () => ({}));
    assert.ok((await run(verifier, [body])).equals(body));
    assert.deepEqual(verifier.verifiedChecksums(), {});
  });
});

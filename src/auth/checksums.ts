/**
 * Upload integrity checks for the S3 front: `Content-MD5` and the `x-amz-checksum-*` family
 * (CRC32, CRC32C, CRC64NVME, SHA1, SHA256), sent as headers or as aws-chunked trailers named by
 * `x-amz-trailer`. A pass-through Transform computes what was asked for and verifies it when the
 * body ends. CRC32 comes from zlib; CRC32C and CRC64NVME are table-driven slice-by-8 JS.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { InferqError } from '../errors/index.js';
import type { ChecksumAlgorithm } from '../objects/index.js';

/** Every checksum algorithm, in header-name order. */
export const CHECKSUM_ALGORITHMS: readonly ChecksumAlgorithm[] = ['CRC32', 'CRC32C', 'CRC64NVME', 'SHA1', 'SHA256'];

/** Digest length in bytes per algorithm. */
const DIGEST_BYTES: Readonly<Record<ChecksumAlgorithm, number>> = { CRC32: 4, CRC32C: 4, CRC64NVME: 8, SHA1: 20, SHA256: 32 };

/** The header / trailer name carrying an algorithm's value, e.g. `x-amz-checksum-crc32c`. */
export function checksumHeaderName(alg: ChecksumAlgorithm): string {
  return `x-amz-checksum-${alg.toLowerCase()}`;
}

// ---------------------------------------------------------------- CRC32C (Castagnoli, reflected)

const CRC32C_TABLE = buildCrc32Tables(0x82f63b78);

function buildCrc32Tables(poly: number): Uint32Array {
  const t = new Uint32Array(8 * 256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ poly : c >>> 1;
    t[i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) {
      const prev = t[(k - 1) * 256 + i]!;
      t[k * 256 + i] = (prev >>> 8) ^ t[prev & 0xff]!;
    }
  }
  return t;
}

/** Continues a CRC32C over `buf`; `state` is the running (non-inverted) register. */
function crc32cUpdate(state: number, buf: Uint8Array): number {
  const t = CRC32C_TABLE;
  let c = state;
  let i = 0;
  const end8 = buf.length - (buf.length % 8);
  for (; i < end8; i += 8) {
    const a = c ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    const b = buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24);
    c =
      t[1792 + (a & 0xff)]! ^ t[1536 + ((a >>> 8) & 0xff)]! ^ t[1280 + ((a >>> 16) & 0xff)]! ^ t[1024 + (a >>> 24)]! ^
      t[768 + (b & 0xff)]! ^ t[512 + ((b >>> 8) & 0xff)]! ^ t[256 + ((b >>> 16) & 0xff)]! ^ t[b >>> 24]!;
  }
  for (; i < buf.length; i++) c = t[(c ^ buf[i]!) & 0xff]! ^ (c >>> 8);
  return c >>> 0;
}

// ------------------------------------------- CRC64NVME (reflected 0x9a6c9329ac4bc9b5, as two halves)

const CRC64_LO = new Uint32Array(8 * 256);
const CRC64_HI = new Uint32Array(8 * 256);
buildCrc64Tables(0x9a6c9329, 0xac4bc9b5);

function buildCrc64Tables(polyHi: number, polyLo: number): void {
  for (let i = 0; i < 256; i++) {
    let lo = i;
    let hi = 0;
    for (let k = 0; k < 8; k++) {
      const bit = lo & 1;
      lo = ((lo >>> 1) | (hi << 31)) >>> 0;
      hi = hi >>> 1;
      if (bit) {
        lo = (lo ^ polyLo) >>> 0;
        hi = (hi ^ polyHi) >>> 0;
      }
    }
    CRC64_LO[i] = lo;
    CRC64_HI[i] = hi;
  }
  for (let i = 0; i < 256; i++) {
    for (let k = 1; k < 8; k++) {
      const lo = CRC64_LO[(k - 1) * 256 + i]!;
      const hi = CRC64_HI[(k - 1) * 256 + i]!;
      const idx = lo & 0xff;
      CRC64_LO[k * 256 + i] = (((lo >>> 8) | (hi << 24)) ^ CRC64_LO[idx]!) >>> 0;
      CRC64_HI[k * 256 + i] = ((hi >>> 8) ^ CRC64_HI[idx]!) >>> 0;
    }
  }
}

/** Continues a CRC64NVME over `buf`; `state` is the running register as [hi, lo] uint32 halves. */
function crc64Update(state: [number, number], buf: Uint8Array): void {
  const L = CRC64_LO;
  const H = CRC64_HI;
  let [hi, lo] = state;
  let i = 0;
  const end8 = buf.length - (buf.length % 8);
  for (; i < end8; i += 8) {
    const a = lo ^ (buf[i]! | (buf[i + 1]! << 8) | (buf[i + 2]! << 16) | (buf[i + 3]! << 24));
    const b = hi ^ (buf[i + 4]! | (buf[i + 5]! << 8) | (buf[i + 6]! << 16) | (buf[i + 7]! << 24));
    const i7 = 1792 + (a & 0xff), i6 = 1536 + ((a >>> 8) & 0xff), i5 = 1280 + ((a >>> 16) & 0xff), i4 = 1024 + (a >>> 24);
    const i3 = 768 + (b & 0xff), i2 = 512 + ((b >>> 8) & 0xff), i1 = 256 + ((b >>> 16) & 0xff), i0 = b >>> 24;
    lo = L[i7]! ^ L[i6]! ^ L[i5]! ^ L[i4]! ^ L[i3]! ^ L[i2]! ^ L[i1]! ^ L[i0]!;
    hi = H[i7]! ^ H[i6]! ^ H[i5]! ^ H[i4]! ^ H[i3]! ^ H[i2]! ^ H[i1]! ^ H[i0]!;
  }
  for (; i < buf.length; i++) {
    const idx = (lo ^ buf[i]!) & 0xff;
    lo = ((lo >>> 8) | (hi << 24)) ^ L[idx]!;
    hi = (hi >>> 8) ^ H[idx]!;
  }
  state[0] = hi >>> 0;
  state[1] = lo >>> 0;
}

// ------------------------------------------------------------------------------- incremental API

/** An incremental checksum. */
interface Hasher {
  update(data: Uint8Array): void;
  /** The big-endian digest bytes (call once). */
  digest(): Buffer;
}

function uint32Be(...words: number[]): Buffer {
  const out = Buffer.alloc(words.length * 4);
  words.forEach((w, k) => out.writeUInt32BE(w >>> 0, k * 4));
  return out;
}

function cryptoHasher(hash: Hash): Hasher {
  return { update: (d) => void hash.update(d), digest: () => hash.digest() };
}

function createHasher(alg: ChecksumAlgorithm | 'MD5'): Hasher {
  switch (alg) {
    case 'CRC32': {
      let crc = 0;
      return { update: (d) => void (crc = zlibCrc32(d, crc)), digest: () => uint32Be(crc) };
    }
    case 'CRC32C': {
      let state = 0xffffffff;
      return { update: (d) => void (state = crc32cUpdate(state, d)), digest: () => uint32Be(state ^ 0xffffffff) };
    }
    case 'CRC64NVME': {
      const state: [number, number] = [0xffffffff, 0xffffffff];
      return { update: (d) => crc64Update(state, d), digest: () => uint32Be(state[0] ^ 0xffffffff, state[1] ^ 0xffffffff) };
    }
    case 'SHA1':
      return cryptoHasher(createHash('sha1'));
    case 'SHA256':
      return cryptoHasher(createHash('sha256'));
    case 'MD5':
      return cryptoHasher(createHash('md5'));
  }
}

/** One-shot checksum of `data`, base64 of the big-endian digest (the form S3 puts on the wire). */
export function computeChecksum(alg: ChecksumAlgorithm, data: Uint8Array): string {
  const h = createHasher(alg);
  h.update(data);
  return h.digest().toString('base64');
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes a strict base64 value of exactly `bytes` bytes, or undefined. */
function decodeDigest(value: string, bytes: number): Buffer | undefined {
  const trimmed = value.trim();
  if (!BASE64.test(trimmed)) return undefined;
  const decoded = Buffer.from(trimmed, 'base64');
  return decoded.length === bytes ? decoded : undefined;
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A pass-through Transform that verifies checksums when the body ends. */
export interface ChecksumVerifier extends Transform {
  /** Checksums (base64) that were sent and matched; complete once the stream has ended. */
  verifiedChecksums(): Partial<Record<ChecksumAlgorithm, string>>;
  /** Every checksum computed (verified ones plus `options.compute`); complete once the stream has ended. */
  computedChecksums(): Partial<Record<ChecksumAlgorithm, string>>;
}

/** Options of {@link createChecksumVerifier}. */
export interface ChecksumVerifierOptions {
  /** Extra algorithms to compute (not verify), e.g. a default CRC64NVME to store with the object. */
  readonly compute?: readonly ChecksumAlgorithm[];
}

/** What a request asks to be verified. */
interface Expectations {
  readonly md5?: Buffer;
  /** Algorithms with a value sent as a header. */
  readonly header: ReadonlyMap<ChecksumAlgorithm, Buffer>;
  /** Algorithms whose value arrives as a trailer. */
  readonly trailer: readonly ChecksumAlgorithm[];
}

function algorithmOfName(name: string): ChecksumAlgorithm | undefined {
  return CHECKSUM_ALGORITHMS.find((alg) => checksumHeaderName(alg) === name);
}

function readExpectations(headers: IncomingHttpHeaders): Expectations {
  const md5Header = headerValue(headers, 'content-md5');
  let md5: Buffer | undefined;
  if (md5Header !== undefined) {
    md5 = decodeDigest(md5Header, 16);
    if (md5 === undefined) throw new InferqError('InvalidDigest', 'The Content-MD5 you specified was invalid.', { 'Content-MD5': md5Header });
  }
  const header = new Map<ChecksumAlgorithm, Buffer>();
  for (const alg of CHECKSUM_ALGORITHMS) {
    const value = headerValue(headers, checksumHeaderName(alg));
    if (value === undefined) continue;
    const digest = decodeDigest(value, DIGEST_BYTES[alg]);
    if (digest === undefined) throw new InferqError('InvalidDigest', `Value for ${checksumHeaderName(alg)} header is invalid.`);
    header.set(alg, digest);
  }
  const trailer: ChecksumAlgorithm[] = [];
  for (const raw of (headerValue(headers, 'x-amz-trailer') ?? '').split(',')) {
    const name = raw.trim().toLowerCase();
    if (!name.startsWith('x-amz-checksum-')) continue;
    const alg = algorithmOfName(name);
    if (alg === undefined) throw new InferqError('InvalidArgument', `The trailer ${name} is not a supported checksum.`, { ArgumentName: 'x-amz-trailer', ArgumentValue: name });
    if (!header.has(alg) && !trailer.includes(alg)) trailer.push(alg);
  }
  return { header, trailer, ...(md5 === undefined ? {} : { md5 }) };
}

class ChecksumVerifierStream extends Transform implements ChecksumVerifier {
  private readonly hashers = new Map<ChecksumAlgorithm | 'MD5', Hasher>();
  private readonly verified: Partial<Record<ChecksumAlgorithm, string>> = {};
  private readonly computed: Partial<Record<ChecksumAlgorithm, string>> = {};

  constructor(
    private readonly expect: Expectations,
    private readonly trailers: () => Readonly<Record<string, string>>,
    extra: readonly ChecksumAlgorithm[],
  ) {
    super();
    if (expect.md5 !== undefined) this.hashers.set('MD5', createHasher('MD5'));
    for (const alg of [...expect.header.keys(), ...expect.trailer, ...extra]) {
      if (!this.hashers.has(alg)) this.hashers.set(alg, createHasher(alg));
    }
  }

  verifiedChecksums(): Partial<Record<ChecksumAlgorithm, string>> {
    return { ...this.verified };
  }

  computedChecksums(): Partial<Record<ChecksumAlgorithm, string>> {
    return { ...this.computed };
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (const h of this.hashers.values()) h.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    try {
      this.finish();
      done();
    } catch (err) {
      done(err as Error);
    }
  }

  private finish(): void {
    const digests = new Map<ChecksumAlgorithm | 'MD5', Buffer>();
    for (const [alg, h] of this.hashers) digests.set(alg, h.digest());
    const md5 = digests.get('MD5');
    if (this.expect.md5 !== undefined && md5 !== undefined && !md5.equals(this.expect.md5)) {
      throw new InferqError('BadDigest', 'The Content-MD5 you specified did not match what we received.', {
        ExpectedDigest: this.expect.md5.toString('hex'),
        CalculatedDigest: md5.toString('hex'),
      });
    }
    const expected = new Map(this.expect.header);
    const trailers = this.trailers();
    for (const alg of this.expect.trailer) {
      const name = checksumHeaderName(alg);
      const value = trailers[name];
      if (value === undefined) throw new InferqError('InvalidRequest', `The trailer ${name} named by x-amz-trailer was not sent.`);
      const digest = decodeDigest(value, DIGEST_BYTES[alg]);
      if (digest === undefined) throw new InferqError('InvalidDigest', `Value for ${name} trailing header is invalid.`);
      expected.set(alg, digest);
    }
    for (const [alg, digest] of digests) {
      if (alg === 'MD5') continue;
      const want = expected.get(alg);
      if (want !== undefined && !want.equals(digest)) {
        throw new InferqError('BadDigest', `The ${alg} you specified did not match the calculated checksum.`);
      }
      const b64 = digest.toString('base64');
      this.computed[alg] = b64;
      if (want !== undefined) this.verified[alg] = b64;
    }
  }
}

/**
 * Creates a pass-through verifier for an upload body (already decoded by the payload decoder).
 * Throws InvalidDigest synchronously for a malformed `Content-MD5` / `x-amz-checksum-*` header and
 * InvalidArgument for an unsupported checksum named by `x-amz-trailer`. Mismatches (BadDigest),
 * malformed or missing trailing checksums fail the stream at its end. `trailers` is called once,
 * when the body has ended (pass `() => decoder.trailers()`).
 */
export function createChecksumVerifier(
  headers: IncomingHttpHeaders,
  trailers: () => Readonly<Record<string, string>>,
  options: ChecksumVerifierOptions = {},
): ChecksumVerifier {
  return new ChecksumVerifierStream(readExpectations(headers), trailers, options.compute ?? []);
}

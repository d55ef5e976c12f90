/**
 * Request bodies on the S3 front: the decode pipeline (aws-chunked framing, chunk signatures,
 * signed payload hash, Content-MD5 and x-amz-checksum-*) that every upload streams through, and a
 * bounded reader for small XML bodies.
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { PassThrough, Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { CHECKSUM_ALGORITHMS, checksumHeaderName, createChecksumVerifier, createPayloadDecoder, type AuthResult } from '../auth/index.js';
import { InferqError } from '../errors/index.js';
import type { ChecksumAlgorithm } from '../objects/index.js';

/** A decoded, verified request body. */
export interface DecodedBody {
  /** The raw object bytes; errors if any verification fails. */
  readonly stream: Readable;
  /** Checksums verified once the stream has ended. */
  readonly checksums: () => Partial<Record<ChecksumAlgorithm, string>>;
  /** Checksums computed once the stream has ended: the verified ones and `compute`. */
  readonly computed: () => Partial<Record<ChecksumAlgorithm, string>>;
}

/** A transform that fails with EntityTooLarge past `maxBytes`. */
class SizeLimit extends Transform {
  private seen = 0;
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.maxBytes) done(new InferqError('EntityTooLarge', `Your proposed upload exceeds the maximum allowed size of ${this.maxBytes} bytes.`));
    else done(null, chunk);
  }
}

/** Rejects a body-carrying request that states no length. */
export function requireLength(req: IncomingMessage): void {
  if (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined) {
    throw new InferqError('MissingContentLength', 'You must provide the Content-Length HTTP header.');
  }
}

/**
 * Builds the verification pipeline over a request body; `compute` names checksums to compute
 * besides those sent, `checked` the headers whose checksums are verified (all by default).
 */
export function decodeRequestBody(
  req: IncomingMessage,
  auth: AuthResult,
  maxBytes: number,
  compute: readonly ChecksumAlgorithm[] = [],
  checked: IncomingHttpHeaders = req.headers,
): DecodedBody {
  const decoder = createPayloadDecoder(auth, req.headers);
  const verifier = createChecksumVerifier(checked, () => decoder.trailers(), { compute });
  const limit = new SizeLimit(maxBytes);
  const out = new PassThrough();
  // The request is piped, not part of the pipeline: a verification failure must not destroy the
  // socket before the error response is written (the HTTP edge drains or closes it).
  req.pipe(decoder);
  pipeline(decoder, limit, verifier, out, (err) => {
    if (!err) return;
    req.unpipe(decoder);
    if (!out.destroyed) out.destroy(err);
  });
  req.once('error', (err) => decoder.destroy(err));
  req.once('aborted', () => decoder.destroy(new InferqError('IncompleteBody', 'The client closed the connection before sending the whole body.')));
  return { stream: out, checksums: () => verifier.verifiedChecksums(), computed: () => verifier.computedChecksums() };
}

/** What a request states about its body before sending it: its decoded length and its checksum algorithm. */
export interface AnnouncedBody {
  readonly contentLength?: number;
  readonly checksumAlgorithm?: ChecksumAlgorithm;
}

function headerText(headers: IncomingHttpHeaders, name: string): string | undefined {
  const raw = headers[name];
  return Array.isArray(raw) ? raw[0] : raw;
}

/**
 * The decoded length (`x-amz-decoded-content-length` of an aws-chunked body, else Content-Length
 * without Transfer-Encoding) and the checksum algorithm of an `x-amz-checksum-*` header or
 * `x-amz-trailer`, so that a store that must state them before the body (S3) can stream it.
 */
export function announcedBody(req: IncomingMessage, auth: AuthResult): AnnouncedBody {
  const chunked = auth.payload.kind === 'streaming-signed' || auth.payload.kind === 'streaming-unsigned-trailer';
  const raw = chunked ? headerText(req.headers, 'x-amz-decoded-content-length') : req.headers['transfer-encoding'] === undefined ? headerText(req.headers, 'content-length') : undefined;
  const length = raw !== undefined && /^\d{1,15}$/.test(raw.trim()) ? Number(raw.trim()) : undefined;
  const trailer = (headerText(req.headers, 'x-amz-trailer') ?? '').split(',').map((t) => t.trim().toLowerCase());
  const algorithm = CHECKSUM_ALGORITHMS.find((alg) => req.headers[checksumHeaderName(alg)] !== undefined || trailer.includes(checksumHeaderName(alg)));
  return Object.assign({}, length === undefined ? {} : { contentLength: length }, algorithm === undefined ? {} : { checksumAlgorithm: algorithm });
}

/**
 * Reads a small decoded body (XML documents) into memory, at most `maxBytes`. With
 * `objectChecksumHeaders`, `x-amz-checksum-*` headers describe an object, not this body
 * (CompleteMultipartUpload), and are not checked against it.
 */
export async function readSmallBody(req: IncomingMessage, auth: AuthResult, maxBytes: number, objectChecksumHeaders = false): Promise<Buffer> {
  const checked = objectChecksumHeaders ? Object.fromEntries(Object.entries(req.headers).filter(([name]) => !name.startsWith('x-amz-checksum-'))) : req.headers;
  const { stream } = decodeRequestBody(req, auth, maxBytes, [], checked);
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Request-body decoders matching the payload mode a SigV4 verification found: a SHA-256 check for
 * signed payloads, a pass-through for unsigned ones, and an aws-chunked decoder (with per-chunk and
 * trailer signature checks) for the STREAMING-* modes. Every decoder is a Transform that emits the
 * raw body bytes with bounded memory and fails the stream with an InferqError.
 */
import { createHash, type Hash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Transform, type TransformCallback } from 'node:stream';
import { InferqError, toInferqError } from '../errors/index.js';
import { EMPTY_SHA256, hmacHex, signaturesEqual } from './keys.js';
import type { AuthResult, ChunkSigningContext } from './types.js';

/** A Transform emitting the decoded body; trailers are known once it has ended. */
export interface PayloadDecoder extends Transform {
  /** Trailing headers (lower-case names) of an aws-chunked body; empty otherwise or before the end. */
  trailers(): Readonly<Record<string, string>>;
}

/** Longest accepted chunk-header or trailer line, CRLF included. */
const MAX_LINE_BYTES = 8192;
const CHUNK_SIZE = /^[0-9a-fA-F]{1,13}$/;
const CHUNK_SIGNATURE = /^chunk-signature=([0-9a-f]{64})$/;
const NO_TRAILERS: Readonly<Record<string, string>> = Object.freeze({});

/** Passes the body through untouched (UNSIGNED-PAYLOAD, presigned, or hash already checked). */
class PassThroughDecoder extends Transform implements PayloadDecoder {
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    done(null, chunk);
  }

  trailers(): Readonly<Record<string, string>> {
    return NO_TRAILERS;
  }
}

/** Passes the body through and checks it hashes to the signed `x-amz-content-sha256`. */
class Sha256Decoder extends Transform implements PayloadDecoder {
  private readonly hash = createHash('sha256');

  constructor(private readonly expected: string) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.hash.update(chunk);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    const actual = this.hash.digest('hex');
    if (actual === this.expected) done();
    else {
      done(
        new InferqError('XAmzContentSHA256Mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.", {
          ClientComputedContentSHA256: this.expected,
          S3ComputedContentSHA256: actual,
        }),
      );
    }
  }

  trailers(): Readonly<Record<string, string>> {
    return NO_TRAILERS;
  }
}

/** Configuration of an {@link AwsChunkedDecoder}. */
interface ChunkedOptions {
  /** Present for STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]: chunks are signed. */
  readonly signing?: ChunkSigningContext;
  /** Whether trailing headers may follow the final chunk. */
  readonly trailer: boolean;
  /** `x-amz-decoded-content-length`, when sent. */
  readonly decodedLength?: number;
}

type ChunkedState = 'header' | 'data' | 'data-crlf' | 'trailer' | 'done';

function framingError(message: string): InferqError {
  return new InferqError('InvalidRequest', `Malformed aws-chunked body: ${message}`);
}

/**
 * Decodes aws-chunked framing: `<hex-size>[;chunk-signature=<sig>]\r\n<data>\r\n` … `0…\r\n`, then
 * trailer lines and a closing `\r\n`. Frames may be split anywhere across input chunks.
 */
class AwsChunkedDecoder extends Transform implements PayloadDecoder {
  private state: ChunkedState = 'header';
  private readonly lineParts: Buffer[] = [];
  private lineLength = 0;
  private remaining = 0;
  private crlfSeen = 0;
  private decoded = 0;
  private chunkSignature = '';
  private previousSignature: string;
  private chunkHash: Hash | undefined;
  private readonly trailerValues: Record<string, string> = {};
  private trailerCanonical = '';
  private trailerSignature: string | undefined;

  constructor(private readonly options: ChunkedOptions) {
    super();
    this.previousSignature = options.signing?.seedSignature ?? '';
  }

  trailers(): Readonly<Record<string, string>> {
    return this.trailerValues;
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    try {
      this.consume(chunk);
      done();
    } catch (err) {
      done(toInferqError(err));
    }
  }

  override _flush(done: TransformCallback): void {
    if (this.state !== 'done') {
      done(new InferqError('IncompleteBody', 'The aws-chunked body ended before its final chunk.'));
      return;
    }
    const expected = this.options.decodedLength;
    if (expected !== undefined && expected !== this.decoded) {
      done(new InferqError('IncompleteBody', `The decoded body has ${this.decoded} bytes but x-amz-decoded-content-length says ${expected}.`));
      return;
    }
    done();
  }

  private consume(buf: Buffer): void {
    let i = 0;
    while (i < buf.length) {
      switch (this.state) {
        case 'header':
        case 'trailer':
          i = this.readLine(buf, i);
          break;
        case 'data':
          i = this.readData(buf, i);
          break;
        case 'data-crlf':
          if (buf[i] !== (this.crlfSeen === 0 ? 0x0d : 0x0a)) throw framingError('chunk data is not followed by CRLF.');
          i++;
          if (++this.crlfSeen === 2) this.state = 'header';
          break;
        case 'done':
          throw framingError('data follows the final chunk.');
      }
    }
  }

  /** Accumulates one CRLF-terminated line starting at `i`; returns the next index. */
  private readLine(buf: Buffer, i: number): number {
    const lf = buf.indexOf(0x0a, i);
    const end = lf < 0 ? buf.length : lf + 1;
    this.lineLength += end - i;
    if (this.lineLength > MAX_LINE_BYTES) throw framingError('a chunk header or trailer line is too long.');
    if (lf < 0) {
      this.lineParts.push(buf.subarray(i, end));
      return end;
    }
    const piece = buf.subarray(i, end);
    const whole = this.lineParts.length === 0 ? piece : Buffer.concat([...this.lineParts, piece]);
    this.lineParts.length = 0;
    this.lineLength = 0;
    if (whole.length < 2 || whole[whole.length - 2] !== 0x0d) throw framingError('a line is not terminated by CRLF.');
    const line = whole.toString('latin1', 0, whole.length - 2);
    if (this.state === 'header') this.onChunkHeader(line);
    else this.onTrailerLine(line);
    return end;
  }

  private readData(buf: Buffer, i: number): number {
    const n = Math.min(this.remaining, buf.length - i);
    const slice = buf.subarray(i, i + n);
    this.chunkHash?.update(slice);
    this.decoded += n;
    this.remaining -= n;
    const limit = this.options.decodedLength;
    if (limit !== undefined && this.decoded > limit) {
      throw new InferqError('IncompleteBody', `The decoded body exceeds x-amz-decoded-content-length (${limit}).`);
    }
    this.push(slice);
    if (this.remaining === 0) {
      this.endChunk(this.chunkHash?.digest('hex') ?? EMPTY_SHA256);
      this.state = 'data-crlf';
      this.crlfSeen = 0;
    }
    return i + n;
  }

  private onChunkHeader(line: string): void {
    const semi = line.indexOf(';');
    const sizeText = (semi < 0 ? line : line.slice(0, semi)).trim();
    if (!CHUNK_SIZE.test(sizeText)) throw framingError(`invalid chunk size '${sizeText.slice(0, 32)}'.`);
    if (this.options.signing !== undefined) {
      const m = CHUNK_SIGNATURE.exec(semi < 0 ? '' : line.slice(semi + 1).trim());
      if (m === null) throw framingError('a chunk lacks a valid chunk-signature.');
      this.chunkSignature = m[1] as string;
    }
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      this.endChunk(EMPTY_SHA256);
      this.state = 'trailer';
      return;
    }
    this.remaining = size;
    this.chunkHash = this.options.signing === undefined ? undefined : createHash('sha256');
    this.state = 'data';
  }

  /** Verifies the signature of the chunk that just ended (signed modes only). */
  private endChunk(dataSha256: string): void {
    const signing = this.options.signing;
    if (signing === undefined) return;
    const stringToSign = `AWS4-HMAC-SHA256-PAYLOAD\n${signing.amzDate}\n${signing.scope}\n${this.previousSignature}\n${EMPTY_SHA256}\n${dataSha256}`;
    if (!signaturesEqual(hmacHex(signing.signingKey, stringToSign), this.chunkSignature)) {
      throw new InferqError('SignatureDoesNotMatch', 'The chunk signature we calculated does not match the signature you provided.');
    }
    this.previousSignature = this.chunkSignature;
    this.chunkHash = undefined;
  }

  private onTrailerLine(line: string): void {
    if (line === '') {
      this.endTrailers();
      return;
    }
    if (!this.options.trailer) throw framingError('trailing headers are not allowed in this payload mode.');
    if (this.trailerSignature !== undefined) throw framingError('trailing headers follow x-amz-trailer-signature.');
    const colon = line.indexOf(':');
    if (colon <= 0) throw framingError('a trailer line lacks a colon.');
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'x-amz-trailer-signature') {
      this.trailerSignature = value;
      return;
    }
    this.trailerValues[name] = value;
    this.trailerCanonical += `${name}:${value}\n`;
  }

  private endTrailers(): void {
    const signing = this.options.signing;
    if (signing !== undefined && this.options.trailer && (this.trailerCanonical !== '' || this.trailerSignature !== undefined)) {
      if (this.trailerSignature === undefined) throw framingError('signed trailers lack x-amz-trailer-signature.');
      const trailerHash = createHash('sha256').update(this.trailerCanonical, 'latin1').digest('hex');
      const stringToSign = `AWS4-HMAC-SHA256-TRAILER\n${signing.amzDate}\n${signing.scope}\n${this.previousSignature}\n${trailerHash}`;
      if (!signaturesEqual(hmacHex(signing.signingKey, stringToSign), this.trailerSignature)) {
        throw new InferqError('SignatureDoesNotMatch', 'The trailer signature we calculated does not match the signature you provided.');
      }
    }
    this.state = 'done';
  }
}

function decodedLengthOf(headers: IncomingHttpHeaders): number | undefined {
  const raw = headers['x-amz-decoded-content-length'];
  const value = Array.isArray(raw) ? raw[0] : raw;
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value.trim())) throw new InferqError('InvalidArgument', `x-amz-decoded-content-length '${value}' is not a valid length.`);
  return Number(value.trim());
}

/**
 * Creates the decoder for a verified request's body. Throws InternalError if a streaming-signed
 * result lacks its chunk-signing context, InvalidArgument for a malformed
 * `x-amz-decoded-content-length`. Pipe the raw request into it and read the decoded body out;
 * call `trailers()` after it has ended.
 */
export function createPayloadDecoder(auth: AuthResult, headers: IncomingHttpHeaders): PayloadDecoder {
  switch (auth.payload.kind) {
    case 'sha256':
      return new Sha256Decoder(auth.payload.hash);
    case 'unsigned':
    case 'computed':
      return new PassThroughDecoder();
    case 'streaming-signed': {
      if (auth.chunkSigning === undefined) throw new InferqError('InternalError', 'A streaming-signed AuthResult lacks chunkSigning.');
      const decodedLength = decodedLengthOf(headers);
      return new AwsChunkedDecoder({ signing: auth.chunkSigning, trailer: auth.payload.trailer, ...(decodedLength === undefined ? {} : { decodedLength }) });
    }
    case 'streaming-unsigned-trailer': {
      const decodedLength = decodedLengthOf(headers);
      return new AwsChunkedDecoder({ trailer: true, ...(decodedLength === undefined ? {} : { decodedLength }) });
    }
  }
}

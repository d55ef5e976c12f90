/**
 * Server-side AWS Signature Version 4 verification for both forms clients use: the
 * `Authorization: AWS4-HMAC-SHA256 …` header and presigned query strings (`X-Amz-*`). Produces an
 * {@link AuthResult} describing who signed and how the body is bound to the signature; the body
 * itself is checked later by the payload decoder (payload.ts).
 */
import { InferqError } from '../errors/index.js';
import type { Clock } from '../util/index.js';
import { canonicalHeaders, canonicalQuery, canonicalUri } from './canonical.js';
import { firstHeader, splitUrl, type Claims } from './claims.js';
import { parseRequestCredentials } from './credentials.js';
import { SIGV4_ALGORITHM, SigningKeyCache, hmacHex, sha256Hex, signaturesEqual } from './keys.js';
import type { AuthResult, CredentialLookup, PayloadMode, SignableRequest } from './types.js';

export { MAX_PRESIGNED_EXPIRES_SECONDS } from './claims.js';

/**
 * 2 when `value` is 64 lower-case hex digits, 1 when 64 hex digits with some upper-case, else 0
 * (a loop: a 64-character regex test costs more than the rest of the payload check).
 */
function hexSha256Kind(value: string): 0 | 1 | 2 {
  if (value.length !== 64) return 0;
  let kind: 1 | 2 = 2;
  for (let i = 0; i < 64; i++) {
    const c = value.charCodeAt(i);
    if ((c >= 48 && c <= 57) || (c >= 97 && c <= 102)) continue;
    if (c >= 65 && c <= 70) kind = 1;
    else return 0;
  }
  return kind;
}

/** Maps an `x-amz-content-sha256` value to the payload mode it announces. */
export function payloadModeOf(value: string): PayloadMode {
  switch (value) {
    case 'UNSIGNED-PAYLOAD':
      return { kind: 'unsigned' };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD':
      return { kind: 'streaming-signed', trailer: false };
    case 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER':
      return { kind: 'streaming-signed', trailer: true };
    case 'STREAMING-UNSIGNED-PAYLOAD-TRAILER':
      return { kind: 'streaming-unsigned-trailer' };
    default: {
      const hex = hexSha256Kind(value);
      if (hex !== 0) return { kind: 'sha256', hash: hex === 2 ? value : value.toLowerCase() };
      throw new InferqError('InvalidArgument', `x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a STREAMING-* value or a SHA-256 hex digest, not '${value}'.`, {
        ArgumentName: 'x-amz-content-sha256',
        ArgumentValue: value,
      });
    }
  }
}

/** Inputs of {@link buildCanonicalRequest}. */
export interface CanonicalRequestInput {
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly payloadHash: string;
  /** Presigned requests leave `X-Amz-Signature` out of the canonical query. */
  readonly presigned: boolean;
}

/**
 * The SigV4 canonical request of `req`. Throws SignatureDoesNotMatch when a signed header is
 * absent from the request.
 */
export function buildCanonicalRequest(req: SignableRequest, input: CanonicalRequestInput): string {
  const { rawPath, params } = splitUrl(req.rawUrl);
  const headers = canonicalHeaders(input.signedHeaders, req.headers, req.headersDistinct);
  if ('missing' in headers) {
    throw new InferqError('SignatureDoesNotMatch', `The signed header '${headers.missing}' is not present in the request.`);
  }
  const query = canonicalQuery(params, input.presigned ? 'X-Amz-Signature' : undefined);
  return `${req.method.toUpperCase()}\n${canonicalUri(rawPath, input.service)}\n${query}\n${headers.block}\n${input.signedHeaders.join(';')}\n${input.payloadHash}`;
}

/** Options of {@link SigV4Verifier}. */
export interface SigV4VerifierOptions {
  /** Largest accepted difference between server time and `X-Amz-Date` (AWS uses 900). */
  readonly maxClockSkewSeconds: number;
}

/** Per-call options of {@link SigV4Verifier.verify}. */
export interface VerifyOptions {
  /** Hex SHA-256 of the received body; required for non-S3 requests without `x-amz-content-sha256`. */
  readonly bodySha256Hex?: string;
}

/**
 * Claims that passed every check that needs no body and no signature computation: the access key
 * is known, the signing time is acceptable and the payload mode is one the service allows. What is
 * left is the signature itself ({@link SigV4Verifier.verifyChecked}).
 */
export interface CheckedClaims {
  readonly claims: Claims;
  readonly secret: string;
  readonly payload: PayloadMode;
  /** The payload hash that was signed; absent for `computed` (the caller hashes the body). */
  readonly payloadHash?: string;
}

/** Verifies SigV4-signed requests against a credential lookup. */
export class SigV4Verifier {
  private readonly keys = new SigningKeyCache(256);
  private readonly maxSkewMs: number;

  constructor(
    private readonly credentials: CredentialLookup,
    private readonly clock: Clock,
    options: SigV4VerifierOptions,
  ) {
    this.maxSkewMs = options.maxClockSkewSeconds * 1000;
  }

  /**
   * Parses and verifies the request's signature in one call (tests and tools; the server parses
   * once with parseRequestCredentials, checks, reads the body, then verifies). Throws an
   * InferqError (MissingAuthentication, IncompleteSignature, InvalidAccessKeyId,
   * RequestTimeTooSkewed, RequestExpired, SignatureDoesNotMatch, InvalidArgument, InvalidRequest)
   * when it is not acceptable.
   */
  verify(req: SignableRequest, options: VerifyOptions = {}): AuthResult {
    const credentials = parseRequestCredentials(req);
    if (credentials.kind !== 'sigv4') throw new InferqError('MissingAuthentication', 'Request is missing Authentication Token.');
    return this.verifyChecked(req, this.check(req, credentials.claims), options);
  }

  /**
   * The checks that need neither the body nor a signature computation, so a server can make them
   * before it reads a body: known access key (InvalidAccessKeyId), signing time
   * (RequestTimeTooSkewed, RequestExpired), payload mode (InvalidArgument for a bad
   * `x-amz-content-sha256`; InvalidRequest when it is missing on S3, or is `UNSIGNED-PAYLOAD` or
   * `STREAMING-*` on any other service: only S3 defines them).
   */
  check(req: SignableRequest, claims: Claims): CheckedClaims {
    const secret = this.credentials.secretFor(claims.accessKeyId);
    if (secret === undefined) {
      throw new InferqError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: claims.accessKeyId });
    }
    this.checkTime(claims);
    const { payloadHash, payload } = payloadOf(req, claims);
    if (claims.service !== 's3' && payload.kind !== 'sha256' && payload.kind !== 'computed') {
      throw new InferqError('InvalidRequest', `Only S3 accepts ${payloadHash ?? ''} as the payload hash; ${claims.service} requests must sign the SHA-256 of their body.`);
    }
    return payloadHash === undefined ? { claims, secret, payload } : { claims, secret, payload, payloadHash };
  }

  /**
   * Verifies the signature of checked claims. Throws SignatureDoesNotMatch when it does not match,
   * InternalError when a `computed` payload comes without `options.bodySha256Hex`.
   */
  verifyChecked(req: SignableRequest, checked: CheckedClaims, options: VerifyOptions = {}): AuthResult {
    const { claims, payload } = checked;
    const presigned = claims.expiresSeconds !== undefined;
    const payloadHash = checked.payloadHash ?? options.bodySha256Hex;
    if (payloadHash === undefined) {
      throw new InferqError('InternalError', 'SigV4Verifier.verifyChecked needs bodySha256Hex for requests without x-amz-content-sha256.');
    }
    const canonicalRequest = buildCanonicalRequest(req, { service: claims.service, signedHeaders: claims.signedHeaders, payloadHash, presigned });
    const scope = `${claims.date}/${claims.region}/${claims.service}/aws4_request`;
    const stringToSign = `${SIGV4_ALGORITHM}\n${claims.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signingKey = this.keys.get(checked.secret, claims.date, claims.region, claims.service);
    if (!signaturesEqual(hmacHex(signingKey, stringToSign), claims.signature)) {
      throw new InferqError(
        'SignatureDoesNotMatch',
        'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
        { AWSAccessKeyId: claims.accessKeyId, StringToSign: stringToSign, SignatureProvided: claims.signature, CanonicalRequest: canonicalRequest },
      );
    }
    const { accessKeyId, service, region } = claims;
    if (payload.kind !== 'streaming-signed') return { accessKeyId, service, region, presigned, payload };
    return { accessKeyId, service, region, presigned, payload, chunkSigning: { seedSignature: claims.signature, signingKey, scope, amzDate: claims.amzDate } };
  }

  private checkTime(claims: Claims): void {
    const now = this.clock.now();
    if (claims.expiresSeconds === undefined) {
      if (Math.abs(now - claims.amzDateMs) > this.maxSkewMs) {
        throw new InferqError('RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.', {
          RequestTime: claims.amzDate,
          ServerTime: new Date(now).toISOString(),
          MaxAllowedSkewMilliseconds: String(this.maxSkewMs),
        });
      }
      return;
    }
    if (claims.amzDateMs - now > this.maxSkewMs) throw new InferqError('RequestExpired', 'Request is not valid yet.', { 'X-Amz-Date': claims.amzDate });
    if (now > claims.amzDateMs + claims.expiresSeconds * 1000) {
      throw new InferqError('RequestExpired', 'Request has expired.', {
        'X-Amz-Expires': String(claims.expiresSeconds),
        Expires: new Date(claims.amzDateMs + claims.expiresSeconds * 1000).toISOString(),
        ServerTime: new Date(now).toISOString(),
      });
    }
  }
}

/** How the body is bound to the signature: the signed payload hash (absent when the caller must hash the body) and its mode. */
function payloadOf(req: SignableRequest, claims: Claims): { payloadHash?: string; payload: PayloadMode } {
  if (claims.expiresSeconds !== undefined) {
    const payloadHash = claims.queryPayloadHash ?? 'UNSIGNED-PAYLOAD';
    return { payloadHash, payload: payloadModeOf(payloadHash) };
  }
  const header = firstHeader(req.headers['x-amz-content-sha256']);
  if (header !== undefined) return { payloadHash: header, payload: payloadModeOf(header) };
  if (claims.service === 's3') {
    throw new InferqError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
  }
  return { payload: { kind: 'computed' } };
}

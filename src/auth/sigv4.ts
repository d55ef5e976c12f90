/**
 * Server-side AWS Signature Version 4 verification for both forms clients use: the
 * `Authorization: AWS4-HMAC-SHA256 …` header and presigned query strings (`X-Amz-*`). Produces an
 * {@link AuthResult} describing who signed and how the body is bound to the signature; the body
 * itself is checked later by the payload decoder (payload.ts).
 */
import { InferqError } from '../errors/index.js';
import type { Clock } from '../util/index.js';
import {
  canonicalHeaders,
  canonicalQuery,
  canonicalUri,
  decodeQueryComponent,
  splitQuery,
  type RawQueryParam,
} from './canonical.js';
import { SIGV4_ALGORITHM, SigningKeyCache, hmacHex, sha256Hex, signaturesEqual } from './keys.js';
import type { AuthResult, CredentialLookup, PayloadMode, SignableRequest } from './types.js';

/** Longest lifetime of a presigned URL (7 days), in seconds. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

const AMZ_DATE = /^\d{8}T\d{6}Z$/;
const SCOPE_DATE = /^\d{8}$/;
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

/** The credential scope and signature claims of a request, before any secret is involved. */
interface Claims {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
  readonly signedHeaders: readonly string[];
  readonly signedHeadersRaw: string;
  readonly signature: string;
  readonly amzDate: string;
  readonly amzDateMs: number;
  /** Present for presigned requests. */
  readonly expiresSeconds?: number;
  /** Presigned only: the `X-Amz-Content-Sha256` query value, if any. */
  readonly queryPayloadHash?: string;
}

/** The request URL split into its raw parts. */
interface SplitUrl {
  readonly rawPath: string;
  readonly params: readonly RawQueryParam[];
}

function incomplete(message: string): InferqError {
  return new InferqError('IncompleteSignature', message);
}

function splitUrl(rawUrl: string): SplitUrl {
  const q = rawUrl.indexOf('?');
  if (q < 0) return { rawPath: rawUrl, params: [] };
  return { rawPath: rawUrl.slice(0, q), params: splitQuery(rawUrl.slice(q + 1)) };
}

/** Decoded `X-Amz-*` query parameters (first occurrence of each name). */
function amzQueryParams(params: readonly RawQueryParam[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const p of params) {
    if (p.rawName.length < 6 || p.rawName.slice(0, 6).toLowerCase() !== 'x-amz-') continue;
    const name = decodeQueryComponent(p.rawName);
    if (!found.has(name)) found.set(name, decodeQueryComponent(p.rawValue));
  }
  return found;
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The last input and result of a pure parser. A client signs every request with the same
 * credential scope and signed-header list (and the same X-Amz-Date within a second), so
 * remembering one value skips most of the parsing; a different input is parsed as usual.
 */
function memoLast<T>(parse: (raw: string) => T): (raw: string) => T {
  let lastRaw: string | undefined;
  let lastResult: T | undefined;
  return (raw) => {
    if (raw === lastRaw) return lastResult as T;
    const result = parse(raw);
    lastRaw = raw;
    lastResult = result;
    return result;
  };
}

interface CredentialScope {
  readonly accessKeyId: string;
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/** Parses `AKID/DATE/REGION/SERVICE/aws4_request`. */
function parseCredentialNow(credential: string): CredentialScope {
  const parts = credential.split('/');
  const [accessKeyId, date, region, service, terminator] = parts;
  if (parts.length !== 5 || accessKeyId === undefined || date === undefined || region === undefined || service === undefined) {
    throw incomplete(`The credential '${credential}' is malformed; expected "<AccessKeyId>/<YYYYMMDD>/<region>/<service>/aws4_request".`);
  }
  if (terminator !== 'aws4_request') throw incomplete(`The credential scope must end with 'aws4_request', not '${terminator ?? ''}'.`);
  if (accessKeyId === '' || region === '' || service === '' || !SCOPE_DATE.test(date)) {
    throw incomplete(`The credential '${credential}' is malformed.`);
  }
  return { accessKeyId, date, region, service };
}

const parseCredential = memoLast(parseCredentialNow);

/** Parses and validates `SignedHeaders` (lower-case, sorted, unique, containing `host`). */
function parseSignedHeadersNow(raw: string): readonly string[] {
  const names = raw.split(';');
  for (let i = 0; i < names.length; i++) {
    const name = names[i] as string;
    if (name === '' || name !== name.toLowerCase()) throw incomplete(`SignedHeaders '${raw}' must list lower-case header names.`);
    if (i > 0 && (names[i - 1] as string) >= name) throw incomplete(`SignedHeaders '${raw}' must be sorted and unique.`);
  }
  if (!names.includes('host')) throw incomplete("SignedHeaders must include 'host'.");
  return Object.freeze(names);
}

const parseSignedHeaders = memoLast(parseSignedHeadersNow);

/** The decimal number in `value[from, from + length)`; the caller has checked the digits. */
function digitsAt(value: string, from: number, length: number): number {
  let n = 0;
  for (let i = from; i < from + length; i++) n = n * 10 + value.charCodeAt(i) - 48;
  return n;
}

/** Epoch ms of a well-formed `YYYYMMDD'T'HHMMSS'Z'`, NaN when it names no real date. */
const amzDateMs = memoLast((value: string): number => {
  const d = digitsAt(value, 6, 2);
  const ms = Date.UTC(digitsAt(value, 0, 4), digitsAt(value, 4, 2) - 1, d, digitsAt(value, 9, 2), digitsAt(value, 11, 2), digitsAt(value, 13, 2));
  return Number.isNaN(ms) || new Date(ms).getUTCDate() !== d ? NaN : ms;
});

function parseAmzDate(value: string | undefined, what: string): number {
  if (value === undefined) throw incomplete(`${what} is missing.`);
  if (!AMZ_DATE.test(value)) throw incomplete(`${what} '${value}' is not in the form YYYYMMDD'T'HHMMSS'Z'.`);
  const ms = amzDateMs(value);
  if (Number.isNaN(ms)) throw incomplete(`${what} '${value}' is not a valid date.`);
  return ms;
}

/** The form every AWS SDK writes; anything else goes through the general parse. */
const USUAL_AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([^,\s]+)$/;

interface AuthorizationFields {
  credential?: string;
  signedHeaders?: string;
  signature?: string;
}

/** Splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` into its fields (the last of a repeated one wins). */
function parseAuthorizationFields(header: string): AuthorizationFields {
  const usual = USUAL_AUTHORIZATION.exec(header);
  if (usual !== null) return { credential: usual[1], signedHeaders: usual[2], signature: usual[3] };
  if (!header.startsWith(`${SIGV4_ALGORITHM} `)) {
    throw incomplete(`Unsupported Authorization type; only ${SIGV4_ALGORITHM} is accepted.`);
  }
  const fields: AuthorizationFields = {};
  for (const part of header.slice(SIGV4_ALGORITHM.length + 1).split(',')) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw incomplete(`The Authorization header component '${trimmed}' is malformed.`);
    const name = trimmed.slice(0, eq);
    const value = trimmed.slice(eq + 1);
    if (name === 'Credential') fields.credential = value;
    else if (name === 'SignedHeaders') fields.signedHeaders = value;
    else if (name === 'Signature') fields.signature = value;
  }
  return fields;
}

function claimsFromHeader(req: SignableRequest, header: string): Claims {
  const { credential, signedHeaders: signedHeadersRaw, signature } = parseAuthorizationFields(header);
  if (credential === undefined || signedHeadersRaw === undefined || signature === undefined) {
    throw incomplete('The Authorization header requires Credential, SignedHeaders and Signature.');
  }
  const scope = parseCredential(credential);
  const amzDate = firstHeader(req.headers['x-amz-date']);
  const amzDateMs = parseAmzDate(amzDate, 'The X-Amz-Date header');
  if (amzDate?.slice(0, 8) !== scope.date) {
    throw incomplete(`The credential scope date ${scope.date} does not match X-Amz-Date ${amzDate ?? ''}.`);
  }
  const signedHeaders = parseSignedHeaders(signedHeadersRaw);
  return { accessKeyId: scope.accessKeyId, date: scope.date, region: scope.region, service: scope.service, signedHeaders, signedHeadersRaw, signature: signature.toLowerCase(), amzDate, amzDateMs };
}

function requiredParam(q: ReadonlyMap<string, string>, name: string): string {
  const value = q.get(name);
  if (value === undefined || value === '') throw incomplete(`Query-string authentication requires the ${name} parameter.`);
  return value;
}

function claimsFromQuery(q: ReadonlyMap<string, string>): Claims {
  const algorithm = requiredParam(q, 'X-Amz-Algorithm');
  if (algorithm !== SIGV4_ALGORITHM) throw incomplete(`X-Amz-Algorithm must be ${SIGV4_ALGORITHM}.`);
  const scope = parseCredential(requiredParam(q, 'X-Amz-Credential'));
  const amzDate = requiredParam(q, 'X-Amz-Date');
  const amzDateMs = parseAmzDate(amzDate, 'X-Amz-Date');
  if (amzDate.slice(0, 8) !== scope.date) throw incomplete(`The credential scope date ${scope.date} does not match X-Amz-Date ${amzDate}.`);
  const expiresRaw = requiredParam(q, 'X-Amz-Expires');
  const expiresSeconds = /^\d{1,7}$/.test(expiresRaw) ? Number(expiresRaw) : NaN;
  if (!(expiresSeconds >= 1 && expiresSeconds <= MAX_PRESIGNED_EXPIRES_SECONDS)) {
    throw incomplete(`X-Amz-Expires must be between 1 and ${MAX_PRESIGNED_EXPIRES_SECONDS} seconds.`);
  }
  const signedHeadersRaw = requiredParam(q, 'X-Amz-SignedHeaders');
  let queryPayloadHash: string | undefined;
  for (const [name, value] of q) if (name.toLowerCase() === 'x-amz-content-sha256') queryPayloadHash = value;
  return {
    accessKeyId: scope.accessKeyId,
    date: scope.date,
    region: scope.region,
    service: scope.service,
    signedHeaders: parseSignedHeaders(signedHeadersRaw),
    signedHeadersRaw,
    signature: requiredParam(q, 'X-Amz-Signature').toLowerCase(),
    amzDate,
    amzDateMs,
    expiresSeconds,
    ...(queryPayloadHash === undefined ? {} : { queryPayloadHash }),
  };
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
   * The service named by the credential scope (`Authorization` header or `X-Amz-Credential`), or
   * undefined when the request carries no SigV4 authentication. Does no verification.
   */
  claimedService(req: SignableRequest): string | undefined {
    const header = firstHeader(req.headers.authorization);
    if (header !== undefined) {
      if (!header.startsWith(SIGV4_ALGORITHM)) return undefined;
      const m = /Credential=([^,\s]+)/.exec(header);
      return m?.[1]?.split('/')[3] || undefined;
    }
    const q = req.rawUrl.indexOf('?');
    if (q < 0) return undefined;
    for (const p of splitQuery(req.rawUrl.slice(q + 1))) {
      if (p.rawName === 'X-Amz-Credential') return decodeQueryComponent(p.rawValue).split('/')[3] || undefined;
    }
    return undefined;
  }

  /**
   * Verifies the request's signature. Throws an InferqError (MissingAuthentication,
   * IncompleteSignature, InvalidAccessKeyId, RequestTimeTooSkewed, RequestExpired,
   * SignatureDoesNotMatch, InvalidArgument, InvalidRequest) when it is not acceptable.
   */
  verify(req: SignableRequest, options: VerifyOptions = {}): AuthResult {
    const claims = this.claims(req);
    const presigned = claims.expiresSeconds !== undefined;
    const secret = this.credentials.secretFor(claims.accessKeyId);
    if (secret === undefined) {
      throw new InferqError('InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.', { AWSAccessKeyId: claims.accessKeyId });
    }
    this.checkTime(claims);
    const { payloadHash, payload } = this.payload(req, claims, options);
    const canonicalRequest = buildCanonicalRequest(req, { service: claims.service, signedHeaders: claims.signedHeaders, payloadHash, presigned });
    const scope = `${claims.date}/${claims.region}/${claims.service}/aws4_request`;
    const stringToSign = `${SIGV4_ALGORITHM}\n${claims.amzDate}\n${scope}\n${sha256Hex(canonicalRequest)}`;
    const signingKey = this.keys.get(secret, claims.date, claims.region, claims.service);
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

  private claims(req: SignableRequest): Claims {
    const header = firstHeader(req.headers.authorization);
    const q = amzQueryParams(splitUrl(req.rawUrl).params);
    const queryAuth = q.has('X-Amz-Algorithm') || q.has('X-Amz-Credential') || q.has('X-Amz-Signature');
    if (header !== undefined && queryAuth) {
      throw new InferqError('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.', {
        ArgumentName: 'Authorization',
      });
    }
    if (header !== undefined) return claimsFromHeader(req, header);
    if (queryAuth) return claimsFromQuery(q);
    throw new InferqError('MissingAuthentication', 'Request is missing Authentication Token.');
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

  private payload(req: SignableRequest, claims: Claims, options: VerifyOptions): { payloadHash: string; payload: PayloadMode } {
    if (claims.expiresSeconds !== undefined) {
      const payloadHash = claims.queryPayloadHash ?? 'UNSIGNED-PAYLOAD';
      return { payloadHash, payload: payloadModeOf(payloadHash) };
    }
    const header = firstHeader(req.headers['x-amz-content-sha256']);
    if (header !== undefined) return { payloadHash: header, payload: payloadModeOf(header) };
    if (claims.service === 's3') {
      throw new InferqError('InvalidRequest', 'Missing required header for this request: x-amz-content-sha256');
    }
    if (options.bodySha256Hex === undefined) {
      throw new InferqError('InternalError', 'SigV4Verifier.verify needs bodySha256Hex for requests without x-amz-content-sha256.');
    }
    return { payloadHash: options.bodySha256Hex, payload: { kind: 'computed' } };
  }
}

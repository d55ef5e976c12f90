/**
 * The claims of a SigV4-signed request, read before any secret is involved: credential scope,
 * signed headers, signature and signing time, from the `Authorization` header or the presigned
 * query (`X-Amz-*`). Malformed claims are IncompleteSignature, and so is anything ambiguous (a
 * component or query parameter given twice, an unknown component): routing and verification both
 * use the one parse made here, so they can never read different parts of a request. Pure
 * parsing; sigv4.ts verifies.
 */
import { InferqError } from '../errors/index.js';
import { decodeQueryComponent, splitQuery, type RawQueryParam } from './canonical.js';
import { SIGV4_ALGORITHM } from './keys.js';
import type { SignableRequest } from './types.js';

/** Longest lifetime of a presigned URL (7 days), in seconds. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

const AMZ_DATE = /^\d{8}T\d{6}Z$/;
const SCOPE_DATE = /^\d{8}$/;
/** The credential scope and signature claims of a request, before any secret is involved. */
export interface Claims {
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

export function splitUrl(rawUrl: string): SplitUrl {
  const q = rawUrl.indexOf('?');
  if (q < 0) return { rawPath: rawUrl, params: [] };
  return { rawPath: rawUrl.slice(0, q), params: splitQuery(rawUrl.slice(q + 1)) };
}

/**
 * Decoded `X-Amz-*` query parameters. A name given twice is IncompleteSignature: which of the two
 * counts would otherwise depend on who reads the query.
 */
export function amzQueryParams(params: readonly RawQueryParam[]): Map<string, string> {
  const found = new Map<string, string>();
  for (const p of params) {
    if (p.rawName.length < 6 || p.rawName.slice(0, 6).toLowerCase() !== 'x-amz-') continue;
    const name = decodeQueryComponent(p.rawName);
    if (found.has(name)) throw incomplete(`The query parameter ${name} is given more than once.`);
    found.set(name, decodeQueryComponent(p.rawValue));
  }
  return found;
}

export function firstHeader(value: string | string[] | undefined): string | undefined {
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

/** The form every AWS SDK writes (each component once, in this order); anything else goes through the general parse. */
const USUAL_AUTHORIZATION = /^AWS4-HMAC-SHA256 Credential=([^,\s]+), ?SignedHeaders=([^,\s]+), ?Signature=([^,\s]+)$/;

interface AuthorizationFields {
  credential?: string;
  signedHeaders?: string;
  signature?: string;
}

/** The field each `Authorization` component name fills; no other name is accepted. */
const AUTHORIZATION_COMPONENTS: Readonly<Record<string, keyof AuthorizationFields>> = { Credential: 'credential', SignedHeaders: 'signedHeaders', Signature: 'signature' };

/**
 * Splits `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` into its fields. A repeated,
 * unknown or malformed (no `=`, empty value, inner whitespace) component is IncompleteSignature.
 */
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
    const value = trimmed.slice(eq + 1);
    if (eq <= 0 || value === '' || /\s/.test(value)) throw incomplete(`The Authorization header component '${trimmed}' is malformed.`);
    const name = trimmed.slice(0, eq);
    const field = Object.hasOwn(AUTHORIZATION_COMPONENTS, name) ? AUTHORIZATION_COMPONENTS[name] : undefined;
    if (field === undefined) throw incomplete(`The Authorization header component '${name}' is not one of Credential, SignedHeaders, Signature.`);
    if (fields[field] !== undefined) throw incomplete(`The Authorization header gives ${name} more than once.`);
    fields[field] = value;
  }
  return fields;
}

const MONTHS: Readonly<Record<string, string>> = { Jan: '01', Feb: '02', Mar: '03', Apr: '04', May: '05', Jun: '06', Jul: '07', Aug: '08', Sep: '09', Oct: '10', Nov: '11', Dec: '12' };
/** RFC 7231 IMF-fixdate, also with the `-0000`/`+0000` zone Python's `email.utils.formatdate` (botocore) writes. */
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) (\d{2}):(\d{2}):(\d{2}) (?:GMT|UTC|[+-]0000)$/;

/**
 * The signing time of a header-signed request as `YYYYMMDD'T'HHMMSS'Z'`: `X-Amz-Date`, or else the
 * `Date` header (SigV4 allows either; botocore signs with `Date` when the request carries one).
 */
function signingTime(req: SignableRequest): string {
  const amzDate = firstHeader(req.headers['x-amz-date']);
  if (amzDate !== undefined) return amzDate;
  const date = req.headers.date;
  if (date === undefined) throw incomplete('The request must carry an X-Amz-Date or a Date header.');
  const m = HTTP_DATE.exec(date);
  if (m === null) throw incomplete(`The Date header '${date}' is not an RFC 7231 date (e.g. 'Tue, 01 Dec 2026 22:40:36 GMT').`);
  const [, day = '', month = '', year = '', hh = '', mm = '', ss = ''] = m;
  return `${year}${MONTHS[month] ?? ''}${day}T${hh}${mm}${ss}Z`;
}

export function claimsFromHeader(req: SignableRequest, header: string): Claims {
  const { credential, signedHeaders: signedHeadersRaw, signature } = parseAuthorizationFields(header);
  if (credential === undefined || signedHeadersRaw === undefined || signature === undefined) {
    throw incomplete('The Authorization header requires Credential, SignedHeaders and Signature.');
  }
  const scope = parseCredential(credential);
  const amzDate = signingTime(req);
  const amzDateMs = parseAmzDate(amzDate, req.headers['x-amz-date'] === undefined ? 'The Date header' : 'The X-Amz-Date header');
  if (amzDate.slice(0, 8) !== scope.date) {
    throw incomplete(`The credential scope date ${scope.date} does not match the request date ${amzDate}.`);
  }
  const signedHeaders = parseSignedHeaders(signedHeadersRaw);
  return { accessKeyId: scope.accessKeyId, date: scope.date, region: scope.region, service: scope.service, signedHeaders, signedHeadersRaw, signature: signature.toLowerCase(), amzDate, amzDateMs };
}

function requiredParam(q: ReadonlyMap<string, string>, name: string): string {
  const value = q.get(name);
  if (value === undefined || value === '') throw incomplete(`Query-string authentication requires the ${name} parameter.`);
  return value;
}

export function claimsFromQuery(q: ReadonlyMap<string, string>): Claims {
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
  for (const [name, value] of q) {
    if (name.toLowerCase() !== 'x-amz-content-sha256') continue;
    if (queryPayloadHash !== undefined) throw incomplete('The query parameter X-Amz-Content-Sha256 is given more than once.');
    queryPayloadHash = value;
  }
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

/**
 * Building blocks of the SigV4 canonical request: AWS URI encoding, the canonical URI (raw for S3,
 * normalised and re-encoded for every other service), the canonical query string and the
 * canonical header block. Pure functions over strings; no secrets pass through here.
 */
import type { IncomingHttpHeaders } from 'node:http';

/** Hex digits (upper case) for each byte value, `%XX`. */
const PERCENT_HEX: readonly string[] = Array.from({ length: 256 }, (_, b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`);

/** Whether a byte is in the SigV4 unreserved set `A-Za-z0-9-_.~`. */
function isUnreserved(b: number): boolean {
  return (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b === 0x2d || b === 0x5f || b === 0x2e || b === 0x7e;
}

const ALL_UNRESERVED = /^[A-Za-z0-9\-_.~]*$/;
const ALL_UNRESERVED_OR_SLASH = /^[A-Za-z0-9\-_.~/]*$/;

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  return -1;
}

/**
 * Percent-decodes `raw` to bytes. Valid `%XX` escapes become their byte; everything else (including
 * a stray `%` and `+`) stays literal, so malformed escapes never throw.
 */
export function percentDecodeBytes(raw: string): Buffer {
  const input = Buffer.from(raw, 'utf8');
  if (!input.includes(0x25)) return input;
  const out = Buffer.allocUnsafe(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const b = input[i] as number;
    if (b === 0x25 && i + 2 < input.length) {
      const hi = hexValue(input[i + 1] as number);
      const lo = hexValue(input[i + 2] as number);
      if (hi >= 0 && lo >= 0) {
        out[n++] = (hi << 4) | lo;
        i += 2;
        continue;
      }
    }
    out[n++] = b;
  }
  return out.subarray(0, n);
}

/** AWS URI-encodes bytes: unreserved bytes (and `/` when `keepSlash`) literal, the rest `%XX`. */
export function encodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = '';
  for (const b of bytes) {
    out += isUnreserved(b) || (keepSlash && b === 0x2f) ? String.fromCharCode(b) : (PERCENT_HEX[b] as string);
  }
  return out;
}

/** AWS URI-encodes a string (its UTF-8 bytes). */
export function uriEncode(value: string, keepSlash = false): string {
  if ((keepSlash ? ALL_UNRESERVED_OR_SLASH : ALL_UNRESERVED).test(value)) return value;
  return encodeBytes(Buffer.from(value, 'utf8'), keepSlash);
}

/** Decodes a raw query component and re-encodes it the AWS way. */
export function canonicalQueryComponent(raw: string): string {
  if (ALL_UNRESERVED.test(raw)) return raw;
  return encodeBytes(percentDecodeBytes(raw), false);
}

/**
 * The canonical URI of a raw (still percent-encoded) path. For `s3` the path is used exactly as
 * received; for every other service empty and `.` segments are dropped, `..` resolved, a trailing
 * slash kept, and the result URI-encoded again (so `%` becomes `%25`).
 */
export function canonicalUri(rawPath: string, service: string): string {
  if (rawPath === '') return '/';
  if (service === 's3') return rawPath;
  if (ALL_UNRESERVED_OR_SLASH.test(rawPath) && !EMPTY_OR_DOT_SEGMENT.test(rawPath)) return rawPath; // already canonical
  return normalisedUri(rawPath);
}

/** What normalisation changes: an empty segment inside the path (`//`), or a `.` or `..` segment. */
const EMPTY_OR_DOT_SEGMENT = /\/\/|(^|\/)\.\.?(\/|$)/;

function normalisedUri(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const lead = rawPath.startsWith('/') ? '/' : '';
  const trail = segments.length > 0 && rawPath.endsWith('/') ? '/' : '';
  return uriEncode(`${lead}${segments.join('/')}${trail}`, true);
}

/** One query parameter, raw and decoded-name forms. */
export interface RawQueryParam {
  /** The name exactly as on the wire (still encoded). */
  readonly rawName: string;
  readonly rawValue: string;
}

/** Splits a raw query string (without `?`) on `&`; a key without `=` has an empty value. */
export function splitQuery(rawQuery: string): RawQueryParam[] {
  const params: RawQueryParam[] = [];
  if (rawQuery === '') return params;
  for (const piece of rawQuery.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    params.push(eq < 0 ? { rawName: piece, rawValue: '' } : { rawName: piece.slice(0, eq), rawValue: piece.slice(eq + 1) });
  }
  return params;
}

/** Decodes a query component to a string (for reading `X-Amz-*` parameters). */
export function decodeQueryComponent(raw: string): string {
  return raw.includes('%') ? percentDecodeBytes(raw).toString('utf8') : raw;
}

/**
 * The canonical query string: every name and value decoded then AWS-encoded, sorted by encoded
 * name then value, `name=value` joined with `&`. `exclude` names (decoded) are left out.
 */
export function canonicalQuery(params: readonly RawQueryParam[], exclude?: string): string {
  if (params.length === 0) return '';
  const pairs: [string, string][] = [];
  for (const p of params) {
    const name = canonicalQueryComponent(p.rawName);
    if (exclude !== undefined && name === exclude) continue;
    pairs.push([name, canonicalQueryComponent(p.rawValue)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

/** Header values by lower-case name, each occurrence separately (node's `headersDistinct`). */
export type DistinctHeaders = Readonly<Record<string, readonly string[] | undefined>>;

/** Trims and collapses internal whitespace runs to one space. */
function normaliseHeaderValue(value: string): string {
  const trimmed = value.trim();
  return NEEDS_COLLAPSE.test(trimmed) ? trimmed.replace(/\s+/g, ' ') : trimmed;
}

/** Two whitespace characters in a row, or any whitespace other than a space. */
const NEEDS_COLLAPSE = /\s\s|[^\S ]/;

/**
 * The value of one header for the canonical request, or undefined when absent: all occurrences
 * joined with `,`, each trimmed with whitespace runs collapsed.
 */
export function canonicalHeaderValue(name: string, headers: IncomingHttpHeaders, distinct?: DistinctHeaders): string | undefined {
  const all = distinct?.[name];
  if (all !== undefined) return all.map(normaliseHeaderValue).join(',');
  const value = headers[name];
  if (value === undefined) return undefined;
  if (Array.isArray(value)) return value.map(normaliseHeaderValue).join(',');
  return normaliseHeaderValue(value);
}

/**
 * The canonical header block (`name:value\n` per signed header, in the given order), or the name of
 * the first signed header that is absent from the request.
 */
export function canonicalHeaders(
  signedHeaders: readonly string[],
  headers: IncomingHttpHeaders,
  distinct?: DistinctHeaders,
): { readonly block: string } | { readonly missing: string } {
  let block = '';
  for (const name of signedHeaders) {
    const value = canonicalHeaderValue(name, headers, distinct);
    if (value === undefined) return { missing: name };
    block += `${name}:${value}\n`;
  }
  return { block };
}

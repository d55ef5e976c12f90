/**
 * Header validation shared by the runtime operations: length and pattern checks with AWS-style
 * messages naming the field (`1 validation error detected: Value '…' at 'field' failed to
 * satisfy constraint: …`), since the clients barely validate.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { InferqError } from '../errors/index.js';

/** `\p{ASCII}*`. */
export const ASCII = /^[\x00-\x7f]*$/;
/** `\A\S[\p{Print}]*\z`. */
export const PRINTABLE_ID = /^[\x21-\x7e][\x20-\x7e]*$/;

/** A length/pattern rule for one header. */
export interface TextRule {
  readonly min?: number;
  readonly max: number;
  readonly pattern?: RegExp;
  /** The pattern as AWS documents it, for the message. */
  readonly patternText?: string;
}

/** The rule for ContentType, Accept and CustomAttributes: ≤1024 ASCII. */
export const ASCII_1024: TextRule = { max: 1024, pattern: ASCII, patternText: '\\p{ASCII}*' };
/** The rule for InferenceId-like fields: 1–64 printable, not starting with a space. */
export const PRINTABLE_ID_64: TextRule = { min: 1, max: 64, pattern: PRINTABLE_ID, patternText: '\\A\\S[\\p{Print}]*\\z' };

/**
 * Throws the ValidationError for `field`.
 * @throws InferqError ValidationError
 */
export function fail(field: string, value: string, constraint: string): never {
  const shown = value.length > 100 ? `${value.slice(0, 100)}…` : value;
  throw new InferqError('ValidationError', `1 validation error detected: Value '${shown}' at '${field}' failed to satisfy constraint: ${constraint}`);
}

/** A header's value (repeated headers joined with `, `), or undefined. */
export function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

/**
 * Reads and validates a text header; undefined when absent.
 * @throws InferqError ValidationError naming `field`.
 */
export function text(headers: IncomingHttpHeaders, name: string, field: string, rule: TextRule): string | undefined {
  const value = headerValue(headers, name);
  if (value === undefined) return undefined;
  if (value.length < (rule.min ?? 0) || value.length > rule.max) fail(field, value, `Member must have length between ${rule.min ?? 0} and ${rule.max}`);
  if (rule.pattern && !rule.pattern.test(value)) fail(field, value, `Member must satisfy regular expression pattern: ${rule.patternText ?? rule.pattern.source}`);
  return value;
}

/**
 * InvokeEndpointAsync request parsing: every header of the operation validated against the
 * SageMaker API constraints (clients barely validate), with AWS-style messages naming the field.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { InferqError } from '../errors/index.js';
import { ASCII_1024, PRINTABLE_ID_64, fail, headerValue, text } from './validate.js';

/** Largest inline body, in bytes. */
export const MAX_INLINE_BODY_BYTES = 128_000;

/** A validated InvokeEndpointAsync request. */
export interface AsyncInvokeRequest {
  readonly contentType?: string;
  readonly accept?: string;
  readonly customAttributes?: string;
  readonly inferenceId?: string;
  readonly inputLocation?: string;
  readonly outputPathExtension?: string;
  readonly filename?: string;
  readonly requestTtlSeconds: number;
  readonly invocationTimeoutSeconds: number;
  /** The inline body, when no InputLocation was given. */
  readonly body?: Buffer;
}

const INPUT_LOCATION = /^(https|s3):\/\/([^/]+)\/?(.*)$/s;
const OUTPUT_EXTENSION = /^(?!s3:|https:)[a-zA-Z0-9!_.*'()/-]+$/;
const FILENAME = /^(?!.*\..*\.)[a-zA-Z0-9][a-zA-Z0-9\-_.]*$/;

function integer(headers: IncomingHttpHeaders, name: string, field: string, min: number, max: number, fallback: number): number {
  const value = headerValue(headers, name);
  if (value === undefined) return fallback;
  if (!/^-?\d+$/.test(value.trim())) fail(field, value, 'Member must be an integer');
  const n = Number(value.trim());
  if (n < min) fail(field, value, `Member must have value greater than or equal to ${min}`);
  if (n > max) fail(field, value, `Member must have value less than or equal to ${max}`);
  return n;
}

/**
 * Validates the headers and body of an InvokeEndpointAsync call.
 * @throws InferqError ValidationError naming the field.
 */
export function parseAsyncInvokeRequest(headers: IncomingHttpHeaders, body: Buffer): AsyncInvokeRequest {
  const ascii = ASCII_1024;
  const contentType = text(headers, 'x-amzn-sagemaker-content-type', 'contentType', ascii);
  const accept = text(headers, 'x-amzn-sagemaker-accept', 'accept', ascii);
  const customAttributes = text(headers, 'x-amzn-sagemaker-custom-attributes', 'customAttributes', ascii);
  const inferenceId = text(headers, 'x-amzn-sagemaker-inference-id', 'inferenceId', PRINTABLE_ID_64);
  const inputLocation = text(headers, 'x-amzn-sagemaker-inputlocation', 'inputLocation', { min: 1, max: 1024, pattern: INPUT_LOCATION, patternText: '^(https|s3)://([^/]+)/?(.*)$' });
  const outputPathExtension = text(headers, 'x-amzn-sagemaker-s3outputpathextension', 's3OutputPathExtension', { min: 1, max: 512, pattern: OUTPUT_EXTENSION, patternText: "^(?!s3:|https:)[a-zA-Z0-9!_.*'()/-]+$" });
  const filename = text(headers, 'x-amzn-sagemaker-filename', 'filename', { min: 1, max: 32, pattern: FILENAME, patternText: '^(?!.*\\..*\\.)[a-zA-Z0-9][a-zA-Z0-9-_\\.]*$' });
  const requestTtlSeconds = integer(headers, 'x-amzn-sagemaker-requestttlseconds', 'requestTTLSeconds', 60, 21600, 21600);
  const invocationTimeoutSeconds = integer(headers, 'x-amzn-sagemaker-invocationtimeoutseconds', 'invocationTimeoutSeconds', 1, 3600, 900);
  if (outputPathExtension !== undefined && (outputPathExtension.split('/').some((s) => s === '..' || s === '.'))) {
    fail('s3OutputPathExtension', outputPathExtension, 'Member must not contain . or .. path segments');
  }
  if (inputLocation !== undefined && body.length > 0) throw new InferqError('ValidationError', 'Provide either InputLocation or an inline Body, not both.');
  if (inputLocation === undefined && body.length === 0) throw new InferqError('ValidationError', 'Either InputLocation or an inline Body is required.');
  if (body.length > MAX_INLINE_BODY_BYTES) throw new InferqError('ValidationError', `The inline Body is ${body.length} bytes; at most ${MAX_INLINE_BODY_BYTES} bytes may be sent inline. Upload larger inputs and pass InputLocation.`);
  return {
    requestTtlSeconds,
    invocationTimeoutSeconds,
    ...(contentType !== undefined ? { contentType } : {}),
    ...(accept !== undefined ? { accept } : {}),
    ...(customAttributes !== undefined ? { customAttributes } : {}),
    ...(inferenceId !== undefined ? { inferenceId } : {}),
    ...(inputLocation !== undefined ? { inputLocation } : { body }),
    ...(outputPathExtension !== undefined ? { outputPathExtension } : {}),
    ...(filename !== undefined ? { filename } : {}),
  };
}

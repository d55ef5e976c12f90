/**
 * S3 backend failures onto the typed catalogue. An S3 service error is mapped by its error code
 * (the SDK's `name`, the `<Code>` of the XML body) and, for bodiless answers (HEAD), by its HTTP
 * status; a network failure (no HTTP answer at all), a 5xx, throttling, or the backend refusing
 * inferq's own credentials is `StorageUnavailable` (503, retryable: async work is retried, not
 * failed, while the backend is unreachable). Messages are never inspected.
 */
import { InferqError, isErrorCode, type ErrorCode } from '../../errors/index.js';

/** What a call was about, for the error details and the meaning of a bare 404. */
export interface ErrorContext {
  readonly bucket?: string;
  readonly key?: string;
  readonly uploadId?: string;
  /** What a bodiless 404 means here (HEAD of an object or bucket). */
  readonly notFound?: ErrorCode;
  /** What a bodiless 416 means here (HEAD of a part). */
  readonly unsatisfiable?: ErrorCode;
}

/** S3 codes that are catalogue codes of the same meaning. */
const SAME_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'NoSuchBucket', 'NoSuchKey', 'NoSuchUpload', 'BucketNotEmpty', 'BucketAlreadyOwnedByYou', 'BucketAlreadyExists', 'InvalidBucketName',
  'KeyTooLongError', 'InvalidRange', 'InvalidPartNumber', 'InvalidPart', 'InvalidPartOrder', 'EntityTooSmall', 'EntityTooLarge',
  'PreconditionFailed', 'ConditionalRequestConflict', 'InvalidArgument', 'InvalidRequest', 'MalformedXML', 'BadDigest', 'InvalidDigest',
  'IncompleteBody', 'MissingContentLength', 'NotModified',
]);

/** Codes by which the backend refuses inferq itself (its configured credentials), not the caller. */
const BACKEND_REFUSALS: ReadonlySet<string> = new Set([
  'AccessDenied', 'InvalidAccessKeyId', 'SignatureDoesNotMatch', 'ExpiredToken', 'InvalidToken', 'TokenRefreshRequired', 'RequestTimeTooSkewed',
  'AuthorizationHeaderMalformed', 'CredentialsProviderError', 'AllAccessDisabled', 'AccountProblem',
]);

/** Codes of throttling and transient server trouble (also sent with 4xx statuses by some servers). */
const TRANSIENT: ReadonlySet<string> = new Set([
  'SlowDown', 'Throttling', 'ThrottlingException', 'RequestThrottled', 'TooManyRequestsException', 'ServiceUnavailable', 'InternalError',
  'RequestTimeout', 'RequestTimeoutException', 'TimeoutError', 'OperationAborted',
]);

/** Detail fields S3 error bodies carry that inferq's wire errors render too. */
const DETAIL_FIELDS = ['BucketName', 'Key', 'Condition', 'ActualPartCount', 'PartNumberRequested', 'ArgumentName', 'ArgumentValue', 'UploadId', 'MaxSizeAllowed', 'Size', 'RangeRequested', 'ActualObjectSize'] as const;

interface ServiceErrorShape {
  readonly name?: unknown;
  readonly Code?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: unknown };
  readonly $response?: unknown;
}

function fieldOf(err: object, name: string): unknown {
  return (err as Record<string, unknown>)[name];
}

/** The HTTP status of an SDK service error, or undefined when no HTTP answer was received. */
function statusOf(err: ServiceErrorShape): number | undefined {
  const status = err.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

function codeOf(err: ServiceErrorShape): string | undefined {
  if (typeof err.Code === 'string') return err.Code;
  return typeof err.name === 'string' ? err.name : undefined;
}

function detailsOf(err: object, ctx: ErrorContext, code: ErrorCode): Record<string, string> {
  const details: Record<string, string> = {};
  for (const field of DETAIL_FIELDS) {
    const value = fieldOf(err, field);
    if (typeof value === 'string' || typeof value === 'number') details[field] = String(value);
  }
  if (code === 'NoSuchBucket' && ctx.bucket !== undefined) details['BucketName'] ??= ctx.bucket;
  if (code === 'NoSuchKey' && ctx.key !== undefined) details['Key'] ??= ctx.key;
  if (code === 'NoSuchUpload' && ctx.uploadId !== undefined) details['UploadId'] ??= ctx.uploadId;
  return details;
}

const MESSAGES: Partial<Record<ErrorCode, string>> = {
  NoSuchBucket: 'The specified bucket does not exist',
  NoSuchKey: 'The specified key does not exist.',
  NoSuchUpload: 'The specified multipart upload does not exist. The upload ID might be invalid, or the multipart upload might have been aborted or completed.',
  InvalidPartNumber: 'The requested partnumber is not satisfiable',
  InvalidRange: 'The requested range is not satisfiable',
};

/** A catalogue error for `code`, keeping the backend's message when it gave one. */
function catalogued(err: unknown, code: ErrorCode, ctx: ErrorContext): InferqError {
  const message = err instanceof Error && err.message && err.message !== 'UnknownError' ? err.message : (MESSAGES[code] ?? code);
  return new InferqError(code, message, typeof err === 'object' && err !== null ? detailsOf(err, ctx, code) : {}, { cause: err });
}

/** The backend is unreachable or failing: retry later. */
export function unavailable(err: unknown, why: string): InferqError {
  return new InferqError('StorageUnavailable', `The S3 backend ${why}; nothing was stored. Retry later.`, {}, { cause: err });
}

/** Maps a bodiless answer (HEAD) by its status. */
function byStatus(err: unknown, status: number, ctx: ErrorContext): InferqError | undefined {
  if (status === 404) return catalogued(err, ctx.notFound ?? 'NoSuchKey', ctx);
  if (status === 412) return catalogued(err, 'PreconditionFailed', ctx);
  if (status === 304) return catalogued(err, 'NotModified', ctx);
  if (status === 416) return catalogued(err, ctx.unsatisfiable ?? 'InvalidRange', ctx);
  if (status === 409) return catalogued(err, 'ConditionalRequestConflict', ctx);
  if (status === 400) return catalogued(err, 'InvalidRequest', ctx);
  return undefined;
}

/**
 * The InferqError an error thrown by the S3 client stands for. InferqErrors pass unchanged;
 * anything that is not an S3 answer (a refused connection, a reset, a timeout, a DNS failure) is
 * StorageUnavailable, as are 5xx answers, throttling and refusals of inferq's credentials.
 */
export function mapS3Error(err: unknown, ctx: ErrorContext = {}): InferqError {
  if (err instanceof InferqError) return err;
  if (typeof err !== 'object' || err === null) return new InferqError('InternalError', 'The S3 backend failed unexpectedly.', {}, { cause: err });
  const shape = err as ServiceErrorShape;
  const status = statusOf(shape);
  const code = codeOf(shape);
  if (status === undefined) return unavailable(err, 'could not be reached');
  if (code !== undefined && BACKEND_REFUSALS.has(code)) return unavailable(err, `refused inferq's credentials (${code})`);
  if (code !== undefined && TRANSIENT.has(code)) return unavailable(err, `is unavailable (${code})`);
  if (status >= 500 || status === 429) return unavailable(err, `answered ${status}`);
  if (status === 403) return unavailable(err, `refused inferq's credentials (${status})`);
  if (code !== undefined && isErrorCode(code) && SAME_CODES.has(code)) return catalogued(err, code, ctx);
  if (code === 'NotFound' && status === 404) return catalogued(err, ctx.notFound ?? 'NoSuchKey', ctx);
  if (code === 'RequestedRangeNotSatisfiable') return catalogued(err, ctx.unsatisfiable ?? 'InvalidRange', ctx);
  if (code === 'NotImplemented') return catalogued(err, 'InvalidRequest', ctx);
  return byStatus(err, status, ctx) ?? new InferqError('InternalError', `The S3 backend answered ${status}${code ? ` ${code}` : ''}.`, {}, { cause: err });
}

/** Runs an S3 call, mapping what it throws with {@link mapS3Error}. */
export async function s3Call<T>(ctx: ErrorContext, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw mapS3Error(err, ctx);
  }
}

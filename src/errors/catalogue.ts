/**
 * The typed error catalogue: every failure inferq reports has a stable code, an HTTP status and a
 * retryable flag. Wire shapes (S3 XML, SageMaker JSON) are chosen only at the HTTP edge, from the
 * `s3` and `sagemaker` names recorded here; code never branches on message text.
 */
import { STORAGE_FAULT_MESSAGES, storageFaultCode } from './storage.js';

/** How one catalogue entry is reported. */
export interface ErrorSpec {
  /** HTTP status sent to clients. */
  readonly httpStatus: number;
  /** Whether a client may retry the same request unchanged. */
  readonly retryable: boolean;
  /** The `<Code>` of an S3 XML error body. */
  readonly s3: string;
  /** The `X-Amzn-ErrorType` of a SageMaker JSON error. */
  readonly sagemaker: string;
  /** One line for docs/errors.md. */
  readonly description: string;
}

function spec(httpStatus: number, retryable: boolean, s3: string, sagemaker: string, description: string): ErrorSpec {
  return { httpStatus, retryable, s3, sagemaker, description };
}

/** Every error code inferq can report. Keys are the stable codes. */
export const ERROR_CATALOGUE = {
  // Authentication
  SignatureDoesNotMatch: spec(403, false, 'SignatureDoesNotMatch', 'InvalidSignatureException', 'The request signature does not match the one computed with the secret key.'),
  InvalidAccessKeyId: spec(403, false, 'InvalidAccessKeyId', 'UnrecognizedClientException', 'The access key id is not known to this server.'),
  RequestTimeTooSkewed: spec(403, false, 'RequestTimeTooSkewed', 'InvalidSignatureException', 'The request time differs from the server time by more than the allowed skew.'),
  RequestExpired: spec(403, false, 'AccessDenied', 'InvalidSignatureException', 'A presigned URL was used after it expired.'),
  MissingAuthentication: spec(403, false, 'AccessDenied', 'MissingAuthenticationTokenException', 'The request carries no AWS Signature Version 4 authentication.'),
  IncompleteSignature: spec(403, false, 'AuthorizationHeaderMalformed', 'IncompleteSignatureException', 'The Authorization header or presigned query is malformed or incomplete.'),
  AccessDenied: spec(403, false, 'AccessDenied', 'AccessDeniedException', 'The credentials are not allowed to perform this request.'),
  MetricsUnauthorized: spec(401, false, 'AccessDenied', 'AccessDeniedException', 'GET /metrics without the bearer token server.metrics.bearerToken (required when the server is bound to a non-loopback address).'),
  // Dashboard (/ui/): session sign-in; never reported by the S3 or SageMaker APIs
  SessionRequired: spec(401, false, 'AccessDenied', 'AccessDeniedException', 'A dashboard call (/ui/api/…) without a valid session cookie, or a sign-in with unknown credentials: sign in again.'),
  CsrfTokenInvalid: spec(403, false, 'AccessDenied', 'AccessDeniedException', 'A state-changing dashboard call without the session\'s CSRF token in the X-CSRF-Token header.'),
  TooManySignIns: spec(429, true, 'SlowDown', 'ThrottlingException', 'Too many failed dashboard sign-ins from one address within a minute; wait and retry.'),
  XAmzContentSHA256Mismatch: spec(400, false, 'XAmzContentSHA256Mismatch', 'InvalidSignatureException', 'The body does not match the signed x-amz-content-sha256.'),
  // Request shape
  InvalidArgument: spec(400, false, 'InvalidArgument', 'ValidationError', 'A parameter is invalid.'),
  InvalidRequest: spec(400, false, 'InvalidRequest', 'ValidationError', 'The request is not valid in this form.'),
  MalformedXML: spec(400, false, 'MalformedXML', 'ValidationError', 'The XML body is not well-formed or does not match the schema.'),
  IncompleteBody: spec(400, false, 'IncompleteBody', 'ValidationError', 'The body ended before Content-Length or the chunked encoding said it would.'),
  MissingContentLength: spec(411, false, 'MissingContentLength', 'ValidationError', 'A body was sent without a length.'),
  MethodNotAllowed: spec(405, false, 'MethodNotAllowed', 'ValidationError', 'The method is not allowed on this resource.'),
  NotImplemented: spec(400, false, 'NotImplemented', 'ValidationError', 'An S3 sub-resource or header inferq does not implement. S3 answers this code with 501; inferq answers 400, so that no input makes it answer a 5xx other than 503 (the code is the same, and clients do not retry either).'),
  RequestTimeout: spec(408, false, 'RequestTimeout', 'RequestTimeoutException', 'No part of the request body arrived for server.bodyTimeoutSeconds; the connection is closed.'),
  UnknownOperation: spec(400, false, 'InvalidRequest', 'UnknownOperationException', 'The request names a service or operation inferq does not serve (other AWS services: InvalidAction, UnknownOperationException).'),
  EntityTooLarge: spec(400, false, 'EntityTooLarge', 'ValidationError', 'The body is larger than the allowed maximum.'),
  // Object store
  NoSuchBucket: spec(404, false, 'NoSuchBucket', 'ValidationError', 'The bucket does not exist.'),
  NoSuchKey: spec(404, false, 'NoSuchKey', 'ValidationError', 'The object does not exist.'),
  NoSuchUpload: spec(404, false, 'NoSuchUpload', 'ValidationError', 'The multipart upload does not exist, or was completed or aborted.'),
  BucketNotEmpty: spec(409, false, 'BucketNotEmpty', 'ValidationError', 'The bucket still holds objects or uploads.'),
  BucketAlreadyOwnedByYou: spec(409, false, 'BucketAlreadyOwnedByYou', 'ValidationError', 'The bucket already exists.'),
  BucketAlreadyExists: spec(409, false, 'BucketAlreadyExists', 'ValidationError', 'The bucket name is taken by another account of the S3 backend (objects.backend: s3).'),
  InvalidBucketName: spec(400, false, 'InvalidBucketName', 'ValidationError', 'The bucket name breaks the S3 naming rules.'),
  KeyTooLongError: spec(400, false, 'KeyTooLongError', 'ValidationError', 'The object key is longer than 1024 bytes.'),
  InvalidRange: spec(416, false, 'InvalidRange', 'ValidationError', 'The requested range cannot be satisfied.'),
  InvalidPartNumber: spec(416, false, 'InvalidPartNumber', 'ValidationError', 'A GET or HEAD asked for a part number beyond the parts of the object.'),
  BadDigest: spec(400, false, 'BadDigest', 'ValidationError', 'The body does not match the Content-MD5 or x-amz-checksum sent with it.'),
  InvalidDigest: spec(400, false, 'InvalidDigest', 'ValidationError', 'The Content-MD5 or checksum header is not well-formed.'),
  InvalidPart: spec(400, false, 'InvalidPart', 'ValidationError', 'A listed part was not uploaded or its ETag does not match.'),
  InvalidPartOrder: spec(400, false, 'InvalidPartOrder', 'ValidationError', 'The part list is not in ascending order.'),
  EntityTooSmall: spec(400, false, 'EntityTooSmall', 'ValidationError', 'A part other than the last is smaller than 5 MiB.'),
  PreconditionFailed: spec(412, false, 'PreconditionFailed', 'ValidationError', 'An If-Match or If-Unmodified-Since condition failed, or a conditional write (If-None-Match: *, If-Match) found the key in another state.'),
  ConditionalRequestConflict: spec(409, false, 'ConditionalRequestConflict', 'ValidationError', 'A conditional write raced another write of the same key on the S3 backend; fetch the current ETag and retry.'),
  NotModified: spec(304, false, 'NotModified', 'ValidationError', 'An If-None-Match or If-Modified-Since condition matched.'),
  // Asynchronous inference
  ValidationError: spec(400, false, 'InvalidArgument', 'ValidationError', 'A SageMaker Runtime request parameter is invalid or the endpoint does not exist.'),
  InvocationStateConflict: spec(409, false, 'InvalidRequest', 'ValidationError', 'The asynchronous request is not in a state that allows this: cancel of a finished request, re-run of one that did not fail, expire or get cancelled.'),
  InferenceIdConflict: spec(400, false, 'InvalidArgument', 'ValidationError', 'The InferenceId is already used by a different request on this endpoint.'),
  // Control plane (SageMaker JSON 1.1: the `sagemaker` name is the `__type`)
  ControlPlaneValidation: spec(400, false, 'InvalidArgument', 'ValidationException', 'A SageMaker control-plane request is invalid, names a model, endpoint config or endpoint that does not exist (as SageMaker reports "Could not find …"), or tries to change a configuration-managed endpoint.'),
  ResourceInUse: spec(400, false, 'InvalidRequest', 'ResourceInUse', 'The model or endpoint config is used by an endpoint, or the endpoint is busy with another change.'),
  ResourceLimitExceeded: spec(400, false, 'InvalidRequest', 'ResourceLimitExceeded', 'Creating the resource would exceed a limit of this inferq.'),
  ResourceNotFound: spec(400, false, 'InvalidRequest', 'ResourceNotFound', 'The resource named by the control-plane call does not exist.'),
  // Application Auto Scaling (JSON 1.1: the `sagemaker` name is the `__type`)
  ScalingValidation: spec(400, false, 'InvalidArgument', 'ValidationException', 'An Application Auto Scaling request is invalid: a namespace other than sagemaker, a dimension other than sagemaker:variant:DesiredInstanceCount, a ResourceId not of the form endpoint/<name>/variant/<variant>, capacities outside 0..64 or MinCapacity above MaxCapacity, a policy type or metric inferq does not take.'),
  ScalingObjectNotFound: spec(400, false, 'InvalidRequest', 'ObjectNotFoundException', 'The scalable target or scaling policy named by the Application Auto Scaling call is not registered.'),
  ScalingConcurrentUpdate: spec(400, false, 'InvalidRequest', 'ConcurrentUpdateException', 'Another call changed the same scalable target or scaling policy meanwhile; retry the call.'),
  ScalingLimitExceeded: spec(400, false, 'InvalidRequest', 'LimitExceededException', 'A scalable target already has 50 scaling policies (the Application Auto Scaling quota).'),
  ScalingInvalidNextToken: spec(400, false, 'InvalidArgument', 'InvalidNextTokenException', 'The NextToken of a Describe call is not one inferq handed out for that call.'),
  // Real-time inference
  ModelError: spec(424, false, 'InvalidRequest', 'ModelError', 'The model answered a real-time call with a non-2xx status, closed the connection, or did not answer within realtime.timeoutSeconds (OriginalStatusCode 0).'),
  ModelNotReady: spec(429, true, 'SlowDown', 'ModelNotReadyException', 'No healthy model instance became available within realtime.startTimeoutSeconds; retry later.'),
  // Server
  StorageFull: spec(503, true, 'ServiceUnavailable', 'ServiceUnavailable', "inferq's data directory is full (ENOSPC, EDQUOT, SQLITE_FULL): nothing of the request was stored; retry once space is freed. Async requests that cannot store their result wait and are retried."),
  StorageReadOnly: spec(503, true, 'ServiceUnavailable', 'ServiceUnavailable', "inferq's data directory cannot be written (EROFS, SQLITE_READONLY): nothing of the request was stored; retry later. Async requests wait and are retried."),
  StorageUnavailable: spec(503, true, 'ServiceUnavailable', 'ServiceUnavailable', 'The S3 backend (objects.backend: s3) could not be reached, answered 5xx or throttled, or refused inferq\'s credentials: nothing of the request was stored; retry later. Async requests wait and are retried.'),
  ServiceUnavailable: spec(503, true, 'SlowDown', 'ServiceUnavailable', 'The server is overloaded or shutting down; retry later.'),
  InternalError: spec(500, true, 'InternalError', 'InternalFailure', 'An unexpected internal error; the request may be retried.'),
} as const satisfies Record<string, ErrorSpec>;

/** A stable inferq error code. */
export type ErrorCode = keyof typeof ERROR_CATALOGUE;

/** The one error type inferq throws for expected failures. */
export class InferqError extends Error {
  override readonly name = 'InferqError';
  /** Stable code from {@link ERROR_CATALOGUE}. */
  readonly code: ErrorCode;
  /** Extra fields rendered into the wire error (e.g. `Key`, `BucketName`, ModelError's `OriginalStatusCode`). */
  readonly details: Readonly<Record<string, string | number>>;

  constructor(code: ErrorCode, message: string, details: Record<string, string | number> = {}, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.details = details;
  }

  /** The catalogue entry of this error. */
  get spec(): ErrorSpec {
    return ERROR_CATALOGUE[this.code];
  }

  get httpStatus(): number {
    return this.spec.httpStatus;
  }

  get retryable(): boolean {
    return this.spec.retryable;
  }
}

/** Whether `value` is an {@link InferqError}, optionally of one code. */
export function isInferqError(value: unknown, code?: ErrorCode): value is InferqError {
  return value instanceof InferqError && (code === undefined || value.code === code);
}

/**
 * The StorageFull / StorageReadOnly error `err` stands for (see storage.ts; an InferqError of one
 * of those codes is returned as it is, anything else is kept as the cause), or undefined.
 */
export function toStorageFault(err: unknown): InferqError | undefined {
  const code = storageFaultCode(err);
  if (code === undefined) return undefined;
  if (err instanceof InferqError && err.code === code) return err;
  return new InferqError(code, STORAGE_FAULT_MESSAGES[code], {}, { cause: err });
}

/**
 * Whether `err` is an InferqError reporting a storage fault: inferq's own disk (StorageFull,
 * StorageReadOnly) or an S3 backend that is unreachable or failing (StorageUnavailable).
 */
export function isStorageFault(err: unknown): err is InferqError {
  return err instanceof InferqError && (err.code === 'StorageFull' || err.code === 'StorageReadOnly' || err.code === 'StorageUnavailable');
}

/** Wraps anything thrown into an InferqError (storage faults become StorageFull / StorageReadOnly, other unknown failures InternalError). */
export function toInferqError(value: unknown): InferqError {
  if (value instanceof InferqError) return value;
  const fault = toStorageFault(value);
  if (fault) return fault;
  return new InferqError('InternalError', 'We encountered an internal error. Please try again.', {}, { cause: value });
}

/** Whether `value` names an entry of the catalogue (for codes that crossed a process or thread boundary). */
export function isErrorCode(value: string): value is ErrorCode {
  return Object.hasOwn(ERROR_CATALOGUE, value);
}

/**
 * The errors a real-time call reports for its model, shaped like SageMaker's: `ModelError` (424)
 * with OriginalStatusCode / OriginalMessage / LogStreamArn / ErrorCode for a non-2xx answer, and
 * with OriginalStatusCode 0 when no complete answer came (connection lost, model call timeout);
 * `ModelNotReadyException` (429) when the model cannot be reached at all.
 */
import { InferqError } from '../errors/index.js';
import type { ModelCallError } from '../models/index.js';

/** The account id inferq reports in ARNs and messages. */
export const ACCOUNT_ID = '000000000000';

/** Longest model text quoted inside `Message` (the shape allows 2048 characters). */
const MAX_QUOTED = 1000;

/** The endpoint a model error belongs to. */
export interface ModelErrorScope {
  readonly endpointName: string;
  readonly region: string;
  /** The account in ARNs and messages (`server.account`); {@link ACCOUNT_ID} when absent. */
  readonly account?: string;
}

function logGroup(scope: ModelErrorScope): string {
  return `/aws/sagemaker/Endpoints/${scope.endpointName}`;
}

function consoleHint(scope: ModelErrorScope): string {
  return `See https://${scope.region}.console.aws.amazon.com/cloudwatch/home?region=${scope.region}#logEventViewer:group=${logGroup(scope)} in account ${scope.account ?? ACCOUNT_ID} for more information.`;
}

/** The ModelError for status `status` and the model's text (status 0: no complete response). */
export function modelError(scope: ModelErrorScope, status: number, originalMessage: string): InferqError {
  const kind = status >= 400 && status < 500 ? 'client' : 'server';
  const quoted = originalMessage.length > MAX_QUOTED ? `${originalMessage.slice(0, MAX_QUOTED)}…` : originalMessage;
  return new InferqError('ModelError', `Received ${kind} error (${status}) from primary with message "${quoted}". ${consoleHint(scope)}`, {
    OriginalStatusCode: status,
    OriginalMessage: originalMessage,
    LogStreamArn: `arn:aws:logs:${scope.region}:${scope.account ?? ACCOUNT_ID}:log-group:${logGroup(scope)}`,
    ErrorCode: kind === 'client' ? 'CLIENT_ERROR_FROM_MODEL' : 'SERVER_ERROR_FROM_MODEL',
  });
}

/** Text SageMaker reports when the container does not answer in time. */
export const TIMEOUT_MESSAGE = 'Your invocation timed out while waiting for a response from container primary. Review the latency metrics for each container in Amazon CloudWatch, resolve the issue, and try again.';

/**
 * The error for a model call that produced no complete response: a timeout or a lost connection
 * is a ModelError with OriginalStatusCode 0; an unreachable model is ModelNotReadyException
 * (retried by the SDKs).
 */
export function noResponseError(scope: ModelErrorScope, err: ModelCallError, timeoutMs: number): InferqError {
  switch (err.failure) {
    case 'timeout':
      return modelError(scope, 0, `${TIMEOUT_MESSAGE} (realtime.timeoutSeconds is ${timeoutMs / 1000} s)`);
    case 'unreachable':
      return new InferqError('ModelNotReady', `The model for endpoint ${scope.endpointName} is not reachable (${err.message}); retry later.`);
    default:
      return modelError(scope, 0, `The model closed the connection without a complete response (connection lost: ${err.message}).`);
  }
}

/**
 * SageMaker's asynchronous-inference notification message (see
 * shared/reference/sagemaker-async-semantics.md §4): built when a request finishes and recorded in
 * the outbox with its terminal state; the optional `responseBody` (the result or failure object,
 * when it is at most 128 KB and the topic asks for it) is added at delivery.
 */
import type { EndpointConfig } from '../config/index.js';
import type { Job, JobOutcome, NewNotification, ObjectLocation } from '../queue/index.js';

/** Largest response carried inline as `responseBody` (as SageMaker). */
export const MAX_RESPONSE_BODY_BYTES = 128 * 1024;

/** The fixed `responseBody.message` of SageMaker. */
export const RESPONSE_BODY_MESSAGE = 'Check S3 path location(if configured) or Cloudwatch for additional details.';

/** A terminal outcome as a worker records it, with the model's response content type when it answered. */
export type FinishedOutcome = JobOutcome & { readonly responseContentType?: string };

function uri(location: ObjectLocation): string {
  return `s3://${location.bucket}/${location.key}`;
}

function requestParameters(job: Job): Record<string, string> {
  const input = job.input.kind === 'object' ? uri(job.input.location) : job.input.kind === 'url' ? job.input.url : undefined;
  return {
    endpointName: job.endpoint,
    ...(input !== undefined ? { inputLocation: input } : {}),
    ...(job.contentType !== undefined ? { contentType: job.contentType } : {}),
    ...(job.accept !== undefined ? { accept: job.accept } : {}),
  };
}

/**
 * The message of `job` finished with `outcome` at `now` (epoch ms), in SageMaker's field order.
 * Failures (and expiries) carry `failureReason` and no `responseParameters`, as SageMaker's.
 */
export function notificationMessage(job: Job, outcome: FinishedOutcome, region: string, now: number): Record<string, unknown> {
  const ok = outcome.state === 'succeeded';
  return {
    awsRegion: region,
    eventTime: new Date(now).toISOString(),
    receivedTime: new Date(job.receivedAt).toISOString(),
    invocationStatus: ok ? 'Completed' : 'Failed',
    ...(ok ? {} : { failureReason: outcome.failureReason ?? 'The request failed.' }),
    requestParameters: requestParameters(job),
    ...(ok ? { responseParameters: { contentType: outcome.responseContentType ?? 'application/octet-stream', outputLocation: uri(job.output) } } : {}),
    inferenceId: job.inferenceId,
    eventVersion: '1.0',
    eventSource: 'aws:sagemaker',
    eventName: 'InferenceResult',
  };
}

/**
 * The outbox entry to record with `outcome` of `job` on `endpoint`, or undefined when the
 * endpoint has no topic for it.
 */
export function notificationFor(endpoint: EndpointConfig, job: Job, outcome: FinishedOutcome, region: string, now: number): NewNotification | undefined {
  const config = endpoint.async.notification;
  if (config === undefined) return undefined;
  const ok = outcome.state === 'succeeded';
  const topic = ok ? config.successTopic : config.errorTopic;
  if (topic === undefined) return undefined;
  const includeBody = ok ? config.includeBodyOnSuccess : config.includeBodyOnError;
  return {
    topic,
    message: JSON.stringify(notificationMessage(job, outcome, region, now)),
    ...(includeBody ? { bodyFrom: ok ? job.output : job.failure } : {}),
  };
}

/** The message text of `entry` with `body` (the response bytes) added as `responseBody`. */
export function withResponseBody(message: string, body: Buffer): string {
  const parsed = JSON.parse(message) as Record<string, unknown>;
  return JSON.stringify(Object.assign(parsed, { responseBody: { content: body.toString('base64'), message: RESPONSE_BODY_MESSAGE, encoding: 'BASE64' } }));
}

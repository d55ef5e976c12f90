/**
 * InvokeEndpoint / InvokeEndpointWithResponseStream request parsing: every header of the two
 * operations validated against the SageMaker constraints (§3/§4 of the wire reference). The
 * model-facing fields (content type, accept, custom attributes, inference id) are returned; the
 * routing fields inferq has no use for (target model, container, component, session, prefix id)
 * are validated and otherwise ignored.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { InferqError } from '../errors/index.js';
import { ASCII_1024, PRINTABLE_ID_64, text } from './validate.js';

/** The one production variant of every inferq endpoint. */
export const VARIANT = 'AllTraffic';

/** Content type sent to the model when the caller gave none (boto3 and the CLI send no Content-Type). */
export const DEFAULT_CONTENT_TYPE = 'application/octet-stream';

/** A validated real-time request. */
export interface RealtimeRequest {
  readonly contentType: string;
  readonly accept?: string;
  readonly customAttributes?: string;
  readonly inferenceId?: string;
}

const NAME_63 = { max: 63, pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/, patternText: '^[a-zA-Z0-9](-*[a-zA-Z0-9])*' };
const COMPONENT = { max: 63, pattern: /^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$/, patternText: '^[a-zA-Z0-9]([\\-a-zA-Z0-9]*[a-zA-Z0-9])?$' };
const SESSION = { max: 256, pattern: /^(NEW_SESSION)$|^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/, patternText: '^(NEW_SESSION)$|^[a-zA-Z0-9](-*[a-zA-Z0-9])*$' };
const STREAM_SESSION = { max: 256, pattern: /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/, patternText: '^[a-zA-Z0-9](-*[a-zA-Z0-9])*$' };

function validateRouting(headers: IncomingHttpHeaders, endpointName: string, stream: boolean): void {
  const variant = text(headers, 'x-amzn-sagemaker-target-variant', 'targetVariant', NAME_63);
  if (variant !== undefined && variant !== VARIANT) {
    throw new InferqError('ValidationError', `Variant ${variant} not found for endpoint ${endpointName}; inferq endpoints have the one variant ${VARIANT}.`);
  }
  text(headers, 'x-amzn-sagemaker-target-container-hostname', 'targetContainerHostname', NAME_63);
  text(headers, 'x-amzn-sagemaker-inference-component', 'inferenceComponentName', COMPONENT);
  text(headers, 'x-amzn-sagemaker-session-id', 'sessionId', stream ? STREAM_SESSION : SESSION);
  text(headers, 'x-amzn-sagemaker-prefix-aware-id', 'prefixAwareId', PRINTABLE_ID_64);
  if (!stream) {
    text(headers, 'x-amzn-sagemaker-target-model', 'targetModel', { min: 1, max: 1024, pattern: /^[\x21-\x7e][\x20-\x7e]*$/, patternText: '\\A\\S[\\p{Print}]*\\z' });
    text(headers, 'x-amzn-sagemaker-enable-explanations', 'enableExplanations', { min: 1, max: 64 });
  }
}

/**
 * Validates the headers of a real-time call. `stream` selects InvokeEndpointWithResponseStream,
 * whose Accept travels in `X-Amzn-SageMaker-Accept` instead of `Accept`.
 * @throws InferqError ValidationError naming the field.
 */
export function parseRealtimeRequest(headers: IncomingHttpHeaders, endpointName: string, stream: boolean): RealtimeRequest {
  const contentType = text(headers, 'content-type', 'contentType', ASCII_1024);
  const accept = text(headers, stream ? 'x-amzn-sagemaker-accept' : 'accept', 'accept', ASCII_1024);
  const customAttributes = text(headers, 'x-amzn-sagemaker-custom-attributes', 'customAttributes', ASCII_1024);
  const inferenceId = text(headers, 'x-amzn-sagemaker-inference-id', 'inferenceId', PRINTABLE_ID_64);
  validateRouting(headers, endpointName, stream);
  return {
    contentType: contentType === undefined || contentType === '' ? DEFAULT_CONTENT_TYPE : contentType,
    ...(accept !== undefined ? { accept } : {}),
    ...(customAttributes !== undefined ? { customAttributes } : {}),
    ...(inferenceId !== undefined ? { inferenceId } : {}),
  };
}

/**
 * Endpoints created through the SageMaker control plane: the endpoint the deploy feature
 * translated from the stored documents (in the shape of one `endpoints:` entry) is parsed with the
 * same schema and resolved by the same code as an endpoint of the configuration file. Its errors
 * are the control plane's (InferqError ControlPlaneValidation, a ValidationException on the wire)
 * and name the SageMaker field the bad setting came from where there is one.
 */
import { InferqError } from '../errors/index.js';
import { ConfigError } from './common.js';
import { deepFreeze, resolveEndpoint } from './resolve.js';
import { endpointSchema } from './schema.js';
import type { EndpointConfig, TopicConfig } from './types.js';

/** The SageMaker field each endpoint setting comes from (longest matching key wins). */
const SAGEMAKER_FIELDS: readonly (readonly [string, string])[] = [
  ['name', 'EndpointName'],
  ['model.startTimeoutSeconds', 'ProductionVariants[0].ContainerStartupHealthCheckTimeoutInSeconds'],
  ['model.env', 'PrimaryContainer.Environment'],
  ['model', 'PrimaryContainer.Image (images)'],
  ['instances', 'ProductionVariants[0].InitialInstanceCount / ServerlessConfig, or the scalable target\'s MinCapacity / MaxCapacity'],
  ['async.outputPath', 'AsyncInferenceConfig.OutputConfig.S3OutputPath'],
  ['async.failurePath', 'AsyncInferenceConfig.OutputConfig.S3FailurePath'],
  ['async.maxConcurrentInvocations', 'AsyncInferenceConfig.ClientConfig.MaxConcurrentInvocationsPerInstance'],
  ['async.notification.successTopic', 'AsyncInferenceConfig.OutputConfig.NotificationConfig.SuccessTopic'],
  ['async.notification.errorTopic', 'AsyncInferenceConfig.OutputConfig.NotificationConfig.ErrorTopic'],
  ['async.notification', 'AsyncInferenceConfig.OutputConfig.NotificationConfig'],
];

/** The SageMaker field for the endpoint setting `path` (`async.outputPath`), or the path itself. */
function sagemakerField(path: string): string {
  for (const [key, field] of SAGEMAKER_FIELDS) {
    if (path === key || path.startsWith(`${key}.`)) return field;
  }
  return path === '' ? '(endpoint)' : path;
}

function invalid(key: string, path: string, message: string): InferqError {
  return new InferqError('ControlPlaneValidation', `Endpoint ${key}: ${sagemakerField(path)}: ${message}.`);
}

/**
 * Parses `raw` (one `endpoints:` entry, as the deploy feature translates a SageMaker endpoint
 * config and model) with the endpoint schema and resolves it exactly as an endpoint of the
 * configuration file. `cwd`s must be absolute (the `images` map's already are); `key` names the
 * endpoint in error messages. The result is frozen, like the configuration.
 * @throws InferqError ControlPlaneValidation naming the SageMaker field of the bad setting.
 */
export function resolveApiEndpoint(raw: unknown, topics: Readonly<Record<string, TopicConfig>>, key: string): EndpointConfig {
  const parsed = endpointSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const path = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    throw invalid(key, path.map(String).join('.'), issue.code === 'unrecognized_keys' ? 'unknown setting' : issue.message);
  }
  try {
    return deepFreeze(resolveEndpoint(parsed.data, '', '/', topics));
  } catch (err) {
    if (err instanceof ConfigError) throw invalid(key, err.key.replace(/^\./, ''), err.reason);
    throw err;
  }
}

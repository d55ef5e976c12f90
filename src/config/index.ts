/** Configuration: schema, resolution and the frozen result (light.ts: the part that needs neither zod nor YAML). */
export { DEFAULT_ASYNC_BUCKET, isLoopbackHost, resolveConfig } from './resolve.js';
export { resolveApiEndpoint } from './api-endpoint.js';
export type { ConfigOverrides, Credential, EndpointConfig, EndpointNotificationConfig, ImageModel, ModelConfig, NotificationsConfig, ObjectsConfig, QueueConfig, ResolvedConfig, RetryPolicy, S3Path, TopicConfig, TopicTarget } from './types.js';
export { configFileSchema } from './schema.js';
export { CLIENT_ENVIRONMENT, ConfigError, DEV_CREDENTIALS, MODEL_ENVIRONMENT, SERVER_ENVIRONMENT, modelPortFromEnv, resolveClientConfig } from './light.js';
export type { ClientConfig, EnvironmentVariable } from './light.js';

/** Configuration: schema, resolution and the frozen result. */
export { ConfigError, DEFAULT_ASYNC_BUCKET, DEV_CREDENTIALS, isLoopbackHost, resolveConfig } from './resolve.js';
export type { ConfigOverrides, Credential, EndpointConfig, ModelConfig, QueueConfig, ResolvedConfig, S3Path } from './resolve.js';
export { resolveClientConfig } from './client.js';
export type { ClientConfig } from './client.js';
export { configFileSchema } from './schema.js';
export { modelPortFromEnv } from './model-env.js';

/** Configuration: schema, resolution and the frozen result. */
export { ConfigError, DEV_CREDENTIALS, isLoopbackHost, resolveConfig } from './resolve.js';
export type { ConfigOverrides, Credential, ResolvedConfig } from './resolve.js';
export { configFileSchema } from './schema.js';

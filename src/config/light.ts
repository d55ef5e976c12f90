/**
 * The light entry of the config feature: what the client commands (`inferq invoke`, `status`,
 * `version`, help texts) and model processes need, without the schema (zod) or the YAML parser
 * that index.ts brings in. Loading those costs more than bare node start-up (bench/cli.ts), so
 * start-up-sensitive callers import this file; everything here is also exported by index.ts.
 */
export { ConfigError, DEV_CREDENTIALS, SERVER_ENVIRONMENT } from './common.js';
export type { EnvironmentVariable } from './common.js';
export { CLIENT_ENVIRONMENT, resolveClientConfig } from './client.js';
export type { ClientConfig } from './client.js';
export { MODEL_ENVIRONMENT, modelPortFromEnv } from './model-env.js';

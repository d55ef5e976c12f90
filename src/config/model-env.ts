/**
 * The model-side view of the environment: the port a model server (such as the built-in echo
 * model) listens on, following the SageMaker container contract (`SAGEMAKER_BIND_TO_PORT`, then
 * `PORT`, default 8080). Lives here because only the config module reads the process environment.
 */
import { ConfigError, type EnvironmentVariable } from './common.js';

/** The variables a model server reads (`inferq model serve`, the built-in models). */
export const MODEL_ENVIRONMENT: readonly EnvironmentVariable[] = Object.freeze([
  { name: 'SAGEMAKER_BIND_TO_PORT', meaning: 'the port to listen on when --port is not given' },
  { name: 'PORT', meaning: 'the port when neither --port nor SAGEMAKER_BIND_TO_PORT is given (default 8080)' },
]);

/** The port a model server binds when neither variable is set. */
export const DEFAULT_MODEL_PORT = 8080;

function parsePort(key: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new ConfigError(key, `must be a port number, got ${JSON.stringify(raw)}`);
  const port = Number(raw);
  if (port > 65_535) throw new ConfigError(key, `must be between 0 and 65535, got ${port}`);
  return port;
}

/**
 * The port a model server should listen on: `SAGEMAKER_BIND_TO_PORT`, else `PORT`, else 8080.
 * Throws {@link ConfigError} naming the variable when its value is not a port number.
 * @param env the environment to read; defaults to the process environment.
 * @default 8080
 */
export function modelPortFromEnv(env: Readonly<Record<string, string | undefined>> = process.env): number {
  for (const key of ['SAGEMAKER_BIND_TO_PORT', 'PORT'] as const) {
    const raw = env[key];
    if (raw !== undefined && raw !== '') return parsePort(key, raw);
  }
  return DEFAULT_MODEL_PORT;
}

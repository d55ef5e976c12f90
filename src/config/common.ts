/**
 * What the server configuration (resolve.ts) and the light entry (light.ts) share: the error type
 * of a bad setting, the development credential pair, and the names of the environment variables
 * the server reads (for help texts; resolve.ts reads them).
 */

/** The development credential pair accepted on loopback binds when none is configured. */
export const DEV_CREDENTIALS = Object.freeze({ accessKeyId: 'test', secretAccessKey: 'test' });

/** A bad configuration; `key` names the offending setting. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  /** What is wrong with the setting (the message without the key). */
  readonly reason: string;
  constructor(readonly key: string, message: string) {
    super(`${key}: ${message}`);
    this.reason = message;
  }
}

/** An environment variable a command reads, and what it means (shown by `--help`). */
export interface EnvironmentVariable {
  readonly name: string;
  readonly meaning: string;
}

/** The variables `inferq serve` and `inferq worker` read. */
export const SERVER_ENVIRONMENT: readonly EnvironmentVariable[] = Object.freeze([
  { name: 'INFERQ_CONFIG', meaning: 'the YAML configuration file when --config is not given' },
  { name: 'INFERQ_FORWARD_SECRET', meaning: 'the shared secret of forwarded real-time calls when worker.forwardSecret is not set' },
]);

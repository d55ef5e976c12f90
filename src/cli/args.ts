/** Checks shared by the commands' flag handling: no stray arguments, port numbers. */
import { ConfigError } from '../config/light.js';

/** Throws a ConfigError when a command got positional arguments it does not take. */
export function noExtra(command: string, rest: readonly string[]): void {
  if (rest.length > 0) throw new ConfigError(command, `unexpected argument ${JSON.stringify(rest[0])}`);
}

/** Parses a `--port` value (undefined when the flag was not given). @throws ConfigError */
export function parsePort(raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  if (!/^\d+$/.test(raw) || Number(raw) > 65_535) throw new ConfigError('--port', `must be an integer from 0 to 65535, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

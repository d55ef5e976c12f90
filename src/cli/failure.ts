/**
 * How `inferq` reports a failed command: one line and an exit status. Loaded only when a command
 * failed, so the error types it checks cost nothing on the way to a success.
 */
import { ConfigError } from '../config/light.js';
import { isStartupError } from '../errors/index.js';
import { ServerError } from './client.js';

/** The one line printed for a failure, and the exit status: 2 for a bad configuration or environment, else 1. */
export function describeFailure(err: unknown): { line: string; status: number } {
  if (err instanceof ConfigError) return { line: `configuration error: ${err.message}`, status: 2 };
  if (isStartupError(err)) return { line: err.message, status: 2 };
  if (err instanceof ServerError) return { line: `the server answered ${err.status} ${err.message}`, status: 1 };
  const code = err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
  // `model serve` binds its port itself.
  if (code === 'EADDRINUSE') return { line: `${(err as Error).message}: the port is taken; choose another with --port`, status: 2 };
  // A system error (ECONNREFUSED, ENOENT, EPROTO for TLS to a plain port, …): its message says it all.
  if (code !== undefined && /^E[A-Z]+$/.test(code)) return { line: (err as Error).message, status: 1 };
  return { line: err instanceof Error ? err.stack ?? err.message : String(err), status: 1 };
}

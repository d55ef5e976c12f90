/** The version of inferq, read from its package.json. */
import { readFileSync } from 'node:fs';

/** The `version` field of inferq's package.json ('0.0.0' if it has none). */
export function version(): string {
  const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

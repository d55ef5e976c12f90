/**
 * Commands for the model servers that ship with inferq, resolved next to the running code: the
 * compiled `.js` under `dist/`, or the `.ts` source (run through tsx) when inferq runs from sources.
 */
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Names of the built-in models. */
export type BuiltinModelName = 'echo';

const ENTRY_POINTS: Record<BuiltinModelName, string> = { echo: 'echo-server' };

/**
 * The command that starts a built-in model, for `createCommandModelClient`:
 * `[node, <dir>/builtin/echo-server.js]`, or `[node, '--import', 'tsx', <dir>/builtin/echo-server.ts]`
 * when this module itself is running from TypeScript sources (tsx must then be resolvable from the
 * child's working directory).
 * @example
 * createCommandModelClient({ name: 'echo', command: builtinModelCommand('echo'), ... });
 */
export function builtinModelCommand(name: BuiltinModelName): string[] {
  const here = fileURLToPath(import.meta.url);
  const extension = extname(here);
  const entry = fileURLToPath(new URL(`./builtin/${ENTRY_POINTS[name]}${extension}`, import.meta.url));
  return extension === '.ts' ? [process.execPath, '--import', 'tsx', entry] : [process.execPath, entry];
}

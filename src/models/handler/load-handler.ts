/**
 * Loads a handler module for `inferq model serve`: a dynamic `import()` of the file's absolute URL,
 * then a check of its exports (`invoke` required, `load` optional). `.ts` files load when the
 * process runs with `node --import tsx`; otherwise compile them to `.js` first.
 */
import { existsSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HandlerModule } from './types.js';

/** A handler file that cannot be used, with the reason; the message names the file. */
export class HandlerLoadError extends Error {
  constructor(readonly file: string, reason: string, options?: ErrorOptions) {
    super(`handler ${file}: ${reason}`, options);
    this.name = 'HandlerLoadError';
  }
}

function describe(value: unknown): string {
  return value === null ? 'null' : typeof value;
}

/** Picks `invoke`/`load` from the module namespace, or from a default-exported object (CommonJS). */
function pickExports(file: string, namespace: Record<string, unknown>): HandlerModule {
  const fallback = namespace['default'];
  const source = typeof namespace['invoke'] !== 'function' && typeof fallback === 'object' && fallback !== null
    ? fallback as Record<string, unknown>
    : namespace;
  const invoke = source['invoke'];
  const load = source['load'];
  if (typeof invoke !== 'function') {
    throw new HandlerLoadError(file, `must export a function invoke(body, ctx); its invoke export is ${describe(invoke)}`);
  }
  if (load !== undefined && typeof load !== 'function') {
    throw new HandlerLoadError(file, `its load export must be a function when present; it is ${describe(load)}`);
  }
  return {
    invoke: (body, ctx) => (invoke as HandlerModule['invoke']).call(source, body, ctx),
    ...(load !== undefined ? { load: () => (load as () => unknown).call(source) } : {}),
  };
}

/**
 * Imports and validates a handler module. Throws {@link HandlerLoadError} naming the file when it
 * is missing, fails to import (syntax error, missing dependency, `.ts` without tsx) or lacks `invoke`.
 * @param file path of the module, relative to `cwd`.
 * @param cwd directory relative paths are resolved against. @default process.cwd()
 */
export async function loadHandler(file: string, cwd: string = process.cwd()): Promise<HandlerModule> {
  const path = resolve(cwd, file);
  if (!existsSync(path)) throw new HandlerLoadError(path, 'no such file');
  let namespace: Record<string, unknown>;
  try {
    namespace = await import(pathToFileURL(path).href) as Record<string, unknown>;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const hint = ['.ts', '.mts', '.cts'].includes(extname(path)) && /Unknown file extension|ERR_UNKNOWN_FILE_EXTENSION/.test(message)
      ? ' (TypeScript handlers need `node --import tsx`, or compile the handler to .js)'
      : '';
    throw new HandlerLoadError(path, `import failed: ${message}${hint}`, { cause: err });
  }
  return pickExports(path, namespace);
}

/**
 * `inferq model serve`: runs a handler module as a model server that follows the SageMaker
 * container contract. `GET /ping` answers 503 while the handler's `load()` runs, 200 once it
 * resolved and 500 (with the error) if it failed; `POST /invocations` reads the body (bounded),
 * calls `invoke` and sends what it returned. Logs go to stderr. SIGTERM or SIGINT closes the
 * server; in-flight invocations finish, then the run resolves with exit code 0. Failed invocations
 * are logged (with the stack for 5xx); successful ones are not.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { onParentExit } from '../parent-watch.js';
import { HandlerLoadError, loadHandler } from './load-handler.js';
import { contextOf, errorReply, readBody, replyFor, send, type Reply } from './respond.js';
import type { HandlerModule } from './types.js';

/** Options of {@link runHandlerServer}. */
export interface HandlerServerOptions {
  /** Path of the handler module (relative to the working directory). */
  readonly handlerFile: string;
  /** Port to listen on; 0 picks a free one (logged). */
  readonly port: number;
  /** Address to bind. @default '127.0.0.1' */
  readonly host?: string;
  /** Largest accepted request body; larger ones get 413. @default 104857600 (100 MiB) */
  readonly maxBodyBytes?: number;
  /** Where log lines go. @default a line on stderr */
  readonly log?: (line: string) => void;
  /** Exit when the parent's stdin pipe closes (see {@link EXIT_WITH_PARENT_FLAG}). @default false */
  readonly exitWithParent?: boolean;
}

/** The default of {@link HandlerServerOptions.maxBodyBytes}: 100 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;

type LoadState = { readonly phase: 'loading' } | { readonly phase: 'ready' } | { readonly phase: 'failed'; readonly error: unknown };

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function pingReply(state: LoadState): Reply {
  if (state.phase === 'ready') return { status: 200, contentType: 'text/plain', body: Buffer.alloc(0) };
  if (state.phase === 'loading') return { status: 503, contentType: 'application/json', body: Buffer.from('{"message":"loading"}') };
  return { status: 500, contentType: 'application/json', body: Buffer.from(JSON.stringify({ message: `load() failed: ${messageOf(state.error)}` })) };
}

async function invocation(req: IncomingMessage, handler: HandlerModule, state: LoadState, maxBodyBytes: number, log: (line: string) => void): Promise<Reply> {
  if (state.phase !== 'ready') {
    req.resume();
    return pingReply(state);
  }
  let body: Buffer;
  try {
    body = await readBody(req, maxBodyBytes);
  } catch (err) {
    return errorReply(err, true);
  }
  const ctx = contextOf(req);
  try {
    return replyFor(await handler.invoke(body, ctx));
  } catch (err) {
    const reply = errorReply(err);
    const detail = reply.status >= 500 && err instanceof Error ? err.stack ?? err.message : messageOf(err);
    log(`invocation ${ctx.inferenceId ?? '-'} ${reply.status} failed: ${detail}`);
    return reply;
  }
}

function route(handler: HandlerModule, state: () => LoadState, maxBodyBytes: number, log: (line: string) => void) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/ping' && (req.method === 'GET' || req.method === 'HEAD')) {
      send(res, pingReply(state()));
    } else if (path === '/invocations' && req.method === 'POST') {
      invocation(req, handler, state(), maxBodyBytes, log).then(
        (reply) => send(res, reply),
        (err: unknown) => send(res, errorReply(err)),
      );
    } else {
      req.resume();
      send(res, { status: 404, contentType: 'application/json', body: Buffer.from('{"message":"not found: use GET /ping or POST /invocations"}') });
    }
  };
}

/** Runs `load()` (if any) and records the outcome; a failure is logged and reported by /ping. */
function startLoading(handler: HandlerModule, log: (line: string) => void, set: (s: LoadState) => void): void {
  const started = performance.now();
  Promise.resolve()
    .then(() => handler.load?.())
    .then(
      () => {
        set({ phase: 'ready' });
        log(`handler loaded in ${(performance.now() - started).toFixed(0)}ms; ready`);
      },
      (error: unknown) => {
        set({ phase: 'failed', error });
        log(`load() failed; /ping answers 500: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
      },
    );
}

function nextSignal(exitWithParent: boolean): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
    // The parent inferq process is gone (its stdin pipe closed): stop as on SIGTERM.
    if (exitWithParent) onParentExit(() => resolve('SIGTERM'));
  });
}

async function closeOnSignal(server: Server, signalled: Promise<NodeJS.Signals>, log: (line: string) => void): Promise<void> {
  const signal = await signalled;
  log(`received ${signal}; closing`);
  const closed = once(server, 'close');
  server.close();
  server.closeIdleConnections();
  await closed;
}

/**
 * Loads the handler, serves it until SIGTERM/SIGINT and resolves with the exit code: 0 after a
 * clean close, 1 when the handler module cannot be used (the reason, naming the file, is logged).
 * Rejects when the port cannot be bound.
 */
export async function runHandlerServer(options: HandlerServerOptions): Promise<number> {
  const log = options.log ?? ((line: string) => void process.stderr.write(`inferq model: ${line}\n`));
  const signalled = nextSignal(options.exitWithParent ?? false);
  let handler: HandlerModule;
  try {
    handler = await loadHandler(options.handlerFile);
  } catch (err) {
    if (!(err instanceof HandlerLoadError)) throw err;
    const cause = err.cause instanceof Error && err.cause.stack !== undefined ? `\n${err.cause.stack}` : '';
    log(`${err.message}${cause}`);
    return 1;
  }
  let state: LoadState = { phase: 'loading' };
  const server = createServer({ keepAliveTimeout: 65_000 }, route(handler, () => state, options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES, log));
  server.on('clientError', (_err, socket) => socket.destroy());
  const host = options.host ?? '127.0.0.1';
  server.listen(options.port, host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  log(`listening on ${host}:${(server.address() as AddressInfo).port} handler=${options.handlerFile}`);
  startLoading(handler, log, (s) => { state = s; });
  await closeOnSignal(server, signalled, log);
  return 0;
}

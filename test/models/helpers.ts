/**
 * Helpers for the model client tests: run the fixture model server as a real child process,
 * a Logger that records lines, and awaiting health events.
 */
import { once } from 'node:events';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';
import assert from 'node:assert/strict';
import { ModelCallError, type ModelClient, type ModelHealth, type ModelInvocation } from '../../src/models/index.js';
import type { Logger } from '../../src/util/index.js';

export { FIXTURE, FIXTURE_COMMAND, ROOT, startFixture, type FixtureProcess } from '../helpers/fixture-model.js';

/**
 * A port nothing listens on right now. Use it at once (as the "nothing listening" test does): a
 * released port can be taken by any process later. To keep a port for a while, use holdPort()
 * from test/helpers/ports.ts.
 */
export async function unusedPort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export interface RecordingLogger extends Logger {
  lines: string[];
  /** Resolves with the first (past or future) line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

/** A Logger that keeps every line (message plus fields) in memory. */
export function recordingLogger(): RecordingLogger {
  const lines: string[] = [];
  const waiters: { pattern: RegExp; resolve: (line: string) => void }[] = [];
  const write = (level: string) => (msg: string, fields?: Record<string, unknown>) => {
    const line = `${level} ${msg}${fields ? ' ' + JSON.stringify(fields, (_k, v: unknown) => (v instanceof Error ? v.message : v)) : ''}`;
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.pattern.test(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  };
  const logger: RecordingLogger = {
    lines,
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    child: () => logger,
    waitFor(pattern, timeoutMs = 20_000) {
      const seen = lines.find((l) => pattern.test(l));
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((res, rej) => {
        const timer = setTimeout(() => rej(new Error(`no log line matching ${pattern} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({ pattern, resolve: (l) => { clearTimeout(timer); res(l); } });
      });
    },
  };
  return logger;
}

/** Resolves on the next health change to `wanted` (not the current value). */
export function nextHealth(client: ModelClient, wanted: ModelHealth, timeoutMs = 20_000): Promise<void> {
  return new Promise((res, rej) => {
    const timer = setTimeout(() => { off(); rej(new Error(`health did not become ${wanted} within ${timeoutMs} ms (now ${client.health()})`)); }, timeoutMs);
    const off = client.onHealthChange((h) => {
      if (h === wanted) { clearTimeout(timer); off(); res(); }
    });
  });
}

/** Records every health change of `client`. */
export function healthHistory(client: ModelClient): ModelHealth[] {
  const seen: ModelHealth[] = [];
  client.onHealthChange((h) => seen.push(h));
  return seen;
}

/** An invocation with a small buffer body. */
export function call(body: string | Buffer, extra: Partial<ModelInvocation> = {}): ModelInvocation {
  const buf = Buffer.isBuffer(body) ? body : Buffer.from(body);
  return { body: Readable.from([buf]), contentLength: buf.length, inferenceId: 'inf-1', signal: new AbortController().signal, ...extra };
}

export { readAll } from '../helpers/http.js';

/** The ModelCallError `promise` rejects with (fails the test if it resolves or rejects otherwise). */
export async function rejection(promise: Promise<unknown>): Promise<ModelCallError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof ModelCallError, `expected ModelCallError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a rejection');
}

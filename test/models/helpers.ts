/**
 * Helpers for the model client tests: run the fixture model server as a real child process,
 * a Logger that records lines, and awaiting health events.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import assert from 'node:assert/strict';
import { ModelCallError, type ModelClient, type ModelHealth, type ModelInvocation } from '../../src/models/index.js';
import type { Logger } from '../../src/util/index.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURE = resolve(import.meta.dirname, 'fixtures/model-server.ts');
/** How to run the fixture as a command model. */
export const FIXTURE_COMMAND = [process.execPath, '--import', 'tsx', FIXTURE] as const;

export interface FixtureProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** Starts the fixture on a free port and waits until it listens. */
export async function startFixture(env: Record<string, string> = {}): Promise<FixtureProcess> {
  const child = spawn(FIXTURE_COMMAND[0], FIXTURE_COMMAND.slice(1), {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolvePort, reject) => {
    lines.on('line', (line) => {
      const m = /fixture listening port=(\d+)/.exec(line);
      if (m) resolvePort(Number(m[1]));
    });
    void exited.then(() => reject(new Error('fixture exited before listening')));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** A port nothing listens on. */
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

/** Reads a stream fully. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

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

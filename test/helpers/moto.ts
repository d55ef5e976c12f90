/**
 * Test helper: an independent S3 (`moto_server`, python) on a free loopback port, started by the
 * test and awaited by its "Running on" line (the port is free when found; a start that loses the
 * port to another process is retried on a new one).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { awaitOutput, collectOutput } from './server.js';

/** A running moto_server. */
export interface MotoServer {
  /** `http://127.0.0.1:PORT`. */
  readonly url: string;
  readonly port: number;
  readonly proc: ChildProcess;
  readonly output: () => string;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const closed = once(server, 'close');
  server.close();
  await closed;
  return address.port;
}

async function startOnce(port: number): Promise<MotoServer> {
  const proc = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  const exited = once(proc, 'exit');
  const output = collectOutput(proc);
  try {
    await awaitOutput(proc, output, (text) => (text.includes(`Running on http://127.0.0.1:${port}`) ? true : undefined), 'moto_server start', 60_000);
  } catch (err) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exited;
    throw err;
  }
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    proc,
    output,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGTERM');
      await exited;
    },
  };
}

/** Starts moto_server on a free port and resolves once it listens. */
export async function startMoto(): Promise<MotoServer> {
  let last: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(await freePort());
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

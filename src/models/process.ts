/**
 * One model process: a free loopback port, the spawned child with its output logged line by line,
 * and termination (SIGTERM, then SIGKILL after a grace period).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from '../util/index.js';

/** Longest line of model output logged as-is; longer lines are cut. */
const MAX_LOG_LINE = 8192;

/**
 * Finds a free TCP port on 127.0.0.1 by listening on port 0 and closing again.
 * @internal
 */
export async function freeLoopbackPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('could not read the port of a loopback listener');
  return address.port;
}

/** How a model process ended. */
export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be spawned at all. */
  readonly error?: Error;
}

/** What to run. */
export interface ProcessSpec {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd?: string;
  readonly logger: Logger;
}

/**
 * A spawned model process.
 * @internal
 */
export class ModelProcess {
  /** Settles once when the process has exited (or failed to spawn). */
  readonly exited: Promise<ProcessExit>;
  private readonly child: ChildProcess;
  private exit: ProcessExit | undefined;
  private terminating: Promise<ProcessExit> | undefined;

  constructor(private readonly spec: ProcessSpec, readonly port: number) {
    const [file, ...args] = spec.command;
    if (file === undefined) throw new TypeError('model command is empty');
    this.child = spawn(file, args, { env: { ...spec.env }, cwd: spec.cwd, stdio: ['pipe', 'pipe', 'pipe'], detached: false });
    if (this.child.stdout) logLines(this.child.stdout, 'stdout', spec.logger);
    if (this.child.stderr) logLines(this.child.stderr, 'stderr', spec.logger);
    this.exited = new Promise<ProcessExit>((resolve) => {
      this.child.once('error', (error) => {
        // 'error' without a pid means spawning failed; 'exit' will not follow.
        if (this.child.pid === undefined) resolve((this.exit = { code: null, signal: null, error }));
        else spec.logger.warn('model process error', { err: error });
      });
      this.child.once('exit', (code, signal) => resolve((this.exit = { code, signal })));
    });
  }

  /** The OS process id, once spawned. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Whether the process is still running. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. Resolves on exit; idempotent. */
  terminate(graceMs: number): Promise<ProcessExit> {
    if (this.terminating) return this.terminating;
    this.terminating = (async () => {
      if (this.exit) return this.exit;
      this.spec.logger.info('stopping model process', { pid: this.pid, signal: 'SIGTERM' });
      this.child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const graceOver = new Promise<'grace-over'>((resolve) => {
        timer = setTimeout(() => resolve('grace-over'), graceMs);
      });
      const first = await Promise.race([this.exited, graceOver]);
      clearTimeout(timer);
      if (first !== 'grace-over') return first;
      this.spec.logger.warn('model process ignored SIGTERM; killing it', { pid: this.pid, graceMs });
      this.child.kill('SIGKILL');
      return this.exited;
    })();
    return this.terminating;
  }
}

function logLines(stream: Readable, name: 'stdout' | 'stderr', logger: Logger): void {
  const lines = createInterface({ input: stream, crlfDelay: Infinity });
  lines.on('line', (line) => {
    const text = line.length > MAX_LOG_LINE ? `${line.slice(0, MAX_LOG_LINE)}…` : line;
    logger.info(text, { stream: name });
  });
}

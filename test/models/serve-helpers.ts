/**
 * Helpers for `inferq model serve` tests: run `node dist/cli/main.js model serve …` as a real
 * process on a free port (SAGEMAKER_BIND_TO_PORT=0) and wait until it logs its address.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { START_TIMEOUT_MS, assertBuilt } from '../helpers/server.js';
import { ROOT } from './helpers.js';

export const MAIN_JS = resolve(ROOT, 'dist/cli/main.js');

export interface ServeProcess {
  readonly url: string;
  readonly child: ChildProcess;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGKILL if still running. */
  kill(): Promise<void>;
}

/** Throws a clear error when the build output is missing or older than src/. */
export function requireBuild(): void {
  assertBuilt();
}

/** Spawns `node [nodeArgs] dist/cli/main.js model serve args…`; `url` is set once it listens. */
export function spawnServe(args: readonly string[], env: Record<string, string> = {}, nodeArgs: readonly string[] = []): { child: ChildProcess; stderr: () => string; exited: Promise<number | null>; listening: Promise<string> } {
  requireBuild();
  const child = spawn(process.execPath, [...nodeArgs, MAIN_JS, 'model', 'serve', ...args], {
    cwd: ROOT,
    env: { ...process.env, SAGEMAKER_BIND_TO_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const exited = once(child, 'exit').then(([code]) => code as number | null);
  const listening = new Promise<string>((res, rej) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      rej(new Error(`model serve did not listen within ${START_TIMEOUT_MS} ms (killed):\n${err}`));
    }, START_TIMEOUT_MS);
    child.stderr.on('data', (chunk: Buffer) => {
      err += chunk.toString();
      const m = /listening on ([\d.]+):(\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        res(`http://${m[1]}:${m[2]}`);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      rej(new Error(`model serve exited (${code}) before listening:\n${err}`));
    });
  });
  child.stdout.resume();
  return { child, stderr: () => err, exited, listening };
}

/** Starts `model serve` and waits until it listens. */
export async function startServe(args: readonly string[], env: Record<string, string> = {}, nodeArgs: readonly string[] = []): Promise<ServeProcess> {
  const p = spawnServe(args, env, nodeArgs);
  const url = await p.listening;
  return {
    url,
    child: p.child,
    stderr: p.stderr,
    exited: p.exited,
    async kill() {
      if (p.child.exitCode === null && p.child.signalCode === null) {
        p.child.kill('SIGKILL');
        await p.exited;
      }
    },
  };
}

/** Polls GET /ping until it answers `status`. */
export async function waitForPing(url: string, status: number, timeoutMs = 20_000): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(`${url}/ping`);
    if (res.status === status) return res;
    await res.arrayBuffer();
    if (Date.now() > deadline) throw new Error(`/ping did not answer ${status} within ${timeoutMs} ms (last ${res.status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

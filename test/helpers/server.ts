/**
 * Test helper: runs the real `inferq serve` (built dist) as a child process on a free loopback
 * port with a fresh data dir, and waits for its banner.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');

export interface ServerProcess {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit; returns the exit code. */
  stop: () => Promise<number | null>;
  /** SIGKILL and wait. */
  kill: () => Promise<void>;
  /** Remove the data dir (after stop/kill). */
  cleanup: () => void;
}

export interface StartOptions {
  dataDir?: string;
  config?: string;
  args?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Makes a temp dir for a test. */
export function tempDir(prefix = 'inferq-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes a YAML config file into `dir` and returns its path. */
export function writeConfig(dir: string, yaml: string): string {
  const file = join(dir, 'inferq.yaml');
  writeFileSync(file, yaml);
  return file;
}

/** Starts a server and resolves once it prints its URL (rejects if it exits first). */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  const dataDir = options.dataDir ?? tempDir();
  const args = [CLI, 'serve', '--port', '0', '--data-dir', dataDir, ...(options.config ? ['--config', options.config] : []), ...(options.args ?? [])];
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  const url = await new Promise<string>((resolveUrl, reject) => {
    const onData = (chunk: string): void => {
      out += chunk;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolveUrl(m[1]!);
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', (c: string) => { out += c; });
    proc.once('exit', (code) => reject(new Error(`server exited with ${code} before listening:\n${out}`)));
  });
  const exited = once(proc, 'exit');
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    proc,
    output: () => out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      return code;
    },
    async kill() {
      if (proc.exitCode !== null || proc.signalCode !== null) return;
      proc.kill('SIGKILL');
      await exited;
    },
    cleanup() {
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Resolves once the server's output after offset `from` matches `pattern` (awaits output events; rejects after `timeoutMs`). */
export function waitForOutput(server: ServerProcess, pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = pattern.exec(server.output().slice(from));
      if (!m) return false;
      cleanup();
      resolve(m);
      return true;
    };
    const onData = (): void => void setImmediate(check);
    const cleanup = (): void => {
      clearTimeout(timer);
      server.proc.stdout!.off('data', onData);
      server.proc.stderr!.off('data', onData);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`no ${String(pattern)} in the server output within ${timeoutMs} ms`));
    }, timeoutMs);
    server.proc.stdout!.on('data', onData);
    server.proc.stderr!.on('data', onData);
    check();
  });
}

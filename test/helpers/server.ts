/**
 * Test helper: runs the real `inferq serve` as a child process on a port it picks itself
 * (`--port 0`, the URL taken from its banner) with a fresh data dir, waits for its banner, and
 * awaits lines of its output. Every wait has a deadline.
 *
 * What runs: the end-to-end tests (test/e2e) and every process they spawn run the BUILT server,
 * `dist/` (`npm test` builds it first; run `npm run build` before an e2e file by hand). They never
 * load `src/` at run time (checked by test/unit/test-layout.test.ts): the in-process tests of the
 * other folders import `src/` instead. {@link assertBuilt} refuses a `dist/` older than `src/`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/cli/main.js');

/** How long a server may take to print its banner (2 shared cores, many model processes). */
export const START_TIMEOUT_MS = 60_000;

/** How long a server may take to exit after SIGTERM before it is SIGKILLed (and the stop fails). */
export const STOP_TIMEOUT_MS = 30_000;

let built: true | undefined;

function newestMtime(dir: string): { file: string; ms: number } {
  let newest = { file: dir, ms: 0 };
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile() || !entry.name.endsWith('.ts')) continue;
    const file = join(entry.parentPath, entry.name);
    const ms = statSync(file).mtimeMs;
    if (ms > newest.ms) newest = { file, ms };
  }
  return newest;
}

/**
 * Throws unless `dist/cli/main.js` exists and was built after the last change under `src/` (tsc
 * rewrites every output on each build), so an e2e test never runs stale code.
 */
export function assertBuilt(): void {
  if (built) return;
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` before the e2e tests`);
  const src = newestMtime(join(ROOT, 'src'));
  if (src.ms > statSync(CLI).mtimeMs) throw new Error(`dist/ is older than ${src.file}: run \`npm run build\` before the e2e tests`);
  built = true;
}

export interface ServerProcess {
  url: string;
  port: number;
  dataDir: string;
  proc: ChildProcess;
  output: () => string;
  /** SIGTERM and wait for exit; returns the exit code (SIGKILL and throw after {@link STOP_TIMEOUT_MS}). */
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
  /** Deadline for the banner (default {@link START_TIMEOUT_MS}); the process is killed after it. */
  timeoutMs?: number;
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

/** Collects everything a child writes to stdout and stderr (as UTF-8); returns the accessor. */
export function collectOutput(proc: ChildProcess): () => string {
  let out = '';
  const add = (chunk: string): void => { out += chunk; };
  proc.stdout?.setEncoding('utf8').on('data', add);
  proc.stderr?.setEncoding('utf8').on('data', add);
  return () => out;
}

/**
 * Resolves with `done(output())` once it is not undefined, checked now and on every chunk the
 * process writes (no polling); rejects when the process exits first or after `timeoutMs`. The
 * process's output must be collected by listeners registered before this call (as
 * {@link collectOutput} and {@link startServer} do), so `output()` already holds each chunk.
 */
export function awaitOutput<T>(proc: ChildProcess, output: () => string, done: (output: string) => T | undefined, what: string, timeoutMs = 30_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      const result = done(output());
      if (result !== undefined) finish(undefined, result);
    };
    const onExit = (): void => finish(new Error(`the process exited (code ${proc.exitCode}, signal ${proc.signalCode}) while waiting for ${what}; output:\n${output()}`));
    const timer = setTimeout(() => finish(new Error(`no ${what} within ${timeoutMs} ms; output:\n${output()}`)), timeoutMs);
    function finish(err?: Error, result?: T): void {
      clearTimeout(timer);
      proc.stdout?.off('data', check);
      proc.stderr?.off('data', check);
      proc.off('exit', onExit);
      if (err) reject(err);
      else resolve(result as T);
    }
    proc.stdout?.on('data', check);
    proc.stderr?.on('data', check);
    proc.once('exit', onExit);
    if (proc.exitCode !== null || proc.signalCode !== null) onExit();
    else check();
  });
}

/** Starts a server and resolves once it prints its URL (rejects if it exits first, or after `timeoutMs`, killing it). */
export async function startServer(options: StartOptions = {}): Promise<ServerProcess> {
  assertBuilt();
  const dataDir = options.dataDir ?? tempDir();
  const args = [CLI, 'serve', '--port', '0', '--data-dir', dataDir, ...(options.config ? ['--config', options.config] : []), ...(options.args ?? [])];
  const proc = spawn(process.execPath, args, { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = once(proc, 'exit');
  const out = collectOutput(proc);
  let url: string;
  try {
    url = await awaitOutput(proc, out, (text) => /listening on (http:\/\/\S+)/.exec(text)?.[1], 'banner (listening on …)', options.timeoutMs ?? START_TIMEOUT_MS);
  } catch (err) {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
    if (!options.dataDir) rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    url,
    port: Number(new URL(url).port),
    dataDir,
    proc,
    output: out,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const [code, signal] = (await exited) as [number | null, NodeJS.Signals | null];
      clearTimeout(timer);
      if (signal === 'SIGKILL') throw new Error(`the server did not exit within ${STOP_TIMEOUT_MS} ms of SIGTERM (killed); output:\n${out()}`);
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

/** Resolves once the server's output after offset `from` matches `pattern` (awaits output events; rejects when the server exits or after `timeoutMs`). */
export function waitForOutput(server: ServerProcess, pattern: RegExp, from = 0, timeoutMs = 30_000): Promise<RegExpExecArray> {
  return awaitOutput(server.proc, server.output, (out) => pattern.exec(out.slice(from)) ?? undefined, `${String(pattern)} in the server output`, timeoutMs);
}

/** Escapes a string for use inside a RegExp. */
export function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Resolves once a model process of `endpoint` has been healthy (the pool's log line, at any time
 * so far or later): a test that needs a warm model calls this first instead of relying on the
 * tests before it having waited long enough.
 */
export function awaitModelHealthy(server: ServerProcess, endpoint: string, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return waitForOutput(server, new RegExp(`\\[inferq:model:${escapeRegExp(endpoint)}#\\d+\\] model health changed from=\\w+ to=healthy`), 0, timeoutMs);
}

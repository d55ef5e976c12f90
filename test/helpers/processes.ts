/**
 * Test helper for tests with several inferq processes on one data directory: `inferq worker`
 * processes (started, SIGKILLed, SIGSTOPped), waiting for a line in any process's output, and the
 * fixture model's gates (`mode=gate-<token>-2` holds a request until the test opens the gate).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { CLI } from './server.js';
import { killModels, modelPids } from './async.js';

/** A child process whose stdout and stderr are collected. */
export interface Watched {
  readonly proc: ChildProcess;
  output(): string;
}

/** Resolves once `p`'s output from offset `from` matches `pattern`, woken by output events (rejects after `timeoutMs` or when the process exits first). */
export function waitForLine(p: Watched, pattern: RegExp, from = 0, timeoutMs = 60_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const m = pattern.exec(p.output().slice(from));
      if (!m) return false;
      done();
      resolve(m);
      return true;
    };
    const onData = (): void => void setImmediate(check);
    const onExit = (): void => {
      setImmediate(() => {
        if (check()) return;
        done();
        reject(new Error(`process ${p.proc.pid} exited before printing ${String(pattern)}:\n${p.output().slice(from)}`));
      });
    };
    const done = (): void => {
      clearTimeout(timer);
      p.proc.stdout?.off('data', onData);
      p.proc.stderr?.off('data', onData);
      p.proc.off('exit', onExit);
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`no ${String(pattern)} in the output of process ${p.proc.pid} within ${timeoutMs} ms:\n${p.output().slice(from)}`));
    }, timeoutMs);
    p.proc.stdout?.on('data', onData);
    p.proc.stderr?.on('data', onData);
    p.proc.once('exit', onExit);
    check();
  });
}

/** Whether a child process has exited. */
export function exited(proc: ChildProcess): boolean {
  return proc.exitCode !== null || proc.signalCode !== null;
}

/** A running `inferq worker`. */
export interface WorkerProcess extends Watched {
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, wait, then kill the model processes it started (a SIGKILLed inferq leaves its fixture models behind). */
  kill(): Promise<void>;
}

/** The `inferq worker` processes of one test file, stopped by `cleanup()`. */
export class Workers {
  readonly all: WorkerProcess[] = [];

  /**
   * Starts `inferq worker` and resolves once it logs that its workers run. With `prefix` (e.g.
   * `['ip', 'netns', 'exec', name]`, which execs in place so the pid stays the worker's), the
   * command runs through it.
   */
  async start(config: string, dataDir: string, prefix: readonly string[] = []): Promise<WorkerProcess> {
    const argv = [...prefix, process.execPath, CLI, 'worker', '--config', config, '--data-dir', dataDir];
    const proc = spawn(argv[0]!, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (c: string) => { out += c; });
    proc.stderr.on('data', (c: string) => { out += c; });
    const exit = once(proc, 'exit');
    const worker: WorkerProcess = {
      proc,
      output: () => out,
      async stop() {
        if (!exited(proc)) {
          proc.kill('SIGCONT');
          proc.kill('SIGTERM');
          await exit;
        }
        return proc.exitCode;
      },
      async kill() {
        if (!exited(proc)) {
          proc.kill('SIGKILL');
          await exit;
        }
        await killModels(modelPids(out));
      },
    };
    this.all.push(worker);
    await waitForLine(worker, /workers running/);
    return worker;
  }

  async cleanup(): Promise<void> {
    for (const w of this.all) await w.stop();
    for (const w of this.all) await killModels(modelPids(w.output()));
  }
}

/** Opens chunk `chunk` of the fixture's gate `token` in `dir` (the model then sends the next chunk). */
export function openGate(dir: string, token: string, chunk = 1): void {
  writeFileSync(join(dir, `${token}.${chunk}`), '');
}

/** Custom attributes that select the fixture's gate mode: part-1, wait for the gate, part-2. */
export function gateAttributes(token: string): string {
  return `mode=gate-${token}-2`;
}

/** Whether every thread of process `pid` is stopped (state T in /proc). */
function allStopped(pid: number): boolean {
  return readdirSync(`/proc/${pid}/task`).every((tid) => {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    const state = stat.charAt(stat.lastIndexOf(')') + 2);
    return state === 'T' || state === 't';
  });
}

/**
 * SIGSTOPs `proc` at a moment it holds no write lock on the queue database `dbFile` (a process
 * stopped inside a write transaction would block every other process): stops it, checks from this
 * process that a write transaction can begin, and if not lets it run on and tries again.
 */
export async function stopOutsideTransaction(proc: ChildProcess, dbFile: string): Promise<void> {
  const db = new Database(dbFile, { timeout: 0 });
  try {
    for (let tries = 0; tries < 1000; tries++) {
      proc.kill('SIGSTOP');
      while (!allStopped(proc.pid!)) await new Promise((resolve) => setImmediate(resolve));
      try {
        db.exec('BEGIN IMMEDIATE');
        db.exec('ROLLBACK');
        return;
      } catch {
        proc.kill('SIGCONT');
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    throw new Error(`process ${proc.pid} always held the queue's write lock`);
  } finally {
    db.close();
  }
}

/**
 * Checks the data directory before anything else starts (no model process, no listening socket):
 * `serve` creates it if missing and proves it writable; `worker` requires the data a `serve`
 * process left there. Failures are {@link StartupError}s naming the path and the OS reason.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { StartupError } from '../errors/index.js';
import { systemErrorReason } from '../util/index.js';

/** The queue database inside a data directory: its presence is what makes a directory inferq's. */
export const QUEUE_DB = join('queue', 'jobs.db');

function reason(err: unknown): string {
  return systemErrorReason(err) ?? (err instanceof Error ? err.message : String(err));
}

/** Creates `dir` and its missing parents one level at a time, so the OS reason of a failure is the real one. */
function createDirectory(dir: string, shown: string): void {
  const missing: string[] = [];
  for (let d = dir; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing) {
    try {
      mkdirSync(d);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && isDirectory(d)) continue;
      throw new StartupError('data-dir-create', shown, `cannot create data directory ${shown}: ${reason(err)}`, { cause: err });
    }
  }
  if (!isDirectory(dir)) throw new StartupError('data-dir-create', shown, `cannot create data directory ${shown}: ENOTDIR: not a directory`);
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Writes, syncs and removes a small file in `dir` (and creates `queue/`), proving the directory takes writes. */
function proveWritable(dir: string): void {
  const probe = join(dir, `.inferq-write-check-${process.pid}`);
  try {
    const fd = openSync(probe, 'w');
    try {
      writeSync(fd, 'inferq\n');
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    unlinkSync(probe);
    if (!isDirectory(join(dir, 'queue'))) mkdirSync(join(dir, 'queue'));
  } catch (err) {
    throw new StartupError('data-dir-write', dir, `cannot write data directory ${dir}: ${reason(err)}`, { cause: err });
  }
}

/** For `serve`: the data directory exists (created if needed) and takes writes. @throws StartupError */
export function prepareServeDataDir(dir: string): void {
  createDirectory(dir, dir);
  proveWritable(dir);
}

/**
 * For `worker`: the data directory holds a `serve` process's data and takes writes. With the queue
 * elsewhere (`sqliteQueue` false: PostgreSQL), the directory must exist but need not hold a queue.
 * @throws StartupError
 */
export function prepareWorkerDataDir(dir: string, sqliteQueue = true): void {
  const hint = 'inferq worker runs against the data directory of an inferq serve process (start serve first, or pass its --data-dir)';
  if (!isDirectory(dir)) {
    const what = existsSync(dir) ? 'is not a directory' : 'does not exist';
    throw new StartupError('data-dir-empty', dir, `data directory ${dir} ${what}: ${hint}`);
  }
  if (sqliteQueue && !existsSync(join(dir, QUEUE_DB))) throw new StartupError('data-dir-empty', dir, `data directory ${dir} holds no inferq data (no ${QUEUE_DB}): ${hint}`);
  proveWritable(dir);
}

/** Runs `open`, turning a failure into a StartupError naming the data directory. */
export async function openInDataDir<T>(dir: string, what: string, open: () => T | Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (err) {
    throw new StartupError('data-dir-open', dir, `cannot open the ${what} in data directory ${dir}: ${reason(err)}`, { cause: err });
  }
}

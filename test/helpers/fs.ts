/** Test helper: files under a directory, awaiting a directory's entries (fs.watch, with a deadline), temp dirs removed after the tests. */
import { mkdtempSync, readdirSync, rmSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after } from 'node:test';

/** Every file under `dir`, recursively, as absolute paths in sorted order ([] when `dir` does not exist). */
export function walk(dir: string): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name)).sort();
}

/** Every file under `dir`, as paths relative to it, sorted ([] when `dir` does not exist). */
export function filesUnder(dir: string): string[] {
  return walk(dir).map((f) => relative(dir, f)).sort();
}

/** Resolves with the entries of `dir` once `done(entries)` holds, woken by fs.watch events (rejects after `ms`). */
export function waitForDir(dir: string, done: (names: string[]) => boolean, what: string, ms = 60_000): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    const timer = setTimeout(() => finish(new Error(`timed out waiting for ${what} in ${dir}: ${readdirSync(dir).join(', ')}`)), ms);
    function finish(err?: Error, names?: string[]): void {
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve(names!);
    }
    const check = (): void => {
      const names = readdirSync(dir);
      if (done(names)) finish(undefined, names);
    };
    watcher.on('change', check);
    watcher.on('error', (err) => finish(err));
    check();
  });
}

/**
 * Returns a maker of fresh temp dirs (prefix `prefix`), all removed by an `after` hook registered
 * here: call it at the top level of a test file (or of a describe) so nothing is left in /tmp.
 */
export function tempDirs(prefix = 'inferq-test-'): () => string {
  const made: string[] = [];
  after(() => {
    for (const dir of made) rmSync(dir, { recursive: true, force: true });
  });
  return () => {
    const dir = mkdtempSync(join(tmpdir(), prefix));
    made.push(dir);
    return dir;
  };
}

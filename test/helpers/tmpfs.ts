/**
 * Test helper: a small tmpfs mounted by the test (these machines run tests as root), to give a
 * server a data directory that really fills up, and a filler file that takes its last byte.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Mounts a tmpfs of `sizeMiB` MiB on `dir`; returns undefined, or why it could not (a reason to skip). */
export function mountTmpfs(dir: string, sizeMiB: number): string | undefined {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMiB}m`, 'tmpfs', dir], { stdio: ['ignore', 'ignore', 'pipe'] });
    return undefined;
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString().trim();
    return `could not mount a tmpfs (that needs root with CAP_SYS_ADMIN): ${stderr || (err as Error).message}`;
  }
}

/** Unmounts `dir` (lazily, so a process still holding a file there cannot keep it mounted). */
export function unmountTmpfs(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'ignore' });
}

/**
 * Writes `<dir>/<name>` until the filesystem answers ENOSPC, with ever smaller writes so that not
 * even one page is left; returns the file's path and the bytes it holds.
 */
export function fillDisk(dir: string, name = 'filler'): { path: string; bytes: number } {
  const path = join(dir, name);
  const fd = openSync(path, 'w');
  let bytes = 0;
  try {
    for (const size of [1 << 20, 1 << 16, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size, 0x66);
      for (;;) {
        try {
          bytes += writeSync(fd, chunk);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return { path, bytes };
}

/** Deletes a filler file: the space is back. */
export function freeDisk(filler: { path: string }): void {
  rmSync(filler.path, { force: true });
}

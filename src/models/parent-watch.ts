/**
 * Lets a model process started by inferq end with it: the supervisor keeps the child's stdin
 * open as a pipe, so when the inferq process dies (even by SIGKILL) the pipe closes and the child
 * sees end-of-file. Built-in models opt in with `--exit-with-parent`; user models may too.
 */

/** Flag that asks a model server to exit when its parent's stdin pipe closes. */
export const EXIT_WITH_PARENT_FLAG = '--exit-with-parent';

/** Calls `onExit` once when stdin reaches end-of-file or closes (the parent is gone); stdin does not keep the process alive. */
export function onParentExit(onExit: () => void): void {
  let fired = false;
  const fire = (): void => {
    if (fired) return;
    fired = true;
    onExit();
  };
  process.stdin.once('end', fire);
  process.stdin.once('close', fire);
  process.stdin.once('error', fire);
  process.stdin.resume();
  // Watching must not keep the process alive: after SIGTERM closed its server, a model exits.
  (process.stdin as { unref?: () => void }).unref?.();
}

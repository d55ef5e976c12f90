/**
 * Test helper: a network namespace joined to this one by a veth pair, so that a process run in it
 * ("another host") has its own loopback and reaches this host only at the host end's address
 * (10.77.<n>.1; the namespace end is 10.77.<n>.2, n derived from the test's pid so parallel test
 * files do not collide). Needs root and `ip netns`; {@link netnsUnavailable} says why not.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** A namespace with a veth pair; `remove()` deletes both. */
export interface Netns {
  readonly name: string;
  /** The address of this host's end of the veth pair (what the namespace reaches us at). */
  readonly hostIp: string;
  /** The address of the namespace's end. */
  readonly nsIp: string;
  /** The command prefix that runs a program inside the namespace (execs in place: same pid). */
  readonly prefix: readonly string[];
  remove(): Promise<void>;
}

async function ip(...args: string[]): Promise<void> {
  await exec('ip', args);
}

/** Why a namespace cannot be made here (not root, no `ip netns`), or undefined when it can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    await exec('ip', ['netns', 'list']);
    return undefined;
  } catch (err) {
    return `ip netns is unavailable: ${err instanceof Error ? err.message : String(err)}`;
  }
}

/** Creates namespace `inferq_<tag>_<pid>` with a veth pair, both ends up, and its loopback up. */
export async function createNetns(tag: string): Promise<Netns> {
  const n = process.pid % 250 + 1;
  const name = `inferq_${tag}_${process.pid}`;
  const hostIf = `vq${process.pid}h`.slice(0, 15);
  const nsIf = `vq${process.pid}n`.slice(0, 15);
  const hostIp = `10.77.${n}.1`;
  const nsIp = `10.77.${n}.2`;
  const inNs = (...args: string[]): Promise<void> => ip('netns', 'exec', name, 'ip', ...args);
  await ip('netns', 'add', name);
  try {
    await ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf);
    await ip('link', 'set', nsIf, 'netns', name);
    await ip('addr', 'add', `${hostIp}/24`, 'dev', hostIf);
    await ip('link', 'set', hostIf, 'up');
    await inNs('addr', 'add', `${nsIp}/24`, 'dev', nsIf);
    await inNs('link', 'set', nsIf, 'up');
    await inNs('link', 'set', 'lo', 'up');
  } catch (err) {
    await ip('link', 'del', hostIf).catch(() => undefined);
    await ip('netns', 'del', name).catch(() => undefined);
    throw err;
  }
  return {
    name,
    hostIp,
    nsIp,
    prefix: ['ip', 'netns', 'exec', name],
    async remove() {
      // Deleting the namespace destroys its veth end, and with it the pair.
      await ip('netns', 'del', name).catch(() => undefined);
      await ip('link', 'del', hostIf).catch(() => undefined);
    },
  };
}

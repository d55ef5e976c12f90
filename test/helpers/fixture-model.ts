/**
 * Test helper: the contract-following fixture model server (test/models/fixtures/model-server.ts)
 * run as a real child process on a port it picks itself, with a deadline for it to listen. Loads
 * nothing from src, so end-to-end tests may use it too.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { resolve } from 'node:path';
import { createInterface } from 'node:readline';

/** The repository root. */
export const ROOT = resolve(import.meta.dirname, '../..');
/** The fixture model server (TypeScript, run through tsx). */
export const FIXTURE = resolve(ROOT, 'test/models/fixtures/model-server.ts');
/** How to run the fixture as a command model. */
export const FIXTURE_COMMAND = [process.execPath, '--import', 'tsx', FIXTURE] as const;

export interface FixtureProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  /** SIGKILL and wait for exit. */
  kill(): Promise<void>;
}

/** How long the fixture may take to listen (it starts through tsx, on 2 shared cores). */
const FIXTURE_START_TIMEOUT_MS = 60_000;

/** Starts the fixture on a port it picks itself (PORT=0) and waits until it listens. */
export async function startFixture(env: Record<string, string> = {}): Promise<FixtureProcess> {
  const child = spawn(FIXTURE_COMMAND[0], FIXTURE_COMMAND.slice(1), {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit');
  const port = await new Promise<number>((resolvePort, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the fixture did not listen within ${FIXTURE_START_TIMEOUT_MS} ms (killed)`));
    }, FIXTURE_START_TIMEOUT_MS);
    lines.on('line', (line) => {
      const m = /fixture listening port=(\d+)/.exec(line);
      if (m) {
        clearTimeout(timer);
        resolvePort(Number(m[1]));
      }
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error('fixture exited before listening'));
    });
  });
  return {
    url: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}


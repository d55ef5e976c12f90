/**
 * Server processes of the benchmarks, both sides of one small protocol: the child listens on a free
 * loopback port and prints `listening on URL`; the parent spawns it, waits for that line and stops it
 * with SIGTERM.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { Server } from 'node:http';

/** A started server under test. */
export interface BenchServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Runs `node ARGS` and resolves once it prints `listening on http://…`; `cleanup` runs after it stopped. */
export async function startProcess(args: string[], cleanup: () => void = () => undefined): Promise<BenchServer> {
  const proc: ChildProcess = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    proc.stdout!.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    proc.once('exit', (code) => fail(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  const exited = once(proc, 'exit');
  return {
    url,
    port: Number(new URL(url).port),
    pid: proc.pid!,
    async stop() {
      proc.kill('SIGTERM');
      await exited;
      cleanup();
    },
  };
}

/**
 * Child side: listens on a free loopback port, prints `listening on URL`, and on SIGTERM runs
 * `cleanup` and exits 0.
 */
export function listenForBench(server: Server, cleanup: () => void = () => undefined): void {
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => {
    const addr = server.address();
    process.stdout.write(`listening on http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}\n`);
  });
  process.on('SIGTERM', () => {
    cleanup();
    process.exit(0);
  });
}

/** Starting a server process for a benchmark: spawn it, wait for its `listening on URL` line, stop it with SIGTERM. */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';

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

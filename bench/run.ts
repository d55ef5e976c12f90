/**
 * `npm run bench`: starts the real inferq server (built dist) and a bare node:http baseline, runs
 * each benchmark against both in the same run and prints tables. Not a test: numbers only.
 * `--quick` runs smaller counts; `--only=s3|async|realtime` runs one group.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { benchAsync } from './async.js';
import { benchRealtime } from './realtime.js';
import { benchObjectStore } from './s3.js';

const ROOT = resolve(import.meta.dirname, '..');

/** A started server under test. */
export interface BenchServer {
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  stop(): Promise<void>;
}

/** Starts inferq with a YAML config; `prepare` runs on the data dir before start. */
export type StartServer = (configYaml: string, prepare?: (dataDir: string) => Promise<void>) => Promise<BenchServer>;

async function startProcess(args: string[], cleanup: () => void = () => undefined): Promise<BenchServer> {
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

const startInferq: StartServer = async (configYaml, prepare) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'inferq-bench-'));
  const config = join(dataDir, 'inferq.yaml');
  writeFileSync(config, configYaml);
  await prepare?.(dataDir);
  return startProcess([join(ROOT, 'dist/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir, '--config', config], () => rmSync(dataDir, { recursive: true, force: true }));
};

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = process.argv.find((a) => a.startsWith('--only='))?.slice('--only='.length);
  process.stdout.write(`inferq benchmarks on node ${process.version}, ${cpus().length} cores${quick ? ' (quick)' : ''}\n`);
  const baseline = await startProcess(['--import', 'tsx', join(ROOT, 'bench/baseline-server.ts')]);
  try {
    if (!only || only === 's3') {
      const inferq = await startInferq('server: {}\n');
      await benchObjectStore(inferq, baseline, quick);
      await inferq.stop();
    }
    if (!only || only === 'async') await benchAsync(startInferq, baseline, quick);
    if (!only || only === 'realtime') await benchRealtime(startInferq, quick);
  } finally {
    await baseline.stop();
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

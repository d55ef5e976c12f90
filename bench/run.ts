/**
 * `npm run bench`: starts the real inferq server (built dist) and a bare node:http baseline, runs
 * each benchmark against both in the same run and prints tables. Not a test: numbers only.
 * `--quick` runs smaller counts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { benchObjectStore } from './s3.js';

const ROOT = resolve(import.meta.dirname, '..');

async function startProcess(args: string[]): Promise<{ url: string; proc: ChildProcess }> {
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((ok, fail) => {
    let out = '';
    proc.stdout.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) ok(m[1]!);
    });
    proc.once('exit', (code) => fail(new Error(`${args.join(' ')} exited with ${code}`)));
  });
  return { url, proc };
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const dataDir = mkdtempSync(join(tmpdir(), 'inferq-bench-'));
  const inferq = await startProcess([join(ROOT, 'dist/cli/main.js'), 'serve', '--port', '0', '--data-dir', dataDir]);
  const baseline = await startProcess(['--import', 'tsx', join(ROOT, 'bench/baseline-server.ts')]);
  process.stdout.write(`inferq benchmarks on ${process.version}, ${(await import('node:os')).cpus().length} cores${quick ? ' (quick)' : ''}\n`);
  try {
    await benchObjectStore({ url: inferq.url, pid: inferq.proc.pid! }, { url: baseline.url, pid: baseline.proc.pid! }, quick);
  } finally {
    inferq.proc.kill('SIGTERM');
    baseline.proc.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(() => process.exit(0), (err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});

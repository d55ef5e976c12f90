/**
 * Command-line start-up benchmarks (issue 11 targets in brackets), one process per run:
 *   `node -e 0`                                   the bare node start-up of this machine (baseline)
 *   `node EMPTY.mjs`                              the same with node's ES module loader (inferq is ESM)
 *   `inferq version`                              [≤ 100 ms median]
 *   `inferq invoke --help`                        (help text only)
 *   `inferq status`                               (one signed GET against a running server)
 *   `inferq invoke echo --input F --wait`         [≤ 300 ms in all, against a running server]
 * Runs are interleaved round-robin (one of each per round) so that the noise of the 2 shared cores
 * falls on every row alike; each row prints the median and p90 wall time and the mean CPU time of the
 * child (user+system, from the cutime/cstime of this process in /proc, 10 ms ticks).
 * `--cli-before=DIST` adds the same rows for another build (e.g. a copy of main's dist, next to a
 * package.json and node_modules) in the same rounds, run against a server of that build.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { printTable } from './lib.js';
import { startProcess, type BenchServer } from './process.js';
import type { StartServer } from './run.js';

const ROOT = resolve(import.meta.dirname, '..');
const TICK_MS = 10; // USER_HZ is 100 on Linux

interface Row {
  readonly name: string;
  readonly args: readonly string[];
  readonly target?: string;
  readonly env: NodeJS.ProcessEnv;
  readonly wall: number[];
  cpuTicks: number;
}

/** CPU time of the reaped children of this process, in clock ticks (fields cutime + cstime of /proc/self/stat). */
function childTicks(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[13]) + Number(fields[14]);
}

/** Runs `node ARGS` once; resolves with its wall time in ms (rejects on a non-zero exit). */
function runOnce(args: readonly string[], env: NodeJS.ProcessEnv): Promise<number> {
  const started = performance.now();
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok(performance.now() - started) : fail(new Error(`node ${args.join(' ')} exited ${code}: ${stderr}`))));
  });
}

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

function clientEnv(server: BenchServer): NodeJS.ProcessEnv {
  return { ...process.env, INFERQ_URL: server.url, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' };
}

function rowsFor(label: string, main: string, input: string, env: NodeJS.ProcessEnv): Row[] {
  const row = (name: string, args: string[], target?: string): Row => ({ name: `${label}${name}`, args: [main, ...args], env, ...(target ? { target } : {}), wall: [], cpuTicks: 0 });
  return [
    row('inferq version', ['version'], '≤ 100 ms'),
    row('inferq invoke --help', ['invoke', '--help']),
    row('inferq status', ['status']),
    row('inferq invoke echo --input F --wait', ['invoke', 'echo', '--input', input, '--wait'], '≤ 300 ms'),
  ];
}

/** Runs the CLI rows against a server with the default configuration (the built-in echo endpoint). */
export async function benchCli(start: StartServer, quick: boolean): Promise<void> {
  const runs = quick ? 7 : 20;
  const before = process.argv.find((a) => a.startsWith('--cli-before='))?.slice('--cli-before='.length);
  const dir = mkdtempSync(join(tmpdir(), 'inferq-bench-cli-'));
  const input = join(dir, 'in.json');
  writeFileSync(input, '{"question": "life?"}\n');
  const empty = join(dir, 'empty.mjs');
  writeFileSync(empty, '');
  const server = await start('server: {}\n');
  const beforeDist = before === undefined ? undefined : resolve(before);
  let beforeServer: BenchServer | undefined;
  try {
    if (beforeDist !== undefined) beforeServer = await startProcess([join(beforeDist, 'cli/main.js'), 'serve', '--port', '0', '--data-dir', join(dir, 'before-data')]);
    const env = clientEnv(server);
    const rows: Row[] = [
      { name: 'node -e 0 (bare start-up)', args: ['-e', '0'], env, wall: [], cpuTicks: 0 },
      { name: 'node EMPTY.mjs (bare ES module start-up)', args: [empty], env, wall: [], cpuTicks: 0 },
      ...rowsFor('', join(ROOT, 'dist/cli/main.js'), input, env),
      ...(beforeDist && beforeServer ? rowsFor('before: ', join(beforeDist, 'cli/main.js'), input, clientEnv(beforeServer)) : []),
    ];
    for (const r of rows) await runOnce(r.args, r.env); // warm the file cache and the servers
    for (let i = 0; i < runs; i++) {
      for (const r of rows) {
        const ticks = childTicks();
        r.wall.push(await runOnce(r.args, r.env));
        r.cpuTicks += childTicks() - ticks;
      }
    }
    const bare = quantile(rows[0]!.wall, 0.5);
    printTable(`Command line (${runs} runs each, interleaved; wall ms)`, ['command', 'median', 'p90', 'CPU ms (mean)', 'median − bare node', 'target'], rows.map((r) => {
      const median = quantile(r.wall, 0.5);
      return [r.name, median, quantile(r.wall, 0.9), (r.cpuTicks * TICK_MS) / runs, r === rows[0] ? '' : median - bare, r.target ?? ''];
    }));
  } finally {
    await beforeServer?.stop();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

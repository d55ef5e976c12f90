/**
 * `--only=scale`: the async pipeline (built-in echo, inline bodies, 64 connections) scaled out on a
 * PostgreSQL queue (127.0.0.1:5432, user root, database test; a schema of its own, dropped after)
 * with the local object store: one API-only `serve` (`worker.enabled: false`) plus 1 or 2
 * `inferq worker` processes on one data directory, beside the embedded SQLite `serve` in the same
 * run. Per row: accepted/s (all 202s), completed/s (until the backlog is empty), and CPU µs per
 * request (user+system from /proc) of every inferq process and, separately, of PostgreSQL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { asyncRequests, awaitDrained, checkAllSucceeded } from './async.js';
import { treeCpuSeconds } from './cpu.js';
import { printTable } from './lib.js';
import { runLoad } from './load.js';
import { startProcess, type BenchServer } from './process.js';

const ROOT = resolve(import.meta.dirname, '..');
const CLI = join(ROOT, 'dist/cli/main.js');
const PG_URL = 'postgres://root@127.0.0.1:5432/test';
/** The postmaster of the machine's cluster (its backends are its children). */
const PG_PID_FILE = '/var/run/postgresql/15-main.pid';

interface Topology {
  readonly api: BenchServer;
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** Starts `inferq worker` and resolves once it logs that its workers run. */
async function startWorker(config: string, dataDir: string): Promise<{ pid: number; stop: () => Promise<void> }> {
  const proc: ChildProcess = spawn(process.execPath, [CLI, 'worker', '--config', config, '--data-dir', dataDir], { stdio: ['ignore', 'inherit', 'pipe'] });
  const exited = once(proc, 'exit');
  await new Promise<void>((ok, fail) => {
    let out = '';
    // The log goes to stderr: watch it for the start line and pass it on.
    proc.stderr!.setEncoding('utf8').on('data', (c: string) => {
      process.stderr.write(c);
      out += c;
      if (out.includes('workers running')) ok();
    });
    void exited.then(() => fail(new Error(`inferq worker exited before running: ${out}`)));
  });
  return { pid: proc.pid!, stop: async () => { proc.kill('SIGTERM'); await exited; } };
}

/** `serve` alone (embedded SQLite), or an API-only `serve` plus `workers` worker processes on PostgreSQL. */
async function topology(workers: number, schema: string): Promise<Topology> {
  const dataDir = mkdtempSync(join(tmpdir(), 'inferq-bench-scale-'));
  const endpoints = 'endpoints:\n  - name: echo\n    model: { builtin: echo }\n';
  const queue = `queue: { backend: postgres, url: "${PG_URL}", schema: ${schema} }\n`;
  const write = (name: string, yaml: string): string => {
    const file = join(dataDir, name);
    writeFileSync(file, yaml);
    return file;
  };
  const serveConfig = workers === 0 ? write('serve.yaml', endpoints) : write('api.yaml', `${endpoints}${queue}worker: { enabled: false }\n`);
  const api = await startProcess([CLI, 'serve', '--port', '0', '--data-dir', dataDir, '--config', serveConfig]);
  const started: { pid: number; stop: () => Promise<void> }[] = [];
  for (let i = 0; i < workers; i++) started.push(await startWorker(write('worker.yaml', `${endpoints}${queue}`), dataDir));
  return {
    api,
    pids: [api.pid, ...started.map((w) => w.pid)],
    async stop() {
      for (const w of started) await w.stop();
      await api.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function postmasterPid(): number | undefined {
  try {
    return Number(readFileSync(PG_PID_FILE, 'utf8').split('\n')[0]);
  } catch {
    return undefined;
  }
}

const sum = (pids: readonly number[]): number => pids.reduce((total, pid) => total + treeCpuSeconds(pid), 0);

/** One row: a warm-up, then `n` requests timed to all-202 and to an empty backlog, with CPU. */
async function row(label: string, workers: number, n: number, schema: string): Promise<(string | number)[]> {
  const t = await topology(workers, schema);
  try {
    await runLoad(t.api.port, asyncRequests(t.api.url, 'echo', 1000).buffers, 64);
    await awaitDrained(t.api.url, 'echo');
    const { buffers, ids } = asyncRequests(t.api.url, 'echo', n);
    const pgPid = workers > 0 ? postmasterPid() : undefined;
    const cpuBefore = sum(t.pids);
    const pgBefore = pgPid === undefined ? 0 : treeCpuSeconds(pgPid);
    const started = performance.now();
    const load = await runLoad(t.api.port, buffers, 64);
    const acceptedSeconds = (performance.now() - started) / 1000;
    if (load.statuses.get(202) !== n) throw new Error(`not all accepted: ${[...load.statuses].join(' ')}`);
    await awaitDrained(t.api.url, 'echo');
    const completedSeconds = (performance.now() - started) / 1000;
    const cpuUs = ((sum(t.pids) - cpuBefore) * 1e6) / n;
    const pgUs = pgPid === undefined ? undefined : ((treeCpuSeconds(pgPid) - pgBefore) * 1e6) / n;
    await checkAllSucceeded(t.api, ids);
    return [label, Math.round(n / acceptedSeconds), Math.round(n / completedSeconds), Math.round(cpuUs), pgUs === undefined ? '—' : Math.round(pgUs)];
  } finally {
    await t.stop();
  }
}

/** Runs the scale rows and prints their table. */
export async function benchScale(quick: boolean): Promise<void> {
  const n = quick ? 3000 : 10_000;
  const schema = `bench_scale_${process.pid}`;
  const rows: (string | number)[][] = [];
  try {
    rows.push(await row('embedded SQLite, one serve', 0, n, `${schema}_0`));
    rows.push(await row('PostgreSQL, API serve + 1 worker process', 1, n, `${schema}_1`));
    rows.push(await row('PostgreSQL, API serve + 2 worker processes', 2, n, `${schema}_2`));
  } finally {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    for (const s of [1, 2]) await client.query(`DROP SCHEMA IF EXISTS "${schema}_${s}" CASCADE`);
    await client.end();
  }
  printTable(`Scale-out: async echo, ${n} inline requests from 64 connections, local object store`,
    ['topology', 'accepted/s', 'completed/s', 'inferq CPU µs/request', 'PostgreSQL CPU µs/request'], rows);
}

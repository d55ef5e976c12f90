/**
 * Real-time inference benchmarks (issue targets in brackets), inferq against calling the same
 * model directly, in the same run:
 * (a) p50/p99 of sequential InvokeEndpoint calls (small body) vs the same model's `POST /invocations`
 *     [added p50 < 1 ms]. Both paths hit the very same echo model process: inferq's endpoint is
 *     `model: { url: … }` pointing at it.
 * (b) requests/s over 64 connections: with the echo model (100 B bodies: nothing but inferq's own
 *     per-call cost, the worst case) through inferq vs through the thinnest node:http proxy
 *     [≥ 90 % of the bare proxy], with the CPU µs per request of both servers' process trees (from
 *     /proc), and both vs direct; with the built-in `vad` model (Silero VAD on a 2.3 s WAV: a real
 *     model's work per call) through inferq vs the very model process called directly [≥ 70 %].
 *     With `--compare=DIR`, another build of inferq runs in the same alternating rounds (A/B).
 * (c) cold start of each built-in model from zero instances to the first 200, vs starting the model
 *     process directly and calling it as soon as its /ping answers 200; and the warm calls after it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { signRequest } from '../src/auth/index.js';
import { builtinModelAvailable, type BuiltinModelName } from '../src/models/builtin-command.js';
import { treeCpuMicros } from './cpu.js';
import { printTable } from './lib.js';
import { responseReader, runLoad, serialize, type LoadResult } from './load.js';
import { startProcess, type BenchServer } from './process.js';
import type { StartServer } from './run.js';

const ROOT = resolve(import.meta.dirname, '..');
const CREDS = { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' };

/** The built models, started as `builtinModelCommand` starts them from `dist/` (paths spelled out so the bench type-checks without a build). */
const MODEL_ARGS: Record<BuiltinModelName, string[]> = {
  echo: [join(ROOT, 'dist/models/builtin/echo-server.js')],
  vad: [join(ROOT, 'dist/cli/main.js'), 'model', 'serve', '--handler', join(ROOT, 'dist/models/builtin/vad-handler.js')],
};

/** Input sent to each built-in model in the cold-start runs. */
function modelInput(name: BuiltinModelName): { body: Buffer; contentType: string } {
  if (name === 'vad') return { body: readFileSync(join(ROOT, 'test/fixtures/speech-16k.wav')), contentType: 'audio/wav' };
  return { body: smallBody(), contentType: 'application/json' };
}

/** A 100-byte JSON body. */
function smallBody(): Buffer {
  const s = '{"text":"';
  return Buffer.from(`${s}${'x'.repeat(100 - s.length - 2)}"}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** One keep-alive connection with one request in flight, timing each request with hrtime. */
class Connection {
  private pending: { ok: (status: number) => void; fail: (err: Error) => void } | undefined;

  private constructor(private readonly socket: Socket) {
    responseReader(socket, (status) => {
      const p = this.pending;
      this.pending = undefined;
      p?.ok(status);
    });
    socket.on('error', (err) => {
      const p = this.pending;
      this.pending = undefined;
      p?.fail(err);
    });
    socket.on('close', () => this.pending?.fail(new Error('connection closed')));
  }

  static async open(port: number): Promise<Connection> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    return new Connection(socket);
  }

  /** Writes one serialised request; resolves with the response's status once it has fully arrived. */
  send(req: Buffer): Promise<number> {
    return new Promise((ok, fail) => {
      this.pending = { ok, fail };
      this.socket.write(req);
    });
  }

  async timed(req: Buffer): Promise<{ status: number; ms: number }> {
    const started = process.hrtime.bigint();
    const status = await this.send(req);
    return { status, ms: Number(process.hrtime.bigint() - started) / 1e6 };
  }

  close(): void {
    this.socket.destroy();
  }
}

/** A model process started directly on `port` (SAGEMAKER_BIND_TO_PORT). */
interface ModelProcess {
  readonly proc: ChildProcess;
  stop(): Promise<void>;
}

function spawnModel(name: BuiltinModelName, port: number): ModelProcess {
  const proc = spawn(process.execPath, MODEL_ARGS[name], { env: { ...process.env, SAGEMAKER_BIND_TO_PORT: String(port) }, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = once(proc, 'exit');
  return {
    proc,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      await exited;
    },
  };
}

function ping(port: number): Promise<number> {
  return new Promise((ok) => {
    const req = request({ host: '127.0.0.1', port, path: '/ping', agent: false }, (res) => {
      res.resume();
      ok(res.statusCode ?? 0);
    });
    req.on('error', () => ok(0));
    req.end();
  });
}

/** Polls /ping every 5 ms until it answers 200 (the best a client of the bare model can do). */
async function waitHealthy(model: ModelProcess, port: number, timeoutMs = 300_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while ((await ping(port)) !== 200) {
    if (model.proc.exitCode !== null || model.proc.signalCode !== null) throw new Error(`model exited (${model.proc.exitCode ?? model.proc.signalCode}) before answering /ping`);
    if (performance.now() > deadline) throw new Error('model did not answer /ping with 200 in time');
    await sleep(5);
  }
}

function directRequest(port: number, body: Buffer, contentType: string): Buffer {
  return serialize('POST', '/invocations', { host: `127.0.0.1:${port}`, 'content-type': contentType, 'content-length': String(body.length) }, body);
}

/** Pre-signs `n` InvokeEndpoint requests with distinct InferenceIds (and so distinct signatures). */
function invokeRequests(server: BenchServer, endpoint: string, body: Buffer, contentType: string, n: number): Buffer[] {
  const url = new URL(`/endpoints/${endpoint}/invocations`, server.url);
  const payloadHash = createHash('sha256').update(body).digest('hex');
  const prefix = randomUUID().slice(0, 8);
  const out: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const headers = signRequest({
      method: 'POST', url, service: 'sagemaker', ...CREDS, payloadHash,
      headers: { 'content-length': String(body.length), 'content-type': contentType, 'x-amzn-sagemaker-inference-id': `${prefix}-${i}` },
    });
    out.push(serialize('POST', url.pathname, headers, body));
  }
  return out;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function median(values: readonly number[]): number {
  return percentile([...values].sort((a, b) => a - b), 50);
}

/** "all 200", or the count of each status when any was not 200. */
function statusNote(statuses: ReadonlyMap<number, number>): string {
  const other = [...statuses].filter(([s]) => s !== 200);
  return other.length === 0 ? 'all 200' : [...statuses].map(([s, c]) => `${s}×${c}`).join(' ');
}

function count(statuses: Map<number, number>, status: number): void {
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
}

const ms3 = (v: number): string => v.toFixed(3);
const ms0 = (v: number): string => v.toFixed(0);

interface Latency { p50: number; p99: number }

/** Sequential calls, direct and through each inferq interleaved one for one (so drift hits all alike). */
async function sequentialLatency(modelPort: number, servers: readonly BenchServer[], warmup: number, n: number): Promise<{ direct: Latency; inferq: Latency[]; statuses: Map<number, number> }> {
  const body = smallBody();
  const direct = directRequest(modelPort, body, 'application/json');
  const invokes = servers.map((server) => invokeRequests(server, 'echo', body, 'application/json', warmup + n));
  const a = await Connection.open(modelPort);
  const b = await Promise.all(servers.map((server) => Connection.open(server.port)));
  const d: number[] = [];
  const q = servers.map((): number[] => []);
  const statuses = new Map<number, number>();
  try {
    for (let i = 0; i < warmup + n; i++) {
      const x = await a.timed(direct);
      count(statuses, x.status);
      if (i >= warmup) d.push(x.ms);
      for (const [k, conn] of b.entries()) {
        const y = await conn.timed(invokes[k]![i]!);
        count(statuses, y.status);
        if (i >= warmup) q[k]!.push(y.ms);
      }
    }
  } finally {
    a.close();
    for (const conn of b) conn.close();
  }
  const latency = (values: number[]): Latency => {
    values.sort((x, y) => x - y);
    return { p50: percentile(values, 50), p99: percentile(values, 99) };
  };
  return { direct: latency(d), inferq: q.map(latency), statuses };
}

/** One way to reach the model under load: a port and the (pre-built) requests to send there. */
interface LoadPath {
  readonly port: number;
  /** The server process whose CPU time (with its descendants') is measured per round, if any. */
  readonly pid?: number;
  requests(n: number): Buffer[];
}

/** A load round, with the CPU time its server process tree used (when measured). */
interface Round extends LoadResult {
  readonly cpuMicros: number | undefined;
}

function directPath(modelPort: number, input: { body: Buffer; contentType: string }): LoadPath {
  const req = directRequest(modelPort, input.body, input.contentType);
  return { port: modelPort, requests: (n) => new Array<Buffer>(n).fill(req) };
}

function inferqPath(server: BenchServer, endpoint: string, input: { body: Buffer; contentType: string }): LoadPath {
  return { port: server.port, pid: server.pid, requests: (n) => invokeRequests(server, endpoint, input.body, input.contentType, n) };
}

/**
 * `n` requests over 64 connections on every path, after `warm` warm-up requests on each; in
 * `rounds` alternating rounds of n / rounds each (every other round in reverse order), so drift of the machine's speed (or a model still
 * warming up) hits every path alike. Returns each path's rounds.
 */
async function alternatingLoad(paths: readonly LoadPath[], n: number, warm: number, rounds: number): Promise<Round[][]> {
  for (const path of paths) await runLoad(path.port, path.requests(warm), 64);
  const out = paths.map((): Round[] => []);
  const per = Math.ceil(n / rounds);
  for (let r = 0; r < rounds; r++) {
    const order = [...paths.entries()];
    if (r % 2 === 1) order.reverse(); // no path always runs right after another
    for (const [i, path] of order) {
      const requests = path.requests(per);
      const cpuBefore = path.pid === undefined ? 0 : treeCpuMicros(path.pid);
      const result = await runLoad(path.port, requests, 64);
      out[i]!.push({ ...result, cpuMicros: path.pid === undefined ? undefined : treeCpuMicros(path.pid) - cpuBefore });
    }
  }
  return out;
}

/** CPU µs per request over all rounds, per round in brackets; '—' when not measured. */
function cpuPerRequest(runs: readonly Round[]): { total: number; rounds: string } {
  const measured = runs.filter((r) => r.cpuMicros !== undefined);
  const total = measured.reduce((sum, r) => sum + r.cpuMicros!, 0) / measured.reduce((sum, r) => sum + r.requests, 0);
  return { total, rounds: measured.map((r) => (r.cpuMicros! / r.requests).toFixed(0)).join(' ') };
}

function combine(runs: readonly LoadResult[]): LoadResult {
  const statuses = new Map<number, number>();
  for (const r of runs) for (const [s, c] of r.statuses) statuses.set(s, (statuses.get(s) ?? 0) + c);
  const requests = runs.reduce((sum, r) => sum + r.requests, 0);
  const seconds = runs.reduce((sum, r) => sum + r.seconds, 0);
  return { requests, seconds, perSecond: requests / seconds, statuses };
}

const percent = (x: number): string => `${(x * 100).toFixed(0)}%`;

/** `measured` against `baseline`: the rates of all rounds together, and the ratio of each round. */
function compare(measured: readonly LoadResult[], baseline: readonly LoadResult[]): { rate: number; base: number; ratio: string; rounds: string } {
  const rate = combine(measured).perSecond;
  const base = combine(baseline).perSecond;
  return { rate, base, ratio: percent(rate / base), rounds: measured.map((m, i) => percent(m.perSecond / baseline[i]!.perSecond)).join(' ') };
}

function loadRow(label: string, inferq: readonly LoadResult[], direct: readonly LoadResult[], target = '≥ 70%'): (string | number)[] {
  const c = compare(inferq, direct);
  const rounds = inferq.length > 1 ? `; per round ${c.rounds}` : '';
  return [label, c.rate, c.base, c.ratio, target, `inferq ${statusNote(combine(inferq).statuses)}; baseline ${statusNote(combine(direct).statuses)}${rounds}`];
}

/** Another build of inferq, run beside this one in the echo rows (an A/B of CPU per request and rate). */
export interface AbBuild {
  /** Where it was built from, for the table. */
  readonly label: string;
  readonly start: StartServer;
}

/**
 * Rows (b) with the echo model: direct, through inferq, and through the bare node:http proxy (and
 * through the A/B build), alternating; with the CPU µs per request of inferq's and the proxy's processes.
 */
async function echoLoadRows(modelPort: number, server: BenchServer, other: BenchServer | undefined, n: number): Promise<(string | number)[][]> {
  const input = { body: smallBody(), contentType: 'application/json' };
  const proxy = await startProcess(['--import', 'tsx', join(ROOT, 'bench/bare-proxy.ts'), String(modelPort)]);
  try {
    const paths = [directPath(modelPort, input), inferqPath(server, 'echo', input), { ...directPath(proxy.port, input), pid: proxy.pid }];
    if (other !== undefined) paths.push(inferqPath(other, 'echo', input));
    const [direct, inferq, bare, ab] = await alternatingLoad(paths, n, Math.min(2000, n), other === undefined ? 3 : 6);
    const viaBare = compare(bare!, direct!);
    const ofDirect = compare(inferq!, direct!);
    const cpu = cpuPerRequest(inferq!);
    const bareCpu = cpuPerRequest(bare!);
    const rows = [
      loadRow(`(b) echo through inferq vs the bare node:http proxy: requests/s, 64 connections, ${n} requests of 100 B`, inferq!, bare!, '≥ 90%'),
      ['(b) echo: server CPU µs per request, inferq vs the bare proxy', cpu.total.toFixed(0), bareCpu.total.toFixed(0), `${(cpu.total / bareCpu.total).toFixed(2)}×`, '—', `per round ${cpu.rounds} vs ${bareCpu.rounds} (user+system of each server process tree, /proc)`],
      ['(b) echo (pure proxy overhead): inferq vs direct, requests/s', ofDirect.rate, ofDirect.base, ofDirect.ratio, '—', `per round ${ofDirect.rounds}`],
      ['(b) echo through a bare node:http proxy (no auth, no logic) vs direct: requests/s', viaBare.rate, viaBare.base, viaBare.ratio, '—', `per round ${viaBare.rounds}; ${statusNote(combine(bare!).statuses)}`],
    ];
    if (ab !== undefined) {
      const abCpu = cpuPerRequest(ab);
      const vs = compare(inferq!, ab);
      rows.push(
        ['(A/B) echo: server CPU µs per request, this build vs the A/B build', cpu.total.toFixed(0), abCpu.total.toFixed(0), `${(cpu.total / abCpu.total).toFixed(3)}×`, '—', `per round ${cpu.rounds} vs ${abCpu.rounds}; median of the per-round ratios ${median(inferq!.map((r, i) => r.cpuMicros! / ab[i]!.cpuMicros!)).toFixed(3)}×`],
        ['(A/B) echo: requests/s, this build vs the A/B build', vs.rate, vs.base, vs.ratio, '—', `per round ${vs.rounds}; A/B build ${statusNote(combine(ab).statuses)}; vs bare proxy ${compare(ab, bare!).ratio}`],
      );
    }
    return rows;
  } finally {
    await proxy.stop();
  }
}

/** Row (b) with the vad model: one model process, called directly and through an inferq `url` endpoint on it. */
async function vadLoadRow(start: StartServer, quick: boolean): Promise<(string | number)[]> {
  const label = '(b) vad (Silero VAD, 2.3 s WAV): requests/s, 64 connections';
  const available = builtinModelAvailable('vad');
  if (!available.ok) return [label, '—', '—', '—', '≥ 70%', `skipped: vad not installed (${available.reason})`];
  const n = quick ? 320 : 1280;
  return withModelBehindInferq(start, 'vad', async (port, server) => {
    const [direct, inferq] = await alternatingLoad([directPath(port, modelInput('vad')), inferqPath(server, 'vad', modelInput('vad'))], n, 64, 2);
    return loadRow(`${label}, ${n} requests`, inferq!, direct!);
  });
}

/** An inferq config with one endpoint `name` that is `model: { url }` on the model at `port`. */
function urlEndpointConfig(name: BuiltinModelName, port: number): string {
  return `endpoints:\n  - name: ${name}\n    model: { url: 'http://127.0.0.1:${port}' }\n    async: { maxConcurrentInvocations: 64 }\n    realtime: { maxWaiting: 1000 }\n`;
}

/**
 * Starts the built-in model `name` directly on a free port, waits for its /ping, starts inferq with
 * an endpoint of the same name that is `model: { url }` on that process, runs `use`, then stops both.
 */
async function withModelBehindInferq<T>(start: StartServer, name: BuiltinModelName, use: (modelPort: number, server: BenchServer) => Promise<T>): Promise<T> {
  const port = await freePort();
  const model = spawnModel(name, port);
  try {
    await waitHealthy(model, port);
    const server = await start(urlEndpointConfig(name, port));
    try {
      return await use(port, server);
    } finally {
      await server.stop();
    }
  } finally {
    await model.stop();
  }
}

interface ColdRun { cold: number; warm1: number; warm2: number; statuses: number[] }

/** A fresh inferq with the model at zero instances: InvokeEndpoint until its 200, then two more calls. */
async function coldInferq(start: StartServer, name: BuiltinModelName): Promise<ColdRun> {
  const { body, contentType } = modelInput(name);
  const server = await start(`endpoints:\n  - name: ${name}\n    model: { builtin: ${name} }\n    instances: { min: 0, max: 1 }\n    realtime: { startTimeoutSeconds: 600 }\n`);
  try {
    const reqs = invokeRequests(server, name, body, contentType, 3);
    const conn = await Connection.open(server.port);
    try {
      const first = await conn.timed(reqs[0]!);
      const second = await conn.timed(reqs[1]!);
      const third = await conn.timed(reqs[2]!);
      return { cold: first.ms, warm1: second.ms, warm2: third.ms, statuses: [first.status, second.status, third.status] };
    } finally {
      conn.close();
    }
  } finally {
    await server.stop();
  }
}

/** The model process started directly: spawn → /ping 200 (polled every 5 ms) → first 200, then two more calls. */
async function coldDirect(name: BuiltinModelName): Promise<ColdRun> {
  const { body, contentType } = modelInput(name);
  const port = await freePort();
  const req = directRequest(port, body, contentType);
  const started = process.hrtime.bigint();
  const model = spawnModel(name, port);
  try {
    await waitHealthy(model, port);
    const conn = await Connection.open(port);
    try {
      const status = await conn.send(req);
      const cold = Number(process.hrtime.bigint() - started) / 1e6;
      const second = await conn.timed(req);
      const third = await conn.timed(req);
      return { cold, warm1: second.ms, warm2: third.ms, statuses: [status, second.status, third.status] };
    } finally {
      conn.close();
    }
  } finally {
    await model.stop();
  }
}

function coldRows(name: BuiltinModelName, q: ColdRun[], d: ColdRun[]): (string | number)[][] {
  const pick = (runs: ColdRun[], f: (r: ColdRun) => number): number[] => runs.map(f).sort((a, b) => a - b);
  const qc = pick(q, (r) => r.cold);
  const dc = pick(d, (r) => r.cold);
  const bad = [...q, ...d].flatMap((r) => r.statuses).filter((s) => s !== 200);
  const statuses = bad.length === 0 ? 'all 200' : `non-200: ${bad.join(', ')}`;
  return [
    [`(c) ${name}: cold start, zero → first 200, min / median (ms)`, `${ms0(qc[0]!)} / ${ms0(median(qc))}`, `${ms0(dc[0]!)} / ${ms0(median(dc))}`, `${(median(qc) / median(dc)).toFixed(2)}×`, '—', `${q.length} runs each, inferq restarted per run; ${statuses}`],
    [`(c) ${name}: next two calls after the cold one, median (ms)`, `${ms3(median(q.map((r) => r.warm1)))} / ${ms3(median(q.map((r) => r.warm2)))}`, `${ms3(median(d.map((r) => r.warm1)))} / ${ms3(median(d.map((r) => r.warm2)))}`, '—', '—', '2nd call / 3rd call on the same connection'],
  ];
}

/** Runs the real-time benchmarks and prints their table. */
export async function benchRealtime(start: StartServer, quick: boolean, ab?: AbBuild): Promise<void> {
  const warmup = quick ? 200 : 500;
  const calls = quick ? 500 : 2000;
  const loadN = quick ? 5000 : 20000;
  const rows: (string | number)[][] = [];

  await withModelBehindInferq(start, 'echo', async (modelPort, server) => {
    const other = ab === undefined ? undefined : await ab.start(urlEndpointConfig('echo', modelPort));
    try {
      const lat = await sequentialLatency(modelPort, other === undefined ? [server] : [server, other], warmup, calls);
      const mine = lat.inferq[0]!;
      rows.push([`(a) sequential call p50 (ms), ${calls} calls of 100 B`, ms3(mine.p50), ms3(lat.direct.p50), `${(mine.p50 / lat.direct.p50).toFixed(2)}×`, '—', `p99 ${ms3(mine.p99)} vs ${ms3(lat.direct.p99)} direct; ${statusNote(lat.statuses)}`]);
      rows.push(['(a) added p50 latency (ms)', ms3(mine.p50 - lat.direct.p50), '—', '—', '< 1 ms', `added p99 ${ms3(mine.p99 - lat.direct.p99)} ms`]);
      const theirs = lat.inferq[1];
      if (theirs !== undefined) rows.push(['(A/B) added p50 latency (ms), this build vs the A/B build', ms3(mine.p50 - lat.direct.p50), ms3(theirs.p50 - lat.direct.p50), '—', '—', `A/B build: ${ab!.label}; added p99 ${ms3(theirs.p99 - lat.direct.p99)} ms`]);
      rows.push(...(await echoLoadRows(modelPort, server, other, loadN)));
    } finally {
      await other?.stop();
    }
  });
  rows.push(await vadLoadRow(start, quick));

  for (const name of ['echo', 'vad'] as const) {
    const available = builtinModelAvailable(name);
    if (!available.ok) {
      process.stdout.write(`${name}: not installed (${available.reason})\n`);
      rows.push([`(c) ${name}: cold start`, '—', '—', '—', '—', `not installed (${available.reason})`]);
      continue;
    }
    const q: ColdRun[] = [];
    const d: ColdRun[] = [];
    for (let i = 0; i < 3; i++) {
      q.push(await coldInferq(start, name));
      d.push(await coldDirect(name));
    }
    rows.push(...coldRows(name, q, d));
  }

  printTable('Real-time inference (baseline: the same model called directly)', ['metric', 'inferq', 'baseline (direct)', 'ratio', 'target', 'notes'], rows);
  process.stdout.write([
    '',
    'Notes: (a) alternates one direct call and one InvokeEndpoint call, each on its own keep-alive socket, after a',
    `${warmup}-call warm-up; every InvokeEndpoint request is signed before timing, with a distinct InferenceId and so a`,
    'distinct signature (no reuse). inferq\'s endpoint is `model: { url }` on the very echo process called directly, with',
    '`async.maxConcurrentInvocations: 64` and `realtime.maxWaiting: 1000`. The load client, inferq and the model share',
    'this machine\'s cores. (b) echo: direct, inferq and bench/bare-proxy.ts (the thinnest node:http reverse proxy:',
    'no auth, no routing, a keep-alive agent to the same model) in three alternating rounds (six with --compare, the',
    'A/B build being a fourth path; every other round runs the paths in reverse order), after 2,000 warm-up calls on',
    'each path; CPU is user+system time of each server\'s process tree from /proc over each round. vad: the built `vad` model process and the WAV of (c), 64 warm-up calls on each path, then two',
    'alternating rounds (inferq\'s endpoint `vad` is `model: { url }` on that process). (c) inferq is started afresh',
    'per run (model at `instances: { min: 0, max: 1 }`), so the cold call also pays inferq\'s own first-request cost;',
    'the direct baseline spawns the same built model and polls /ping every 5 ms; inferq polls a starting model every',
    'tenth of the time it has been starting (10 ms to 1 s).',
    '',
  ].join('\n'));
}

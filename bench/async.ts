/**
 * Asynchronous-inference benchmarks (issue targets in brackets):
 * (a) accepted InvokeEndpointAsync/s, distinct signatures, 64 connections, vs a bare node:http 202 [≥ 5,000/s, ≥ 40 %];
 *     with, in the same rounds, a reference: the bare server plus SigV4 verification and a durable
 *     append (bench/durable-baseline-server.ts), the least an authenticated durable 202 costs, and
 *     inferq with `server.queueDurability: process-crash` (202 without waiting for the fdatasync)
 * (b) the pipeline end to end with the built-in echo endpoint at its default configuration: 20,000
 *     inline requests from 64 connections, completed/s until the backlog is empty [≥ 4,000/s], and
 *     the CPU µs (user+system, /proc, every inferq process: worker threads, model processes) per
 *     completed request beside a bare node:http 202 server's per request [≤ 6×, moonshot 4×]
 * (c) p50/p99 from 202 to output written, light load [p50 ≤ 5 ms]
 * (d) peak RSS while a 1 GiB input flows through a model [≤ 300 MB]
 * (e) enqueue rate and RSS with 1,000,000 requests queued [no worse than empty]
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { signRequest } from '../src/auth/index.js';
import { openSqliteJobQueue } from '../src/queue/index.js';
import { runLoad, serialize } from './load.js';
import { measureCpu } from './cpu.js';
import { agent, peakRssMiB, printTable, send, signS3, throughput } from './lib.js';
import { startProcess } from './process.js';
import type { BenchServer, StartServer } from './run.js';

const ROOT = resolve(import.meta.dirname, '..');

const CREDS = { accessKeyId: 'test', secretAccessKey: 'test', region: 'us-east-1' };

/** Pre-signs `n` InvokeEndpointAsync requests with inline bodies and distinct InferenceIds. */
export function asyncRequests(base: string, endpoint: string, n: number, prefix = randomUUID().slice(0, 8)): { buffers: Buffer[]; ids: string[] } {
  const url = new URL(`/endpoints/${endpoint}/async-invocations`, base);
  const buffers: Buffer[] = [];
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const id = `${prefix}-${i}`;
    const body = Buffer.from(`{"n":${i}}`);
    const headers = signRequest({
      method: 'POST', url, service: 'sagemaker', ...CREDS, payloadHash: createHash('sha256').update(body).digest('hex'),
      headers: { 'content-length': String(body.length), 'content-type': 'application/octet-stream', 'x-amzn-sagemaker-content-type': 'application/json', 'x-amzn-sagemaker-inference-id': id },
    });
    buffers.push(serialize('POST', url.pathname, headers, body));
    ids.push(id);
  }
  return { buffers, ids };
}

function signedHeaders(method: string, url: URL): Record<string, string> {
  return signRequest({ method, url, service: 'sagemaker', ...CREDS, payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', headers: {} });
}

/** Long-polls the status API until the request is terminal; returns the status document. */
async function awaitTerminal(base: string, endpoint: string, id: string): Promise<{ Status: string; FinishedTime?: string }> {
  let unless = '';
  for (;;) {
    const url = new URL(`/endpoints/${endpoint}/async-invocations/${id}${unless ? `?waitSeconds=30&unlessStatus=${unless}` : ''}`, base);
    const res = await send('GET', url.href, signedHeaders('GET', url));
    if (res.status !== 200) throw new Error(`status ${id}: HTTP ${res.status}`);
    const doc = JSON.parse(res.text) as { Status: string; FinishedTime?: string };
    if (!['Queued', 'Running'].includes(doc.Status)) return doc;
    unless = doc.Status;
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

async function acceptRate(server: BenchServer, n: number): Promise<{ rate: number; statuses: string }> {
  await runLoad(server.port, asyncRequests(server.url, 'echo', 2000).buffers, 64); // warm-up (JIT, caches)
  const { buffers } = asyncRequests(server.url, 'echo', n);
  const r = await runLoad(server.port, buffers, 64);
  return { rate: r.perSecond, statuses: [...r.statuses].map(([s, c]) => `${s}×${c}`).join(' ') };
}

/** Waits until the endpoint has nothing queued or running (polls the endpoint status every 20 ms). */
export async function awaitDrained(base: string, endpoint: string): Promise<void> {
  for (;;) {
    const url = new URL(`/endpoints/${endpoint}`, base);
    const res = await send('GET', url.href, signedHeaders('GET', url));
    const doc = JSON.parse(res.text) as { Backlog?: { Queued: number; Running: number } };
    if (!doc.Backlog) throw new Error(`endpoint status: HTTP ${res.status} ${res.text}`);
    if (doc.Backlog.Queued + doc.Backlog.Running === 0) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The built-in echo endpoint with its default configuration (row (b)). */
const DEFAULT_ECHO = 'endpoints:\n  - name: echo\n    model: { builtin: echo }\n';

/** Checks, through the status API, that every request succeeded. */
export async function checkAllSucceeded(server: BenchServer, ids: readonly string[]): Promise<void> {
  const failed: string[] = [];
  await throughput(ids.length, 64, async (i) => {
    const url = new URL(`/endpoints/echo/async-invocations/${ids[i]!}`, server.url);
    const res = await send('GET', url.href, signedHeaders('GET', url));
    const status = res.status === 200 ? (JSON.parse(res.text) as { Status: string }).Status : `HTTP ${res.status}`;
    if (status !== 'Succeeded') failed.push(`${ids[i]!}: ${status}`);
  });
  if (failed.length > 0) throw new Error(`${failed.length} of ${ids.length} requests did not succeed: ${failed.slice(0, 5).join(', ')}`);
}

/** One drain: `n` inline requests from 64 connections, timed until the backlog is empty, with the server tree's CPU. */
async function drainRound(server: BenchServer, n: number): Promise<{ perSecond: number; cpuUs: number }> {
  const { buffers, ids } = asyncRequests(server.url, 'echo', n);
  const { result: seconds, cpuSeconds } = await measureCpu(server.pid, async () => {
    const started = performance.now();
    const load = await runLoad(server.port, buffers, 64);
    if (load.statuses.get(202) !== n) throw new Error(`not all accepted: ${[...load.statuses].join(' ')}`);
    await awaitDrained(server.url, 'echo');
    return (performance.now() - started) / 1000;
  });
  await checkAllSucceeded(server, ids);
  return { perSecond: n / seconds, cpuUs: (cpuSeconds * 1e6) / n };
}

/** The bare 202 server's CPU µs per request for the same `n` requests. */
async function bareCpuUs(baseline: BenchServer, n: number): Promise<number> {
  const { buffers } = asyncRequests(baseline.url, 'echo', n);
  const { cpuSeconds } = await measureCpu(baseline.pid, () => runLoad(baseline.port, buffers, 64));
  return (cpuSeconds * 1e6) / n;
}

/** A build of inferq to measure: this checkout's or another one's (`--compare`). */
export interface PipelineBuild {
  readonly name: string;
  readonly start: StartServer;
}

/**
 * Row (b): the async pipeline end to end with the built-in echo endpoint at its defaults. Each
 * round drains `n` requests on every build and measures the bare server on the same requests;
 * medians of the rounds are reported.
 */
async function pipelineRows(builds: readonly PipelineBuild[], baseline: BenchServer, n: number, rounds: number): Promise<(string | number)[][]> {
  const servers = await Promise.all(builds.map((b) => b.start(DEFAULT_ECHO)));
  for (const server of servers) await drainRound(server, 2000); // warm-up (JIT, model connections)
  const bare: number[] = [];
  const results = servers.map(() => ({ rates: [] as number[], cpu: [] as number[] }));
  for (let r = 0; r < rounds; r++) {
    bare.push(await bareCpuUs(baseline, n));
    for (const [i, server] of servers.entries()) {
      const round = await drainRound(server, n);
      results[i]!.rates.push(round.perSecond);
      results[i]!.cpu.push(round.cpuUs);
    }
  }
  for (const server of servers) await server.stop();
  const bareUs = median(bare);
  return builds.flatMap((build, i) => {
    const { rates, cpu } = results[i]!;
    const label = builds.length > 1 ? ` [${build.name}]` : '';
    const fmt = (xs: number[]): string => xs.map((x) => x.toFixed(0)).join(' ');
    return [
      [`(b) completed requests/s end to end, echo at its default config${label}`, median(rates), '—', '—', '≥ 4,000/s',
        `${n} inline requests from 64 connections until the backlog is empty, all checked Succeeded; per-round ${fmt(rates)}`],
      [`(b) server CPU µs per completed request (every inferq process)${label}`, median(cpu), bareUs, `${(median(cpu) / bareUs).toFixed(1)}×`, '≤ 6× (moonshot 4×)',
        `baseline: the bare 202 server's CPU µs per request, same requests; per-round ${fmt(cpu)} vs ${fmt(bare)}`],
    ];
  });
}

async function latency(server: BenchServer, n: number): Promise<{ p50: number; p99: number }> {
  const samples: number[] = [];
  for (let i = 0; i < n; i++) {
    const { buffers, ids } = asyncRequests(server.url, 'echo', 1);
    await runLoad(server.port, buffers, 1);
    const accepted = Date.now();
    const doc = await awaitTerminal(server.url, 'echo', ids[0]!);
    samples.push(Math.max(0, Date.parse(doc.FinishedTime ?? '') - accepted));
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 50), p99: percentile(samples, 99) };
}

function generated(total: number): Readable {
  const block = Buffer.alloc(1024 * 1024, 3);
  let left = total;
  return new Readable({ read() { const n = Math.min(left, block.length); left -= n; this.push(n > 0 ? block.subarray(0, n) : null); } });
}

async function gibThroughModel(server: BenchServer): Promise<{ seconds: number; rss: number }> {
  const size = 1024 ** 3;
  const put = await send('PUT', `${server.url}/bench-in`, await signS3('PUT', `${server.url}/bench-in`));
  if (put.status !== 200) throw new Error(`create bucket: ${put.status}`);
  const obj = `${server.url}/bench-in/one-gib`;
  const up = await send('PUT', obj, { ...(await signS3('PUT', obj)), 'content-length': String(size) }, generated(size));
  if (up.status !== 200) throw new Error(`upload: ${up.status}`);
  const id = `gib-${randomUUID().slice(0, 8)}`;
  const url = new URL('/endpoints/echo/async-invocations', server.url);
  const started = performance.now();
  const res = await send('POST', url.href, signRequest({ method: 'POST', url, service: 'sagemaker', ...CREDS, payloadHash: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855', headers: { 'x-amzn-sagemaker-inputlocation': 's3://bench-in/one-gib', 'x-amzn-sagemaker-inference-id': id } }));
  if (res.status !== 202) throw new Error(`invoke: ${res.status} ${res.text}`);
  const doc = await awaitTerminal(server.url, 'echo', id);
  if (doc.Status !== 'Succeeded') throw new Error(`1 GiB request ended ${doc.Status}`);
  return { seconds: (performance.now() - started) / 1000, rss: peakRssMiB(server.pid) };
}

const CONFIG = (workers: boolean, extra = '', durability = 'power-loss'): string => `server: { maxBacklogPerEndpoint: 100000000, queueDurability: ${durability} }\nworker: { enabled: ${workers} }\nendpoints:\n  - name: echo\n    model: { builtin: echo }\n    async: { maxConcurrentInvocations: 64 }\n${extra}`;

/** Rounds of (a): the machine's speed drifts between runs, so baseline and inferq alternate and the medians are reported. */
const ROUNDS = 5;

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

interface AcceptRound {
  readonly bare: number;
  readonly empty: number;
  readonly seeded: number;
  readonly reference: number;
  readonly processCrash: number;
  readonly statuses: string;
  readonly referenceStatuses: string;
}

interface AcceptServers {
  readonly bare: BenchServer;
  readonly empty: BenchServer;
  readonly seeded: BenchServer;
  /** bench/durable-baseline-server.ts: SigV4 verification and a durable append, nothing else. */
  readonly reference: BenchServer;
  /** inferq with `server.queueDurability: process-crash` (the 202 does not wait for fdatasync). */
  readonly processCrash: BenchServer;
}

/** Alternates the bare server, inferq with an empty queue, inferq with 1,000,000 queued, the durable reference server and inferq at process-crash durability. */
async function alternatingAcceptRounds(servers: AcceptServers, n: number): Promise<AcceptRound[]> {
  const out: AcceptRound[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    const bare = await acceptRate(servers.bare, n);
    const empty = await acceptRate(servers.empty, n);
    const seeded = await acceptRate(servers.seeded, n);
    const reference = await acceptRate(servers.reference, n);
    const processCrash = await acceptRate(servers.processCrash, n);
    out.push({ bare: bare.rate, empty: empty.rate, seeded: seeded.rate, reference: reference.rate, processCrash: processCrash.rate, statuses: `${empty.statuses} / ${seeded.statuses} / ${processCrash.statuses}`, referenceStatuses: reference.statuses });
  }
  return out;
}

const percent = (x: number): string => `${(x * 100).toFixed(0)}%`;

async function acceptRows(start: StartServer, baseline: BenchServer, n: number): Promise<(string | number)[][]> {
  const empty = await start(CONFIG(false));
  const seeded = await start(CONFIG(false), async (dataDir) => {
    mkdirSync(`${dataDir}/queue`, { recursive: true });
    const queue = openSqliteJobQueue({ file: `${dataDir}/queue/jobs.db` });
    await queue.seedForBenchmark(1_000_000, { endpoint: 'echo' });
    await queue.close();
  });
  const reference = await startProcess(['--import', 'tsx', join(ROOT, 'bench/durable-baseline-server.ts')]);
  const processCrash = await start(CONFIG(false, '', 'process-crash'));
  const rounds = await alternatingAcceptRounds({ bare: baseline, empty, seeded, reference, processCrash }, n);
  const rss = { empty: peakRssMiB(empty.pid), seeded: peakRssMiB(seeded.pid) };
  await empty.stop();
  await seeded.stop();
  await reference.stop();
  await processCrash.stop();
  const a = median(rounds.map((r) => r.empty));
  const e = median(rounds.map((r) => r.seeded));
  const ratios = rounds.map((r) => r.empty / r.bare);
  const seededRatios = rounds.map((r) => r.seeded / r.empty);
  const referenceRatios = rounds.map((r) => r.reference / r.bare);
  const processCrashRatios = rounds.map((r) => r.processCrash / r.bare);
  return [
    ['(a) accepted InvokeEndpointAsync/s (64 conns, distinct signatures)', a, median(rounds.map((r) => r.bare)), percent(median(ratios)), '≥ 5,000/s and ≥ 40%',
      `median of ${ROUNDS} alternating rounds; per-round ratios ${ratios.map(percent).join(' ')}`],
    ['(a) reference: bare node:http + SigV4 verification + durable append (group fdatasync)', median(rounds.map((r) => r.reference)), median(rounds.map((r) => r.bare)), percent(median(referenceRatios)), '—',
      `bench/durable-baseline-server.ts, same rounds; per-round ratios ${referenceRatios.map(percent).join(' ')}; ${[...new Set(rounds.map((r) => r.referenceStatuses))].join(', ')}`],
    ['(a) the same with server.queueDurability: process-crash (202 once in the write-ahead log; its fdatasync follows within 100 ms)', median(rounds.map((r) => r.processCrash)), median(rounds.map((r) => r.bare)), percent(median(processCrashRatios)), '—',
      `same rounds; per-round ratios ${processCrashRatios.map(percent).join(' ')}; survives SIGKILL; a power cut may lose about the last 0.1 s`],
    ['(e) accepted/s with 1,000,000 queued', e, a, `${percent(median(seededRatios))} of empty`, 'no worse than empty', `per-round ${seededRatios.map(percent).join(' ')}`],
    ['(e) peak RSS with 1,000,000 queued (MiB)', rss.seeded, rss.empty, '—', 'no worse than empty', `statuses ${[...new Set(rounds.map((r) => r.statuses))].join(', ')}`],
  ];
}

/** Requests per drain of row (b). */
const PIPELINE_REQUESTS = 20_000;

/** Runs row (b) alone (`--only=pipeline`), for this build and optionally another one, and prints it. */
export async function benchPipeline(builds: readonly PipelineBuild[], baseline: BenchServer, quick: boolean): Promise<void> {
  const rows = await pipelineRows(builds, baseline, PIPELINE_REQUESTS, quick ? 1 : 3);
  agent.destroy();
  printTable('Asynchronous pipeline end to end', ['metric', 'inferq', 'baseline', 'ratio', 'target', 'notes'], rows);
}

/** Runs the async benchmarks and prints their table; `compare` adds another build to row (b). */
export async function benchAsync(start: StartServer, baseline: BenchServer, quick: boolean, compare?: PipelineBuild): Promise<void> {
  const builds = [{ name: 'this build', start }, ...(compare ? [compare] : [])];
  const n = quick ? 10000 : 30000;
  const [a, reference, processCrash, ...e] = await acceptRows(start, baseline, n);
  const rows: (string | number)[][] = a && reference && processCrash ? [a, reference, processCrash] : [];
  rows.push(...(await pipelineRows(builds, baseline, PIPELINE_REQUESTS, quick ? 1 : 3)));
  const full = await start(CONFIG(true));
  const c = await latency(full, quick ? 100 : 500);
  rows.push(['(c) 202 → output written, p50 ms', c.p50, '—', '—', '≤ 5 ms', `p99 ${c.p99} ms`]);
  const d = await gibThroughModel(full);
  rows.push(['(d) peak RSS, 1 GiB input through the model (MiB)', d.rss, '—', '—', '≤ 300', `${d.seconds.toFixed(1)} s end to end`]);
  await full.stop();

  rows.push(...e);
  agent.destroy();
  printTable(`Asynchronous inference (${n} requests per rate run)`, ['metric', 'inferq', 'baseline', 'ratio', 'target', 'notes'], rows);
}

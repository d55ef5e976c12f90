/**
 * Test helper for the asynchronous inference flow: servers started from a config object (tracked,
 * with their model processes, for cleanup even after SIGKILL), raw signed SageMaker/S3 requests,
 * the status long poll, and reading the terminal objects of a request.
 */
import { readFileSync, rmSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { stringify } from 'yaml';
import { SageMakerRuntimeClient } from '@aws-sdk/client-sagemaker-runtime';
import { DEV, REGION } from './clients.js';
import { FIXTURE } from './fixture-model.js';
import { rawRequest, type Raw } from './http.js';
import { ROOT, startServer, tempDir, writeConfig, type ServerProcess, type StartOptions } from './server.js';
import { signHeaders } from './sigv4.js';

export { rawRequest, type Raw };

export { FIXTURE };

/** A `model:` entry running the fixture as a supervised command (extra env for FIXTURE_* settings). */
export function fixtureModel(env: Record<string, string> = {}): Record<string, unknown> {
  return { command: [process.execPath, '--import', 'tsx', FIXTURE], cwd: ROOT, env, pingIntervalSeconds: 0.5 };
}

/** A status document of the status API. */
export interface AsyncStatus {
  InferenceId: string;
  EndpointName: string;
  Status: 'Queued' | 'Running' | 'Succeeded' | 'Failed' | 'Expired' | 'Cancelled';
  Attempts: number;
  ReceivedTime?: string;
  StartedTime?: string;
  FinishedTime?: string;
  ExpiresTime?: string;
  InputLocation?: string;
  OutputLocation: string;
  FailureLocation: string;
  FailureReason?: string;
}

const TERMINAL = new Set(['Succeeded', 'Failed', 'Expired', 'Cancelled']);

/** Whether a status is final. */
export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

/** Signs (SigV4, development pair) and sends a request to `path` of the server at `base`. */
export async function signed(base: string, service: 's3' | 'sagemaker', method: string, path: string, headers: Record<string, string> = {}, body?: Buffer, onResponse?: (status: number, headers: IncomingHttpHeaders) => void): Promise<Raw> {
  const url = new URL(path, `${base}/`);
  const all = await signHeaders({ method, url, service, headers: { ...headers, 'content-length': String(body?.length ?? 0) }, ...(body ? { body } : {}) });
  return rawRequest(method, url, all, body, onResponse);
}

/** Raw InvokeEndpointAsync with the given `X-Amzn-SageMaker-*` headers (names as in the API: `content-type`, `inferenceid`, …). */
export function invokeRaw(base: string, endpoint: string, headers: Record<string, string>, body?: Buffer, onResponse?: (status: number, headers: IncomingHttpHeaders) => void): Promise<Raw> {
  return signed(base, 'sagemaker', 'POST', `/endpoints/${encodeURIComponent(endpoint)}/async-invocations`, headers, body, onResponse);
}

/** The SageMaker error of a raw answer. */
export function errorOf(raw: Raw): { type: string; message: string } {
  const type = String(raw.headers['x-amzn-errortype'] ?? '').split(':')[0] ?? '';
  const parsed = JSON.parse(raw.body.toString('utf8')) as { Message?: string };
  return { type, message: parsed.Message ?? '' };
}

/** GET the status of a request, optionally long-polling while it is `unless`. */
export async function getStatus(base: string, endpoint: string, id: string, wait?: { seconds: number; unless: string }): Promise<AsyncStatus> {
  const query = wait ? `?waitSeconds=${wait.seconds}&unlessStatus=${wait.unless}` : '';
  const res = await signed(base, 'sagemaker', 'GET', `/endpoints/${encodeURIComponent(endpoint)}/async-invocations/${encodeURIComponent(id)}${query}`);
  if (res.status !== 200) throw new Error(`status of ${endpoint}/${id}: ${res.status} ${res.body.toString('utf8')}`);
  return JSON.parse(res.body.toString('utf8')) as AsyncStatus;
}

/** Long-polls until the request leaves `from` (or the deadline passes); returns the last status. */
export async function awaitChange(base: string, endpoint: string, id: string, from: string, timeoutMs = 30_000): Promise<AsyncStatus> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    const status = await getStatus(base, endpoint, id, { seconds: Math.max(0, Math.min(20, left)), unless: from });
    if (status.Status !== from || Date.now() >= deadline) return status;
  }
}

/** Long-polls until the request is Succeeded, Failed or Expired; throws after `timeoutMs`. */
export async function awaitTerminal(base: string, endpoint: string, id: string, timeoutMs = 30_000): Promise<AsyncStatus> {
  const deadline = Date.now() + timeoutMs;
  let status = await getStatus(base, endpoint, id);
  while (!isTerminal(status.Status)) {
    const left = Math.ceil((deadline - Date.now()) / 1000);
    if (left <= 0) throw new Error(`request ${endpoint}/${id} still ${status.Status} after ${timeoutMs} ms`);
    status = await getStatus(base, endpoint, id, { seconds: Math.min(20, left), unless: status.Status });
  }
  return status;
}

/** Splits `s3://bucket/key`. */
export function splitS3(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!m) throw new Error(`not an s3 URI: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

function objectPath(uri: string): string {
  const { bucket, key } = splitS3(uri);
  return `/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** An object read from the store. */
export interface StoredObject {
  body: Buffer;
  contentType: string | undefined;
  metadata: Record<string, string>;
}

/** Reads an object by `s3://` URI; undefined when it does not exist. */
export async function readObject(base: string, uri: string): Promise<StoredObject | undefined> {
  const res = await signed(base, 's3', 'GET', objectPath(uri));
  if (res.status === 404) return undefined;
  if (res.status !== 200) throw new Error(`GET ${uri}: ${res.status} ${res.body.toString('utf8')}`);
  const metadata: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) if (k.startsWith('x-amz-meta-') && typeof v === 'string') metadata[k.slice(11)] = v;
  return { body: res.body, contentType: res.headers['content-type'], metadata };
}

/** Writes an object (creating the bucket if needed). */
export async function putObject(base: string, uri: string, body: Buffer, contentType = 'application/octet-stream'): Promise<void> {
  const { bucket } = splitS3(uri);
  const mb = await signed(base, 's3', 'PUT', `/${bucket}`);
  if (mb.status !== 200 && mb.status !== 409) throw new Error(`create bucket ${bucket}: ${mb.status} ${mb.body.toString('utf8')}`);
  const put = await signed(base, 's3', 'PUT', objectPath(uri), { 'content-type': contentType }, body);
  if (put.status !== 200) throw new Error(`PUT ${uri}: ${put.status} ${put.body.toString('utf8')}`);
}

/** The terminal objects of a request: asserts elsewhere that exactly one exists. */
export async function terminalObjects(base: string, status: Pick<AsyncStatus, 'OutputLocation' | 'FailureLocation'>): Promise<{ output: StoredObject | undefined; failure: StoredObject | undefined }> {
  const [output, failure] = await Promise.all([readObject(base, status.OutputLocation), readObject(base, status.FailureLocation)]);
  return { output, failure };
}

/** A JS SDK SageMaker Runtime client (unmodified) pointed at a server. */
export function runtimeClient(base: string): SageMakerRuntimeClient {
  return new SageMakerRuntimeClient({ endpoint: base, region: REGION, credentials: DEV, maxAttempts: 1 });
}

/** Pids of the model processes a server (or worker) logged. */
export function modelPids(output: string): number[] {
  return [...output.matchAll(/model process started pid=(\d+)/g)].map((m) => Number(m[1]));
}

/** Whether `pid` is alive and runs a model this suite started (never signals unrelated processes). */
export function isOurModel(pid: number): boolean {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmdline.includes('model-server.ts') || cmdline.includes('echo-server');
  } catch {
    return false;
  }
}

/** Kills the model processes still alive among `pids` (after a server was SIGKILLed, its model survives) and waits until they are gone. */
export async function killModels(pids: readonly number[]): Promise<void> {
  const ours = pids.filter(isOurModel);
  for (const pid of ours) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  // Not our children, so there is no exit event to await: poll /proc until they are reaped (or zombies).
  const deadline = Date.now() + 5000;
  while (ours.some(isOurModel)) {
    if (Date.now() > deadline) throw new Error(`model processes ${ours.filter(isOurModel).join(', ')} survived SIGKILL`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Servers, temp dirs and stray model processes of one test file, released by `cleanup()` in an
 * `after` hook: servers get SIGTERM (they stop their models), then any model still alive is killed.
 */
export class Harness {
  readonly servers: ServerProcess[] = [];
  readonly dirs: string[] = [];
  readonly pids = new Set<number>();
  readonly clients: SageMakerRuntimeClient[] = [];

  /** A fresh temp dir removed at cleanup. */
  dir(prefix = 'inferq-async-'): string {
    const d = tempDir(prefix);
    this.dirs.push(d);
    return d;
  }

  /** Writes `config` as YAML into a fresh dir and returns its path. */
  config(config: Record<string, unknown>): string {
    return writeConfig(this.dir('inferq-async-config-'), stringify(config));
  }

  /** Starts `inferq serve` with a config file (or none: zero-config) on `dataDir` (default: fresh). */
  async start(configFile?: string, dataDir?: string): Promise<ServerProcess> {
    return this.startWith({ ...(configFile ? { config: configFile } : {}), ...(dataDir ? { dataDir } : {}) });
  }

  /** Starts `inferq serve` with any {@link StartOptions}; stopped and its data dir removed at cleanup. */
  async startWith(options: StartOptions): Promise<ServerProcess> {
    const server = await startServer(options);
    this.servers.push(server);
    return server;
  }

  /** A JS SDK runtime client destroyed at cleanup. */
  client(base: string): SageMakerRuntimeClient {
    const c = runtimeClient(base);
    this.clients.push(c);
    return c;
  }

  /** Remembers the model pids a process logged so far. */
  track(output: string): void {
    for (const pid of modelPids(output)) this.pids.add(pid);
  }

  /** SIGKILLs a server and then its model processes (which would otherwise outlive it). */
  async kill(server: ServerProcess): Promise<void> {
    await server.kill();
    this.track(server.output());
    await killModels(modelPids(server.output()));
  }

  /** Releases everything, even when one step fails (the first failure is rethrown at the end). */
  async cleanup(): Promise<void> {
    const failures: unknown[] = [];
    for (const c of this.clients) c.destroy();
    for (const s of this.servers) {
      await s.stop().catch((err: unknown) => failures.push(err));
      this.track(s.output());
    }
    await killModels([...this.pids]).catch((err: unknown) => failures.push(err));
    for (const s of this.servers) s.cleanup();
    for (const d of this.dirs) rmSync(d, { recursive: true, force: true });
    if (failures.length > 0) throw failures[0];
  }
}

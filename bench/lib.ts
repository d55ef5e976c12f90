/** Benchmark helpers: a request signer, HTTP helpers with a keep-alive agent, RSS sampling, and table printing. */
import { Agent, request, type IncomingHttpHeaders } from 'node:http';
import { readFileSync } from 'node:fs';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { SignatureV4 } from '@smithy/signature-v4';
import type { Readable } from 'node:stream';

/** SHA-256 / HMAC-SHA256 in the shape @smithy/signature-v4 expects. */
export class NodeSha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key = secret === undefined || typeof secret === 'string' ? secret : ArrayBuffer.isView(secret) ? Buffer.from(secret.buffer, secret.byteOffset, secret.byteLength) : Buffer.from(secret);
    this.h = key === undefined ? createHash('sha256') : createHmac('sha256', key);
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    this.h.update(typeof data === 'string' ? data : ArrayBuffer.isView(data) ? Buffer.from(data.buffer, data.byteOffset, data.byteLength) : Buffer.from(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(this.h.digest());
  }
}

export const agent = new Agent({ keepAlive: true, maxSockets: 64 });

const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, sha256: NodeSha256, uriEscapePath: false, applyChecksum: false });

/** Signs an S3 request with UNSIGNED-PAYLOAD (the body is streamed). */
export async function signS3(method: string, url: string, headers: Record<string, string> = {}): Promise<Record<string, string>> {
  const u = new URL(url);
  const signed = await signer.sign({
    method, protocol: 'http:', hostname: u.hostname, port: Number(u.port), path: u.pathname, query: {},
    headers: { host: u.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD', ...headers },
  });
  return signed.headers;
}

export interface HttpResult { status: number; headers: IncomingHttpHeaders; bytes: number; text: string }

/** Sends one request; the body may be a Buffer or a stream; the response body is counted and dropped. */
export function send(method: string, url: string, headers: Record<string, string>, body?: Buffer | Readable): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      let bytes = 0;
      let text = '';
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        if (text.length < 65536) text += c.toString('utf8');
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, text }));
      res.on('error', reject);
    });
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else body.pipe(req);
  });
}

/** Peak resident set size (VmHWM) of a process, in MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) / 1024 : NaN;
}

/** Runs `task` with `concurrency` workers for `total` iterations; returns operations per second. */
export async function throughput(total: number, concurrency: number, task: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < total) await task(next++);
  }));
  return total / ((performance.now() - started) / 1000);
}

/** Prints a Markdown table. */
export function printTable(title: string, header: string[], rows: (string | number)[][]): void {
  const fmt = (v: string | number): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v);
  process.stdout.write(`\n### ${title}\n\n| ${header.join(' | ')} |\n| ${header.map(() => '---').join(' | ')} |\n`);
  for (const row of rows) process.stdout.write(`| ${row.map(fmt).join(' | ')} |\n`);
}

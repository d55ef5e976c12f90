/**
 * `inferq invoke ENDPOINT --input FILE [--content-type T] [--wait] [--out FILE]`: uploads the
 * input, calls InvokeEndpointAsync, and with --wait follows the request (queued → running → done,
 * with elapsed time) and writes or prints the result, or the failure with a non-zero exit.
 */
import { randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import type { ClientConfig } from '../config/index.js';
import { failIfError, readAll, send, ServerError } from './client.js';

/** Options of `inferq invoke`. */
export interface InvokeOptions {
  readonly endpoint: string;
  readonly input: string;
  readonly contentType?: string;
  readonly wait: boolean;
  readonly out?: string;
  readonly bucket: string;
  readonly inferenceId?: string;
}

/** Where progress and results go (injectable for tests). */
export interface InvokeIo {
  readonly stdout: Writable;
  readonly stderr: Writable & { isTTY?: boolean };
}

function encodePath(text: string): string {
  return text.split('/').map((s) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
}

async function upload(config: ClientConfig, bucket: string, key: string, file: string): Promise<void> {
  try {
    await failIfError(await send(config, 's3', 'PUT', `/${bucket}`, {}));
  } catch (err) {
    if (!(err instanceof ServerError && err.code === 'BucketAlreadyOwnedByYou')) throw err;
  }
  const size = statSync(file).size;
  const res = await failIfError(await send(config, 's3', 'PUT', `/${bucket}/${encodePath(key)}`, {}, { data: createReadStream(file), length: size }));
  res.body.resume();
}

interface Accepted {
  readonly InferenceId: string;
  readonly OutputLocation: string;
  readonly FailureLocation: string;
}

async function invokeAsync(config: ClientConfig, o: InvokeOptions, inputLocation: string): Promise<Accepted> {
  const headers: Record<string, string> = { 'x-amzn-sagemaker-inputlocation': inputLocation };
  if (o.contentType) headers['x-amzn-sagemaker-content-type'] = o.contentType;
  if (o.inferenceId) headers['x-amzn-sagemaker-inference-id'] = o.inferenceId;
  const res = await failIfError(await send(config, 'sagemaker', 'POST', `/endpoints/${encodeURIComponent(o.endpoint)}/async-invocations`, headers));
  const body = JSON.parse((await readAll(res.body)).toString('utf8')) as { InferenceId: string };
  return { InferenceId: body.InferenceId, OutputLocation: String(res.headers['x-amzn-sagemaker-outputlocation']), FailureLocation: String(res.headers['x-amzn-sagemaker-failurelocation']) };
}

interface Status {
  readonly Status: string;
  readonly FailureReason?: string;
}

/** On a terminal, keeps an `elapsed` counter running on the current status line. */
function liveTicker(io: InvokeIo, started: number, status: () => string): () => void {
  if (!io.stderr.isTTY) return () => undefined;
  const timer = setInterval(() => io.stderr.write(`\r[${((performance.now() - started) / 1000).toFixed(1)}s] ${status().toLowerCase()}…`), 200);
  return () => {
    clearInterval(timer);
    io.stderr.write('\r\x1b[K');
  };
}

async function followStatus(config: ClientConfig, endpoint: string, id: string, io: InvokeIo, started: number): Promise<Status> {
  let current = '';
  const stopTicker = liveTicker(io, started, () => current);
  try {
    return await pollStatus(config, endpoint, id, io, started, (s) => { current = s; });
  } finally {
    stopTicker();
  }
}

async function pollStatus(config: ClientConfig, endpoint: string, id: string, io: InvokeIo, started: number, onChange: (status: string) => void): Promise<Status> {
  let current = '';
  for (;;) {
    const query = current ? `?waitSeconds=20&unlessStatus=${current}` : '';
    const res = await failIfError(await send(config, 'sagemaker', 'GET', `/endpoints/${encodeURIComponent(endpoint)}/async-invocations/${encodeURIComponent(id)}${query}`, {}));
    const status = JSON.parse((await readAll(res.body)).toString('utf8')) as Status;
    if (status.Status !== current) {
      io.stderr.write(`${io.stderr.isTTY ? '\r\x1b[K' : ''}[${((performance.now() - started) / 1000).toFixed(3)}s] ${status.Status.toLowerCase()}\n`);
      current = status.Status;
      onChange(current);
    }
    if (!['Queued', 'Running'].includes(status.Status)) return status;
  }
}

function splitS3Uri(uri: string): { bucket: string; key: string } {
  const rest = uri.replace(/^s3:\/\//, '');
  const slash = rest.indexOf('/');
  return { bucket: rest.slice(0, slash), key: rest.slice(slash + 1) };
}

async function download(config: ClientConfig, uri: string, to: Writable): Promise<void> {
  const { bucket, key } = splitS3Uri(uri);
  const res = await failIfError(await send(config, 's3', 'GET', `/${bucket}/${encodePath(key)}`, {}));
  await pipeline(res.body, to, { end: to !== process.stdout && to !== process.stderr });
}

/** Runs the command; resolves with the exit code. */
export async function runInvoke(config: ClientConfig, o: InvokeOptions, io: InvokeIo): Promise<number> {
  const started = performance.now();
  const key = `${o.endpoint}/${randomUUID()}/${basename(o.input)}`;
  await upload(config, o.bucket, key, o.input);
  const accepted = await invokeAsync(config, o, `s3://${o.bucket}/${key}`);
  if (!o.wait) {
    io.stdout.write(`${JSON.stringify(accepted, null, 2)}\n`);
    return 0;
  }
  io.stderr.write(`InferenceId ${accepted.InferenceId}\n`);
  const status = await followStatus(config, o.endpoint, accepted.InferenceId, io, started);
  if (status.Status === 'Succeeded') {
    const target = o.out ? createWriteStream(o.out) : io.stdout;
    await download(config, accepted.OutputLocation, target);
    if (o.out) io.stderr.write(`result written to ${o.out} (${accepted.OutputLocation})\n`);
    return 0;
  }
  io.stderr.write(`request ${status.Status.toLowerCase()}: ${status.FailureReason ?? ''}\nfailure object ${accepted.FailureLocation}:\n`);
  await download(config, accepted.FailureLocation, io.stderr).catch((err: unknown) => io.stderr.write(`(could not read it: ${String(err)})\n`));
  return 1;
}

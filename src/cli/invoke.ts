/**
 * `inferq invoke ENDPOINT --input FILE [--content-type T] [--wait] [--out FILE]`: uploads the
 * input, calls InvokeEndpointAsync, and with --wait follows the request (queued → running → done,
 * with elapsed time) and writes or prints the result, or the failure with a non-zero exit.
 *
 * Input keys: with --inference-id the input goes to `ENDPOINT/SHA` where SHA hashes the InferenceId
 * and the file's SHA-256, so running the same command again uploads the same bytes to the same
 * InputLocation and the server answers the stored request (an idempotent replay); another file with
 * that id is a new InputLocation, which the server rejects as a conflicting InferenceId. Without an
 * id every run is a new request (`ENDPOINT/UUID/NAME`).
 */
import { createHash, randomUUID } from 'node:crypto';
import { accessSync, constants, createReadStream, createWriteStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { pipeline } from 'node:stream/promises';
import type { Writable } from 'node:stream';
import { ConfigError, resolveClientConfig, type ClientConfig } from '../config/light.js';
import { noExtra } from './args.js';
import { failIfError, readAll, send, ServerError } from './client.js';
import type { FlagValues } from './commands.js';

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

async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

/** Where the input goes, and the SHA-256 to sign the upload with (when it was computed). */
async function inputObject(o: InvokeOptions): Promise<{ key: string; sha256?: string }> {
  if (o.inferenceId === undefined) return { key: `${o.endpoint}/${randomUUID()}/${basename(o.input)}` };
  const sha256 = await sha256OfFile(o.input);
  return { key: `${o.endpoint}/${createHash('sha256').update(`${o.inferenceId}\n${sha256}`).digest('hex')}`, sha256 };
}

/** Uploads the file; creates the bucket only when the first attempt finds it missing. */
async function upload(config: ClientConfig, bucket: string, key: string, file: string, sha256: string | undefined): Promise<void> {
  const size = statSync(file).size;
  const put = async (): Promise<void> => {
    const body = { data: createReadStream(file), length: size, ...(sha256 !== undefined ? { sha256 } : {}) };
    (await failIfError(await send(config, 's3', 'PUT', `/${bucket}/${encodePath(key)}`, {}, body))).body.resume();
  };
  try {
    await put();
  } catch (err) {
    if (!(err instanceof ServerError && err.code === 'NoSuchBucket')) throw err;
    try {
      (await failIfError(await send(config, 's3', 'PUT', `/${bucket}`, {}))).body.resume();
    } catch (createErr) {
      // Another client created it meanwhile.
      if (!(createErr instanceof ServerError && createErr.code === 'BucketAlreadyOwnedByYou')) throw createErr;
    }
    await put();
  }
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
  let current = 'Queued';
  const stopTicker = liveTicker(io, started, () => current);
  try {
    return await pollStatus(config, endpoint, id, io, started, (s) => { current = s; });
  } finally {
    stopTicker();
  }
}

/**
 * Long-polls the status until it is terminal, printing each change. The 202 means the request is at
 * least queued, so the first poll already waits for a status other than Queued (a replay of a finished
 * request answers its terminal status at once).
 */
async function pollStatus(config: ClientConfig, endpoint: string, id: string, io: InvokeIo, started: number, onChange: (status: string) => void): Promise<Status> {
  let current = 'Queued';
  for (;;) {
    const query = `?waitSeconds=20&unlessStatus=${current}`;
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
  const { key, sha256 } = await inputObject(o);
  await upload(config, o.bucket, key, o.input, sha256);
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

/** Checks the input before anything is sent. @throws ConfigError when it is missing, unreadable or not a regular file */
function assertRegularFile(file: string): void {
  let isFile: boolean;
  try {
    isFile = statSync(file).isFile();
    accessSync(file, constants.R_OK);
  } catch (err) {
    throw new ConfigError('--input', `cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!isFile) throw new ConfigError('--input', `${file} is not a regular file`);
}

/** Runs `inferq invoke` with its parsed flags; resolves with the exit code. */
export function invokeCommand(rest: readonly string[], values: FlagValues<'invoke'>): Promise<number> {
  const [endpoint, ...extra] = rest;
  if (endpoint === undefined) throw new ConfigError('invoke', 'name the endpoint: inferq invoke ENDPOINT --input FILE');
  noExtra('invoke', extra);
  if (values.input === undefined) throw new ConfigError('--input', 'required: the file to send');
  assertRegularFile(values.input);
  const endpointUrl = values['endpoint-url'];
  return runInvoke(resolveClientConfig(endpointUrl !== undefined ? { endpointUrl } : {}), {
    endpoint,
    input: values.input,
    wait: values.wait ?? false,
    bucket: values.bucket ?? 'inferq-inputs',
    ...(values['content-type'] !== undefined ? { contentType: values['content-type'] } : {}),
    ...(values.out !== undefined ? { out: values.out } : {}),
    ...(values['inference-id'] !== undefined ? { inferenceId: values['inference-id'] } : {}),
  }, { stdout: process.stdout, stderr: process.stderr });
}

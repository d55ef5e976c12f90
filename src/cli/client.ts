/**
 * A minimal signed HTTP client for the CLI's own calls to an inferq (or AWS-compatible) server.
 * node:https (and TLS with it) is loaded only for an https URL: it is a noticeable part of the
 * start-up of `inferq invoke` and `status` (bench/cli.ts), which mostly talk plain http on loopback.
 */
import { request } from 'node:http';
import type { Readable } from 'node:stream';
import { signRequest } from '../auth/light.js';
import type { ClientConfig } from '../config/light.js';

/** A response with its body read (small bodies only) or streamed. */
export interface ClientResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: Readable;
}

/** An error answered by the server, with the code it reported. */
export class ServerError extends Error {
  override readonly name = 'ServerError';
  constructor(readonly status: number, readonly code: string, message: string) {
    super(`${code}: ${message}`);
  }
}

/** Reads a whole (small) body. */
export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

/** Turns a non-2xx response into a ServerError (SageMaker restJson, awsJson `__type` or S3 XML error shapes). */
export async function failIfError(res: ClientResponse): Promise<ClientResponse> {
  if (res.status < 300) return res;
  const text = (await readAll(res.body)).toString('utf8');
  const typeHeader = res.headers['x-amzn-errortype'];
  const xmlCode = /<Code>([^<]*)<\/Code>/.exec(text)?.[1];
  const xmlMessage = /<Message>([^<]*)<\/Message>/.exec(text)?.[1];
  let message = xmlMessage ?? text;
  let jsonType: string | undefined;
  try {
    const parsed = JSON.parse(text) as { Message?: unknown; message?: unknown; __type?: unknown };
    const m = parsed.Message ?? parsed.message;
    if (typeof m === 'string') message = m;
    if (typeof parsed.__type === 'string') jsonType = parsed.__type.slice(parsed.__type.lastIndexOf('#') + 1);
  } catch {
    // not JSON: keep the text
  }
  const code = (typeof typeHeader === 'string' ? typeHeader.split(':')[0] : undefined) ?? jsonType ?? xmlCode ?? String(res.status);
  throw new ServerError(res.status, code, message);
}

/** Sends one signed request; `body` is a Buffer or a stream of known length. */
export async function send(config: ClientConfig, service: 's3' | 'sagemaker', method: string, path: string, headers: Record<string, string>, body?: { data: Buffer | Readable; length: number; sha256?: string }): Promise<ClientResponse> {
  const url = new URL(path, `${config.endpointUrl}/`);
  const payloadHash = body?.sha256 ?? (body === undefined ? 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855' : 'UNSIGNED-PAYLOAD');
  const signed = signRequest({ method, url, headers: Object.assign({}, headers, { 'content-length': String(body?.length ?? 0) }), payloadHash, service, region: config.region, accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey });
  const doRequest = url.protocol === 'https:' ? (await import('node:https')).request : request;
  return new Promise((resolve, reject) => {
    const req = doRequest(url, { method, headers: signed }, (res) => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: res }));
    req.on('error', reject);
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body.data)) req.end(body.data);
    else body.data.on('error', (err) => req.destroy(err)).pipe(req);
  });
}

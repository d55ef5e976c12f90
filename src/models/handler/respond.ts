/**
 * HTTP plumbing of the handler server: reading a bounded request body, turning what `invoke`
 * returned (or threw) into a status, headers and bytes, and writing that response.
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { HandlerError, isHandlerResult, type HandlerBody, type HandlerContext } from './types.js';

/** A response ready to write. */
export interface Reply {
  readonly status: number;
  readonly contentType: string;
  readonly body: Buffer;
  readonly customAttributes?: string;
  /** Close the connection after the reply (the request body was not fully read). */
  readonly close?: boolean;
}

const CUSTOM_ATTRIBUTES = 'x-amzn-sagemaker-custom-attributes';
const INFERENCE_ID = 'x-amzn-sagemaker-inference-id';

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value.join(', ') : value;
}

/** The {@link HandlerContext} of a request, from its headers. */
export function contextOf(req: IncomingMessage): HandlerContext {
  const contentType = header(req, 'content-type');
  const accept = header(req, 'accept');
  const customAttributes = header(req, CUSTOM_ATTRIBUTES);
  const inferenceId = header(req, INFERENCE_ID);
  const context: { -readonly [K in keyof HandlerContext]: HandlerContext[K] } = {};
  if (contentType !== undefined) context.contentType = contentType;
  if (accept !== undefined) context.accept = accept;
  if (customAttributes !== undefined) context.customAttributes = customAttributes;
  if (inferenceId !== undefined) context.inferenceId = inferenceId;
  return context;
}

/**
 * Reads the whole request body. Rejects with a {@link HandlerError} 413 as soon as the declared
 * or received length passes `maxBytes` (without reading the rest).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (): HandlerError => new HandlerError(413, `request body exceeds ${maxBytes} bytes (see --max-body-bytes)`);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > maxBytes) return Promise.reject(tooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let received = 0;
    req.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received > maxBytes) {
        req.pause();
        req.removeAllListeners('data');
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks, received)));
    req.once('error', reject);
  });
}

function encode(body: HandlerBody, what: string): { bytes: Buffer; contentType: string } {
  if (Buffer.isBuffer(body)) return { bytes: body, contentType: 'application/octet-stream' };
  if (body instanceof Uint8Array) return { bytes: Buffer.from(body.buffer, body.byteOffset, body.byteLength), contentType: 'application/octet-stream' };
  if (typeof body === 'string') return { bytes: Buffer.from(body, 'utf8'), contentType: 'text/plain; charset=utf-8' };
  const json = JSON.stringify(body) as string | undefined;
  if (json === undefined) throw new Error(`${what} is not JSON-serialisable`);
  return { bytes: Buffer.from(json, 'utf8'), contentType: 'application/json' };
}

/**
 * The reply for what `invoke` resolved with: an explicit result as given; bytes as
 * `application/octet-stream`; strings as `text/plain; charset=utf-8`; other values as JSON.
 * Throws (→ 500) for `undefined` and for values JSON cannot represent.
 */
export function replyFor(value: unknown): Reply {
  if (value === undefined) throw new Error('invoke returned undefined; return the response body (or result(...))');
  if (!isHandlerResult(value)) {
    const { bytes, contentType } = encode(value as HandlerBody, 'the value invoke returned');
    return { status: 200, contentType, body: bytes };
  }
  const status = value.status ?? 200;
  if (!Number.isInteger(status) || status < 200 || status > 599) throw new Error(`result status must be an integer from 200 to 599, got ${String(status)}`);
  const { bytes, contentType } = encode(value.body, 'the result body');
  return {
    status,
    contentType: value.contentType ?? contentType,
    body: bytes,
    ...(value.customAttributes !== undefined ? { customAttributes: value.customAttributes } : {}),
  };
}

/** The status an error asks for: its numeric `statusCode` when 400 to 599, else 500. */
export function statusOf(err: unknown): number {
  const code = typeof err === 'object' && err !== null && 'statusCode' in err ? err.statusCode : undefined;
  return typeof code === 'number' && Number.isInteger(code) && code >= 400 && code <= 599 ? code : 500;
}

/** A JSON `{"message": …}` reply for an error, with its {@link statusOf} status. */
export function errorReply(err: unknown, close = false): Reply {
  const message = err instanceof Error ? err.message : String(err);
  return { status: statusOf(err), contentType: 'application/json', body: Buffer.from(JSON.stringify({ message })), close };
}

/** Writes a reply (with Content-Length) and ends the response. */
export function send(res: ServerResponse, reply: Reply): void {
  const headers: OutgoingHttpHeaders = { 'Content-Type': reply.contentType, 'Content-Length': reply.body.length };
  if (reply.customAttributes !== undefined) headers['X-Amzn-SageMaker-Custom-Attributes'] = reply.customAttributes;
  if (reply.close === true) headers['Connection'] = 'close';
  res.writeHead(reply.status, headers).end(reply.body);
}

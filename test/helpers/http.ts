/**
 * Test helper: one HTTP/1.1 request through node's client on a fresh connection (no agent unless given,
 * no retries), its answer collected in full, and reading any stream to the end.
 */
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';

/** A raw HTTP answer. */
export interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Sends one request and collects the answer. `onResponse` runs synchronously when the status line
 * arrives (before the body), e.g. to kill the server the instant a request is acknowledged.
 * `agent`: send on a pooled (e.g. kept-alive) connection instead of a fresh one.
 */
export function rawRequest(method: string, url: URL | string, headers: Record<string, string>, body?: Buffer | string, onResponse?: (status: number, headers: IncomingHttpHeaders) => void, agent: Agent | false = false): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent }, (res) => {
      onResponse?.(res.statusCode ?? 0, res.headers);
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Reads a stream (or any async iterable of bytes or strings) to the end. */
export async function readAll(stream: AsyncIterable<Uint8Array | string>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  return Buffer.concat(chunks);
}

/**
 * `GET /metrics`: the Prometheus scrape. It is served only to a GET of exactly `/metrics` (any
 * query) that carries no AWS signature: no SigV4/SigV2 `Authorization` header and no presigned
 * query. Every signed request for `/metrics` is the S3 API's (a bucket may be named "metrics":
 * ListObjects of it is signed, so it never reaches this route). An `Authorization: Bearer` header
 * is the scrape's own credential. When the server is bound to loopback the scrape is open (unless
 * a token is configured); on any other address it needs `server.metrics.bearerToken` (401 in the
 * clear error MetricsUnauthorized otherwise). `server.metrics.enabled: false` answers 404.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { InferqError } from '../errors/index.js';

/** What the metrics route serves; undefined in {@link HttpServerDeps} when metrics are off. */
export interface MetricsScrape {
  /** Renders every series (reads the scrape-time gauges first). */
  render(): Promise<{ readonly contentType: string; readonly body: string }>;
  /** `server.metrics.bearerToken`, if set. */
  readonly bearerToken?: string;
  /** Whether a scrape without the token is allowed (loopback bind and no token configured). */
  readonly open: boolean;
}

const PRESIGNED = /[?&](X-Amz-Signature|X-Amz-Credential|Signature|AWSAccessKeyId)=/i;

/** Whether `req` is a scrape of `/metrics` rather than an S3 request for a bucket named "metrics". */
export function isMetricsScrape(req: IncomingMessage): boolean {
  if (req.method !== 'GET') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if ((q < 0 ? url : url.slice(0, q)) !== '/metrics') return false;
  const auth = req.headers.authorization;
  if (auth !== undefined && !/^Bearer /i.test(auth)) return false;
  return q < 0 || !PRESIGNED.test(url.slice(q));
}

function tokenMatches(header: string | undefined, token: string): boolean {
  if (header === undefined || !/^Bearer /i.test(header)) return false;
  const given = Buffer.from(header.slice('Bearer '.length).trim());
  const wanted = Buffer.from(token);
  return given.length === wanted.length && timingSafeEqual(given, wanted);
}

function sendText(res: ServerResponse, status: number, base: readonly string[], text: string, extra: readonly string[] = [], contentType = 'text/plain; charset=utf-8'): void {
  const body = Buffer.from(text);
  res.writeHead(status, [...base, ...extra, 'Content-Type', contentType, 'Content-Length', String(body.length)]).end(body);
}

/** Serves a scrape (see the module header): 404 when metrics are off, 401 without the token it needs. */
export async function serveMetrics(scrape: MetricsScrape | undefined, req: IncomingMessage, res: ServerResponse, base: readonly string[]): Promise<void> {
  if (scrape === undefined) {
    sendText(res, 404, base, 'GET /metrics is off (server.metrics.enabled: false).\n');
    return;
  }
  const authorized = scrape.bearerToken !== undefined ? tokenMatches(req.headers.authorization, scrape.bearerToken) : scrape.open;
  if (!authorized) {
    const err = new InferqError('MetricsUnauthorized', scrape.bearerToken !== undefined
      ? 'GET /metrics needs the header Authorization: Bearer <server.metrics.bearerToken>.'
      : 'GET /metrics on a server bound to a non-loopback address needs server.metrics.bearerToken in the config (scrapes then send Authorization: Bearer <token>), or server.metrics.enabled: false.');
    sendText(res, err.httpStatus, base, `${err.code}: ${err.message}\n`, ['WWW-Authenticate', 'Bearer realm="inferq metrics"']);
    return;
  }
  const { contentType, body } = await scrape.render();
  sendText(res, 200, base, body, [], contentType);
}

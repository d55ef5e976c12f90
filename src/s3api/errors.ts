/** Renders an {@link InferqError} as the S3 XML error document clients parse. */
import type { ServerResponse } from 'node:http';
import type { InferqError } from '../errors/index.js';
import { escapeXmlText } from './xml.js';

/** Writes the S3 error response (no body for HEAD requests, as S3 does). */
export function sendS3Error(res: ServerResponse, err: InferqError, resource: string, requestId: string, isHead: boolean): void {
  const status = err.httpStatus;
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  for (const name of res.getHeaderNames()) if (!['x-amz-request-id', 'x-amz-id-2', 'x-amzn-requestid', 'connection', 'server'].includes(name)) res.removeHeader(name);
  if (isHead || status === 304) {
    res.writeHead(status, { 'Content-Length': 0 });
    res.end();
    return;
  }
  const details = Object.entries(err.details).map(([k, v]) => `<${k}>${escapeXmlText(String(v))}</${k}>`).join('');
  const xml = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${escapeXmlText(err.spec.s3)}</Code><Message>${escapeXmlText(err.message)}</Message>${details}<Resource>${escapeXmlText(resource)}</Resource><RequestId>${requestId}</RequestId></Error>`;
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': body.length });
  res.end(body);
}

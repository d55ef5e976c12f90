/** What every S3 handler receives, and small response helpers. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthResult } from '../auth/index.js';
import type { ObjectStore } from '../objects/index.js';
import type { Logger } from '../util/index.js';
import type { S3Address } from './route.js';
import type { XmlNode } from './xml.js';

/** The canonical id (and display name) of the one owner of every bucket and object. */
export const OWNER_ID = 'inferq';

/** The one owner of every bucket and object, as ListBuckets and listings report it. */
export const OWNER_XML: XmlNode = [['ID', OWNER_ID], ['DisplayName', OWNER_ID]];

/** Dependencies of the S3 front. */
export interface S3ApiDeps {
  readonly store: ObjectStore;
  /** Region reported by GetBucketLocation. */
  readonly region: string;
  readonly logger: Logger;
  /** Largest single PUT or part. @default 5 GiB */
  readonly maxObjectBytes?: number;
  /** Requests whose Host is `<bucket>.<this>` are virtual-hosted; empty turns it off. @default localhost */
  readonly virtualHostDomain?: string;
}

/** One authenticated S3 request. */
export interface S3Request {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly auth: AuthResult;
  readonly address: S3Address;
  readonly deps: S3ApiDeps;
}

/** The bucket of a request that must name one. */
export function bucketOf(r: S3Request): string {
  return r.address.bucket ?? '';
}

/** The key of a request that must name one. */
export function keyOf(r: S3Request): string {
  return r.address.key ?? '';
}

/** Sends an XML document. */
export function sendXml(res: ServerResponse, status: number, xml: string): void {
  const body = Buffer.from(xml, 'utf8');
  res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': body.length });
  res.end(body);
}

/** Sends a response without a body. */
export function sendEmpty(res: ServerResponse, status: number, headers: Record<string, string> = {}): void {
  res.writeHead(status, Object.assign({}, headers, { 'Content-Length': 0 }));
  res.end();
}

/** The first value of a header. */
export function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

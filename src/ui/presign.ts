/**
 * Presigned S3 GET URLs for the dashboard's download links: signed with the signed-in session's
 * own access key (SigV4 query signing, `host` the only signed header), so a link works exactly
 * like one from `aws s3 presign` and expires on its own.
 */
import { createHash, createHmac } from 'node:crypto';
import { buildCanonicalRequest, deriveSigningKey, SIGV4_ALGORITHM } from '../auth/index.js';

/** How long a dashboard download link is valid. */
export const LINK_EXPIRES_SECONDS = 15 * 60;

function rfc3986(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** What a presigned link is made of. */
export interface PresignInput {
  /** `s3://bucket/key`. */
  readonly location: string;
  /** The Host the browser reaches inferq by (the request's Host header). */
  readonly host: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly now: Date;
}

/** The path-style URL path (no scheme or host) of a presigned GET of `location`; undefined when it is no `s3://` URI. */
export function presignedPath(input: PresignInput): string | undefined {
  const m = /^s3:\/\/([^/]+)\/(.+)$/s.exec(input.location);
  if (!m) return undefined;
  const rawPath = `/${m[1]!}/${m[2]!.split('/').map(rfc3986).join('/')}`;
  const amzDate = input.now.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const scope = `${day}/${input.region}/s3/aws4_request`;
  const query = [
    `X-Amz-Algorithm=${SIGV4_ALGORITHM}`,
    `X-Amz-Credential=${rfc3986(`${input.accessKeyId}/${scope}`)}`,
    `X-Amz-Date=${amzDate}`,
    `X-Amz-Expires=${LINK_EXPIRES_SECONDS}`,
    'X-Amz-SignedHeaders=host',
  ].join('&');
  const canonical = buildCanonicalRequest(
    { method: 'GET', rawUrl: `${rawPath}?${query}`, headers: { host: input.host } },
    { service: 's3', signedHeaders: ['host'], payloadHash: 'UNSIGNED-PAYLOAD', presigned: true },
  );
  const stringToSign = [SIGV4_ALGORITHM, amzDate, scope, createHash('sha256').update(canonical).digest('hex')].join('\n');
  const signature = createHmac('sha256', deriveSigningKey(input.secretAccessKey, day, input.region, 's3')).update(stringToSign).digest('hex');
  return `${rawPath}?${query}&X-Amz-Signature=${signature}`;
}

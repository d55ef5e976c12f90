/**
 * Client-side SigV4 signing for inferq's own commands (`inferq invoke`), built on the same
 * canonical-request code the verifier uses.
 */
import { buildCanonicalRequest } from './sigv4.js';
import { deriveSigningKey, hmacHex, sha256Hex, SIGV4_ALGORITHM } from './keys.js';

/** A request to sign. Header names must be lower-case. */
export interface RequestToSign {
  readonly method: string;
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  /** Hex SHA-256 of the body, or `UNSIGNED-PAYLOAD`. */
  readonly payloadHash: string;
  readonly service: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly date?: Date;
}

/** Returns the headers to send: the given ones plus host, x-amz-date, x-amz-content-sha256 and authorization. */
export function signRequest(r: RequestToSign): Record<string, string> {
  const amzDate = (r.date ?? new Date()).toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
  const day = amzDate.slice(0, 8);
  const headers: Record<string, string> = Object.assign({}, r.headers, { host: r.url.host, 'x-amz-date': amzDate, 'x-amz-content-sha256': r.payloadHash });
  const signedHeaders = Object.keys(headers).sort();
  const canonical = buildCanonicalRequest(
    { method: r.method, rawUrl: `${r.url.pathname}${r.url.search}`, headers },
    { service: r.service, signedHeaders, payloadHash: r.payloadHash, presigned: false },
  );
  const scope = `${day}/${r.region}/${r.service}/aws4_request`;
  const stringToSign = [SIGV4_ALGORITHM, amzDate, scope, sha256Hex(canonical)].join('\n');
  const signature = hmacHex(deriveSigningKey(r.secretAccessKey, day, r.region, r.service), stringToSign);
  headers['authorization'] = `${SIGV4_ALGORITHM} Credential=${r.accessKeyId}/${scope}, SignedHeaders=${signedHeaders.join(';')}, Signature=${signature}`;
  return headers;
}

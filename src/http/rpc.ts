/**
 * Serving the small RPC fronts at the edge: the awsJson1_1 APIs (the SageMaker control plane,
 * Application Auto Scaling) and STS (awsQuery). The body is read (bounded, on the shared budget of unverified bytes), the signature
 * verified against it, the operation run and its answer written. Errors are thrown for the
 * dispatcher to render in the caller's protocol.
 */
import { hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Claims, SignableRequest, SigV4Verifier } from '../auth/index.js';
import { InferqError } from '../errors/index.js';
import { answerSts } from '../sts/index.js';
import { readBoundedBody, type ReadBodyOptions } from './body.js';

/** An awsJson1_1 API (the control plane, Application Auto Scaling): runs the operation an X-Amz-Target names. */
export interface AwsJsonApi {
  serves(target: string): boolean;
  handle(target: string, body: Buffer): Promise<Record<string, unknown>>;
}

/** Largest RPC request body. */
const MAX_RPC_BODY = 1024 * 1024;

/** How an RPC body is read: the shared budget of unverified bytes, and `100 Continue`. */
export type RpcBodyOptions = Pick<ReadBodyOptions, 'budget' | 'beforeRead'>;

/** Reads the body and verifies the request's signature over it; resolves to a copy of the body. */
async function verifiedBody(verifier: SigV4Verifier, req: IncomingMessage, request: SignableRequest, claims: Claims, read: RpcBodyOptions): Promise<Buffer> {
  const checked = verifier.check(request, claims);
  const body = await readBoundedBody(req, MAX_RPC_BODY, () => new InferqError('EntityTooLarge', `The request body is larger than ${MAX_RPC_BODY} bytes.`), read);
  try {
    const bodySha256Hex = hash('sha256', body.bytes, 'hex');
    const auth = verifier.verifyChecked(request, checked, { bodySha256Hex });
    if (auth.payload.kind === 'sha256' && auth.payload.hash !== bodySha256Hex) {
      throw new InferqError('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
    return Buffer.from(body.bytes);
  } finally {
    body.release();
  }
}

function write(res: ServerResponse, contentType: string, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  res.writeHead(200, { 'Content-Type': contentType, 'Content-Length': bytes.length });
  res.end(bytes);
}

/** Verifies and serves one awsJson call; resolves to its operation name. */
export async function serveAwsJson(
  api: AwsJsonApi, verifier: SigV4Verifier, req: IncomingMessage, res: ServerResponse, request: SignableRequest, claims: Claims, target: string, read: RpcBodyOptions,
): Promise<string> {
  const body = await verifiedBody(verifier, req, request, claims, read);
  write(res, 'application/x-amz-json-1.1', JSON.stringify(await api.handle(target, body)));
  return target.slice(target.indexOf('.') + 1);
}

/** Verifies and serves one STS call (form body, or the query string); resolves to its operation name. */
export async function serveSts(
  verifier: SigV4Verifier, req: IncomingMessage, res: ServerResponse, request: SignableRequest, claims: Claims, account: string, requestId: string, read: RpcBodyOptions,
): Promise<string> {
  const body = await verifiedBody(verifier, req, request, claims, read);
  const url = req.url ?? '/';
  const params = body.length > 0 ? new URLSearchParams(body.toString('utf8')) : new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const answer = answerSts(params, claims.accessKeyId, account, requestId);
  write(res, answer.contentType, answer.body);
  return 'sts:GetCallerIdentity';
}

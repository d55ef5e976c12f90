/**
 * Serving an awsJson1_1 front (the SageMaker control plane) at the edge: the body is read
 * (bounded, on the shared budget of unverified bytes), the signature verified against it, the
 * operation run and its JSON answer written. Errors are thrown for the dispatcher to render in
 * the JSON protocol (`__type`).
 */
import { hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Claims, SignableRequest, SigV4Verifier } from '../auth/index.js';
import type { ControlPlaneApi } from '../controlplane/index.js';
import { InferqError } from '../errors/index.js';
import { readBoundedBody, type ReadBodyOptions } from './body.js';

/** Largest control-plane request body. */
const MAX_JSON_BODY = 1024 * 1024;

/** Verifies and serves one control-plane call; resolves to its operation name. */
export async function serveControlPlane(
  api: ControlPlaneApi, verifier: SigV4Verifier, req: IncomingMessage, res: ServerResponse, request: SignableRequest, claims: Claims, target: string,
  read: Pick<ReadBodyOptions, 'budget' | 'beforeRead'>,
): Promise<string> {
  const checked = verifier.check(request, claims);
  const body = await readBoundedBody(req, MAX_JSON_BODY, () => new InferqError('ControlPlaneValidation', `The request body is larger than ${MAX_JSON_BODY} bytes.`), read);
  let bytes: Buffer;
  try {
    const bodySha256Hex = hash('sha256', body.bytes, 'hex');
    const auth = verifier.verifyChecked(request, checked, { bodySha256Hex });
    if (auth.payload.kind === 'sha256' && auth.payload.hash !== bodySha256Hex) {
      throw new InferqError('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
    bytes = Buffer.from(body.bytes);
  } finally {
    body.release();
  }
  const answer = Buffer.from(JSON.stringify(await api.handle(target, bytes)), 'utf8');
  res.writeHead(200, { 'Content-Type': 'application/x-amz-json-1.1', 'Content-Length': answer.length });
  res.end(answer);
  return target.slice(target.indexOf('.') + 1);
}

/**
 * The one parse of a request's authentication: which mechanism it uses (SigV4 `Authorization`
 * header, SigV4 presigned query, SigV2 presigned query) and its claims. The HTTP edge routes on
 * the result and hands the same result to verification, so the service a request is routed by is
 * always the service its signature is checked for. Pure parsing; no secret is involved.
 */
import { InferqError } from '../errors/index.js';
import { amzQueryParams, claimsFromHeader, claimsFromQuery, firstHeader, splitUrl, type Claims } from './claims.js';
import { isSigV2Param, parseSigV2Query, type SigV2Claims } from './sigv2.js';
import type { SignableRequest } from './types.js';

/** The authentication a request carries, parsed once. */
export type RequestCredentials =
  | { readonly kind: 'sigv4'; readonly claims: Claims }
  | { readonly kind: 'sigv2'; readonly claims: SigV2Claims };

function onlyOne(): InferqError {
  return new InferqError('InvalidArgument', 'Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.', {
    ArgumentName: 'Authorization',
  });
}

/** The `Authorization` header, refusing a request that sends it more than once. */
function authorizationHeader(req: SignableRequest): string | undefined {
  const all = req.headersDistinct?.['authorization'];
  if (all !== undefined && all.length > 1) throw new InferqError('IncompleteSignature', 'The Authorization header is given more than once.');
  return firstHeader(req.headers.authorization);
}

/**
 * Parses the request's authentication. Throws MissingAuthentication when it carries none,
 * InvalidArgument when it carries more than one mechanism, IncompleteSignature when what it
 * carries is malformed or ambiguous.
 */
export function parseRequestCredentials(req: SignableRequest): RequestCredentials {
  const header = authorizationHeader(req);
  const { params } = splitUrl(req.rawUrl);
  const q = params.length === 0 ? undefined : amzQueryParams(params);
  const v4Query = q !== undefined && (q.has('X-Amz-Algorithm') || q.has('X-Amz-Credential') || q.has('X-Amz-Signature'));
  const v2Query = params.some((p) => isSigV2Param(p.rawName) && p.rawName !== 'Expires');
  if ((header !== undefined ? 1 : 0) + (v4Query ? 1 : 0) + (v2Query ? 1 : 0) > 1) throw onlyOne();
  if (header !== undefined) return { kind: 'sigv4', claims: claimsFromHeader(req, header) };
  if (q !== undefined && v4Query) return { kind: 'sigv4', claims: claimsFromQuery(q) };
  if (v2Query) return { kind: 'sigv2', claims: parseSigV2Query(req.rawUrl.slice(req.rawUrl.indexOf('?') + 1)) };
  throw new InferqError('MissingAuthentication', 'Request is missing Authentication Token');
}

/** The credential-scope service the request claims (`s3` for SigV2, which only S3 accepts). */
export function claimedService(credentials: RequestCredentials): string {
  return credentials.kind === 'sigv2' ? 's3' : credentials.claims.service;
}

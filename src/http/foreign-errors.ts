/**
 * Calls to AWS services or operations inferq does not serve (STS but GetCallerIdentity, IAM, SNS,
 * EC2, DynamoDB, SQS, Lambda, SageMaker control-plane operations other than models, endpoint
 * configs, endpoints and tags, Application Auto Scaling operations other than scalable targets
 * and scaling policies, …): which protocol the caller speaks, and the refusal in
 * that protocol's own error shape, so every AWS client prints a clean "not served" message
 * instead of failing to parse the answer.
 *
 * Protocols, as the SDKs tell them apart: `X-Amz-Target` or an `application/x-amz-json-*` body is
 * awsJson (`__type` in the body); an `Action=` form or query is awsQuery (`<ErrorResponse>` XML;
 * EC2 has its own `<Response><Errors>`); CloudFront and Route 53 are restXml; anything else is
 * restJson (`x-amzn-ErrorType` header). A signed call is verified first, so a caller with wrong
 * credentials learns that, in the same shape; a verified one gets 400 `UnknownOperation`
 * (awsQuery `InvalidAction`, JSON `UnknownOperationException`, as AWS answers unknown actions).
 */
import { hash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Claims, SignableRequest, SigV4Verifier } from '../auth/index.js';
import { InferqError, type ErrorCode } from '../errors/index.js';
import { readBoundedBody, type ReadBodyOptions } from './body.js';

/** How a foreign call's body is read: the shared budget of unverified bytes, and `100 Continue`. */
export type ForeignBodyOptions = Pick<ReadBodyOptions, 'budget' | 'beforeRead'>;

/** The wire protocol of a foreign call. */
export type ForeignProtocol = 'query' | 'ec2' | 'json' | 'rest-json' | 'rest-xml';

/** A call to a service or operation inferq does not serve. */
export interface ForeignCall {
  readonly protocol: ForeignProtocol;
  /** The credential-scope service, or undefined for an unsigned call. */
  readonly service: string | undefined;
}

/** Largest body read from a foreign call (to verify its signature and find its Action). */
const MAX_FOREIGN_BODY = 1024 * 1024;
/** Scope services whose APIs are restXml. */
const REST_XML_SERVICES: ReadonlySet<string> = new Set(['cloudfront', 'route53']);
/**
 * Scope services whose APIs are restJson. A REST-shaped call (no Action, no X-Amz-Target) under
 * any other foreign scope is not taken for that service's call: it is refused as a request for
 * the S3 or SageMaker path it names, with the wrong scope (403 in that API's shape).
 */
const REST_JSON_SERVICES: ReadonlySet<string> = new Set(['lambda', 'apigateway', 'bedrock', 'eks', 'es', 'glacier', 'iot', 'kafka', 'appsync']);
const FORM = 'application/x-www-form-urlencoded';

function headerText(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function splitUrl(req: IncomingMessage): { path: string; query: string } {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/**
 * The foreign call `req` is, given the credential-scope service it claims (undefined when it is
 * unsigned), or undefined when it is S3 or SageMaker Runtime traffic. `X-Amz-Target` on `POST /`
 * is foreign under any scope (the SageMaker control plane is `sagemaker` + `SageMaker.*`);
 * unsigned calls are foreign only when their shape says so (`POST /` as awsJson or awsQuery); a
 * REST-shaped call is foreign only under a known REST service scope.
 */
export function foreignCall(req: IncomingMessage, service: string | undefined): ForeignCall | undefined {
  if (service === 's3') return undefined;
  const contentType = (headerText(req, 'content-type') ?? '').toLowerCase();
  const { path, query } = splitUrl(req);
  const rootPost = req.method === 'POST' && path === '/';
  if (rootPost && (req.headers['x-amz-target'] !== undefined || contentType.startsWith('application/x-amz-json-'))) return { protocol: 'json', service };
  if (service === 'sagemaker') return undefined;
  if (service === undefined) return rootPost && contentType.startsWith(FORM) ? { protocol: 'query', service } : undefined;
  if (contentType.startsWith('application/x-amz-json-')) return { protocol: 'json', service };
  if (service === 'ec2') return { protocol: 'ec2', service };
  if (contentType.startsWith(FORM) || /(?:^|&)Action=/.test(query)) return { protocol: 'query', service };
  if (REST_XML_SERVICES.has(service)) return { protocol: 'rest-xml', service };
  return REST_JSON_SERVICES.has(service) ? { protocol: 'rest-json', service } : undefined;
}

/** The operation a foreign call names: its Action, its X-Amz-Target operation, or method and path. */
function operationOf(req: IncomingMessage, call: ForeignCall, body: Buffer): string {
  const target = headerText(req, 'x-amz-target');
  let name: string;
  if (target !== undefined) name = target.slice(target.lastIndexOf('.') + 1) || target;
  else if (call.protocol === 'query' || call.protocol === 'ec2') {
    const form = headerText(req, 'content-type')?.toLowerCase().startsWith(FORM) ? new URLSearchParams(body.toString('utf8')) : undefined;
    name = form?.get('Action') ?? new URLSearchParams(splitUrl(req).query).get('Action') ?? '(no Action)';
  } else name = `${req.method ?? 'GET'} ${splitUrl(req).path}`;
  return shown(name);
}

/** Client text as it may appear in a message: printable ASCII, at most 100 characters. */
function shown(text: string): string {
  const cleaned = text.replace(/[^\x20-\x7e]/g, '?');
  return cleaned.length > 100 ? `${cleaned.slice(0, 100)}…` : cleaned;
}

/**
 * Refuses a foreign call: an unsigned one is MissingAuthentication; a signed one has its body read
 * (bounded) and its signature verified, then is UnknownOperation naming the service and operation.
 * @throws InferqError always.
 */
export async function refuseForeignCall(verifier: SigV4Verifier, req: IncomingMessage, request: SignableRequest, claims: Claims, call: ForeignCall, read: ForeignBodyOptions): Promise<never> {
  if (call.service === undefined) throw new InferqError('MissingAuthentication', 'Request is missing Authentication Token');
  const checked = verifier.check(request, claims);
  const body = await readBoundedBody(req, MAX_FOREIGN_BODY, () => new InferqError('EntityTooLarge', `Request body is larger than ${MAX_FOREIGN_BODY} bytes.`), read);
  try {
    const bodySha256Hex = hash('sha256', body.bytes, 'hex');
    const declared = headerText(req, 'x-amz-content-sha256');
    verifier.verifyChecked(request, checked, declared === undefined ? { bodySha256Hex } : {});
    if (declared !== undefined && /^[0-9a-fA-F]{64}$/.test(declared) && declared.toLowerCase() !== bodySha256Hex) {
      throw new InferqError('XAmzContentSHA256Mismatch', 'The provided x-amz-content-sha256 header does not match what was computed.');
    }
  } finally {
    body.release();
  }
  const target = headerText(req, 'x-amz-target');
  const via = target === undefined ? '' : ` (X-Amz-Target ${shown(target)})`;
  throw new InferqError('UnknownOperation', `inferq does not serve the ${shown(call.service)} operation ${operationOf(req, call, body.bytes)}${via}; it serves only Amazon S3 (scope s3), the Amazon SageMaker Runtime and control plane (scope sagemaker), Application Auto Scaling of SageMaker variants (scope application-autoscaling) and STS GetCallerIdentity.`);
}

/** awsQuery codes where they differ from the JSON names of the catalogue. */
const QUERY_CODES: Partial<Record<ErrorCode, string>> = {
  UnknownOperation: 'InvalidAction',
  InvalidAccessKeyId: 'InvalidClientTokenId',
  SignatureDoesNotMatch: 'SignatureDoesNotMatch',
  RequestTimeTooSkewed: 'RequestExpired',
  RequestExpired: 'RequestExpired',
  MissingAuthentication: 'MissingAuthenticationToken',
  IncompleteSignature: 'IncompleteSignature',
  AccessDenied: 'AccessDenied',
  ServiceUnavailable: 'ServiceUnavailable',
  InternalError: 'InternalFailure',
};

/** Characters XML 1.0 cannot carry at all (not even as references). */
const NOT_XML = /[^\t\n\r\x20-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu;

function xmlText(text: string): string {
  return text.replace(NOT_XML, '\ufffd').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c);
}

function queryCode(err: InferqError): string {
  return QUERY_CODES[err.code] ?? err.spec.sagemaker.replace(/Exception$/, '');
}

/** The body and content type of the error in the call's protocol. */
function render(call: ForeignCall, err: InferqError, requestId: string, jsonType: string): { body: string; contentType: string; errorType?: string } {
  const message = xmlText(err.message);
  switch (call.protocol) {
    case 'query':
    case 'rest-xml': {
      const type = err.httpStatus >= 500 ? 'Receiver' : 'Sender';
      return { contentType: 'text/xml', body: `<?xml version="1.0" encoding="UTF-8"?>\n<ErrorResponse><Error><Type>${type}</Type><Code>${xmlText(queryCode(err))}</Code><Message>${message}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>` };
    }
    case 'ec2':
      return { contentType: 'text/xml', body: `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${xmlText(queryCode(err))}</Code><Message>${message}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>` };
    case 'json':
      return { contentType: jsonType, body: JSON.stringify({ __type: err.spec.sagemaker, message: err.message }) };
    case 'rest-json':
      return { contentType: 'application/json', body: JSON.stringify({ message: err.message }), errorType: err.spec.sagemaker };
  }
}

/** Writes `err` in the protocol of a foreign call (request id and Server headers are already set). */
export function sendForeignError(req: IncomingMessage, res: ServerResponse, call: ForeignCall, err: InferqError, requestId: string): void {
  if (res.headersSent) {
    res.destroy(err);
    return;
  }
  const requested = (headerText(req, 'content-type') ?? '').toLowerCase();
  const jsonType = requested.startsWith('application/x-amz-json-1.0') ? 'application/x-amz-json-1.0' : 'application/x-amz-json-1.1';
  const { body, contentType, errorType } = render(call, err, requestId, jsonType);
  const bytes = Buffer.from(body, 'utf8');
  res.writeHead(err.httpStatus, { 'Content-Type': contentType, 'Content-Length': bytes.length, ...(errorType === undefined ? {} : { 'X-Amzn-ErrorType': errorType }) });
  res.end(bytes);
}
